"""The push: a phone's changes, stored in one transaction (sync contract, push rules 1-8).

Order of work, all inside the caller's transaction:
1. take the sync stamp first: it locks the clock, so pushes (and REST writes to synced rows)
   are serialized and every row written here carries one stamp;
2. load the rows the pushed ids already name, and clean every record against its columns;
3. the conflict check (rule 4): an `updated` record whose row changed on the server after
   `last_pulled_at` stops the whole push with 409, unless it only repeats what is stored
   (a retry of an update that was applied but whose answer was lost). A `created` record
   whose id exists never conflicts: the phone's version of a record it made wins (see
   `_check_conflicts`);
4. per record: ownership, what the table lets a phone do, required columns and foreign keys;
   a record that fails goes to the quarantine, whole, with its reasons (rule 5);
5. facts the server owns (visit verification, ping flags), then bulk writes: one upsert per
   table, one insert for the quarantine.
"""
import json
import math
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from fieldsales.changes.clock import take_stamp
from fieldsales.changes.models import AccessChange
from fieldsales.common import DAY_MS, ID_MESSAGE, is_valid_id, now_ms
from fieldsales.customers import service as customers
from fieldsales.customers.models import Customer
from fieldsales.errors import ApiError
from fieldsales.extensions import db
from fieldsales.locations import flags as ping_flags
from fieldsales.locations.models import LocationPing
from fieldsales.orders.models import Order, OrderLine
from fieldsales.products.models import Product
from fieldsales.sync.models import QuarantinedRecord
from fieldsales.sync.tables import (
    TABLES, HugeInt, Invalid, SyncTable, product_active,
)
from fieldsales.visits import facts as visit_facts
from fieldsales.visits.models import Visit

OPERATIONS = ("created", "updated", "deleted")
# Neutral: it must not tell a rep that the id exists for someone else.
_NOT_YOURS = "This id cannot be written by you."
_CHUNK = 900  # ids per IN (...) list
_MAX_DEPTH = 20  # nesting kept in a quarantined payload


def bad_request(message: str, details: dict | None = None) -> ApiError:
    return ApiError(400, "bad_request", message, details)


def parse(body: bytes) -> dict:
    """The changes object from a raw body, whatever its content type, or 400 saying why not."""
    try:
        try:
            data = json.loads(body, parse_constant=_not_json)
        except json.JSONDecodeError:
            raise
        except ValueError:  # maybe an integer past int()'s digit limit: parse it as text
            data = json.loads(body, parse_constant=_not_json, parse_int=_parse_int)
    except (ValueError, RecursionError) as error:
        raise bad_request(f"The body is not valid JSON: {error}.") from None
    if not isinstance(data, dict):
        raise bad_request("The body must be a changes object: "
                          '{"<table>": {"created": [...], "updated": [...], "deleted": [...]}}.')
    for name, table_changes in data.items():
        if name not in TABLES:
            raise bad_request(f"Unknown table '{name}'.",
                              {"table": name, "known_tables": list(TABLES)})
        if not isinstance(table_changes, dict):
            raise bad_request(f"'{name}' must be an object of created, updated and deleted lists.",
                              {"table": name})
        unknown = sorted(set(table_changes) - set(OPERATIONS))
        if unknown:
            raise bad_request(f"'{name}' has unknown keys: {', '.join(unknown)}; "
                              "expected created, updated and deleted.", {"table": name})
        for operation in OPERATIONS:
            items = table_changes.get(operation, [])
            where = f"{name}.{operation}"
            if not isinstance(items, list):
                raise bad_request(f"'{where}' must be a list.", {"path": where})
            wanted = str if operation == "deleted" else dict
            for index, item in enumerate(items):
                if not isinstance(item, wanted):
                    kind = "an id string" if wanted is str else "a record object"
                    raise bad_request(f"'{where}[{index}]' must be {kind}.",
                                      {"path": f"{where}[{index}]"})
    return data


def _not_json(name: str):
    raise ValueError(f"{name} is not a JSON value")


def _parse_int(text: str):
    try:
        return int(text)
    except ValueError:
        return HugeInt(text)


def _storable(value, depth: int = 0):
    """A pushed value as a JSON column can store it: a number too large for a float (1e999
    parses as infinity) or for int() is kept as its text, and absurd nesting is cut (records
    are flat)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, HugeInt):
        return value.digits
    if isinstance(value, (dict, list)) and depth >= _MAX_DEPTH:
        return "(nested too deeply to keep)"
    if isinstance(value, dict):
        return {key: _storable(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list):
        return [_storable(item, depth + 1) for item in value]
    return value


def _canonical(payload) -> str:
    return json.dumps(payload, sort_keys=True)


def _unchanged(value, stored) -> bool:
    # WatermelonDB gives a non-optional text column "" where the server has none.
    return value == stored or (value in (None, "") and stored in (None, ""))


def _short_id(value) -> str | None:
    # An invalid id is named (answer, quarantine) by its first 200 characters.
    return value[:200] if isinstance(value, str) else None


def _storable_id(value) -> str | None:
    # PostgreSQL text cannot hold NUL.
    short = _short_id(value)
    return short.replace("\x00", "\ufffd") if short is not None else None


@dataclass
class Outcome:
    accepted: dict[str, int] = field(default_factory=dict)
    quarantined: list[dict] = field(default_factory=list)

    def body(self) -> dict:
        return {"accepted": self.accepted,
                "quarantined": [{"table": q["table"], "id": _short_id(q["id"]),
                                 "errors": q["errors"]}
                                for q in self.quarantined]}


def apply(*, user_id: str, changes: dict, last_pulled_at: int | None,
          check_conflicts: bool = True, keep_quarantined: bool = True) -> Outcome:
    """Store a parsed changes object for the rep `user_id`; the caller commits.

    Raises 409 `sync_conflict` (nothing written) when rule 4 applies. `keep_quarantined=False`
    reports refused records without storing them (used by a replay).
    """
    return _Push(user_id=user_id, last_pulled_at=last_pulled_at).run(
        changes, check_conflicts=check_conflicts, keep_quarantined=keep_quarantined)


def _chunks(values: list, size: int = _CHUNK):
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _dialect_insert(table):
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


class _Push:
    def __init__(self, *, user_id: str, last_pulled_at: int | None):
        self.user_id = user_id
        self.last_pulled_at = last_pulled_at
        self.now = now_ms()
        self.config = current_app.config
        self.outcome = Outcome()
        self.existing: dict[str, dict[str, dict]] = {}  # table -> id -> stored row
        self.rows: dict[str, dict[str, dict]] = {}  # table -> id -> row to write
        self.deletes: dict[str, list[str]] = {}
        self.refs: dict[str, dict[str, object]] = {}  # referenced rows by kind

    # -- the steps ---------------------------------------------------------------------------

    def run(self, changes: dict, *, check_conflicts: bool, keep_quarantined: bool) -> Outcome:
        self.stamp = take_stamp(db.session)
        records = self._clean(changes)
        if check_conflicts:
            self._check_conflicts(records)
        self._load_refs(records)
        for name, table in TABLES.items():
            self.outcome.accepted[name] = 0
            self.rows[name] = {}
            for operation, raw, record_id, values, errors in records.get(name, ()):
                if operation == "deleted":
                    self._delete(table, raw, errors)
                else:
                    self._upsert(table, operation, raw, record_id, values, errors)
        self._flag_pings()
        self._write()
        if keep_quarantined and self.outcome.quarantined:
            self._keep_quarantined()
        return self.outcome

    def _clean(self, changes: dict) -> dict[str, list]:
        """Per table: (operation, raw, id, cleaned values, errors), and the stored rows."""
        records: dict[str, list] = {}
        for name, table in TABLES.items():
            table_changes = changes.get(name) or {}
            items = []
            for operation in OPERATIONS:
                for raw in table_changes.get(operation, ()):
                    if operation == "deleted":
                        errors = {} if is_valid_id(raw) else {"id": [ID_MESSAGE]}
                        items.append((operation, raw, raw, {}, errors))
                        continue
                    record_id = raw.get("id")
                    errors = {}
                    if not is_valid_id(record_id):
                        errors["id"] = [ID_MESSAGE]
                        if not isinstance(record_id, str):
                            record_id = None  # a list or object is no key to look up
                    values = {}
                    for column, clean in table.cleaners:
                        if column in raw:
                            try:
                                values[column] = clean(raw[column])
                            except Invalid as error:
                                errors[column] = [str(error)]
                    items.append((operation, raw, record_id, values, errors))
            if items:
                records[name] = items
                ids = {item[2] for item in items if not item[4].get("id")}
                self.existing[name] = self._load_existing(table, list(ids))
        return records

    def _load_existing(self, table: SyncTable, ids: list[str]) -> dict[str, dict]:
        t = table.table
        columns = [t.c.id, *(t.c[c.name] for c in table.writable)]
        if "changed_seq" in t.c:
            columns += [t.c.changed_seq, t.c.deleted_at]
        if table.creator:
            columns.append(t.c[table.creator])
        if table.name == "order_lines":
            owner = Order.rep_id.label("_owner")
            base = select(*columns, owner).join(Order, Order.id == OrderLine.order_id)
        elif table.owner:
            base = select(*columns, t.c[table.owner].label("_owner"))
        else:
            base = select(*columns)
        found = {}
        for chunk in _chunks(ids):
            for row in db.session.execute(base.where(t.c.id.in_(chunk))):
                found[row.id] = dict(row._mapping)
        return found

    def _check_conflicts(self, records: dict) -> None:
        """Rule 4: `updated` rows changed on the server since the phone's last pull.

        Only phone-owned columns are compared, so server changes to read-only ones (an order's
        status after a delivery) never make a plain retry conflict. A `created` record whose id
        exists is not checked: a stock WatermelonDB client keeps no `_changed` for a record it
        still holds as created, so after a 409 its pull would overwrite what the rep changed
        since the lost answer; the phone's version of a record it made wins instead.
        """
        since = -1 if self.last_pulled_at is None else self.last_pulled_at
        conflicts = []
        for name, items in records.items():
            table = TABLES[name]
            if table.append_only or not table.ops:
                continue
            ids = []
            for operation, _raw, record_id, values, errors in items:
                row = self.existing[name].get(record_id) if operation == "updated" else None
                if (row is None or row.get("_owner") != self.user_id
                        or row["changed_seq"] <= since or row["deleted_at"] is not None):
                    continue  # a removed row is not overwritten: the record is quarantined
                if errors or not self._same(values, row):
                    ids.append(record_id)
            if ids:
                conflicts.append({"table": name, "ids": sorted(set(ids))})
        if conflicts:
            raise ApiError(409, "sync_conflict",
                           "Some records changed on the server since your last pull: "
                           "pull, then push again.", {"conflicts": conflicts})

    @staticmethod
    def _same(values: dict, row: dict) -> bool:
        return all(row.get(name) == value for name, value in values.items())

    def _load_refs(self, records: dict) -> None:
        """The rows pushed foreign keys point to, loaded once per kind."""
        wanted: dict[str, set] = {"customers": set(), "products": set(), "visits": set(),
                                  "orders": set()}
        for name, items in records.items():
            existing = self.existing[name]
            for ref_column, kind in TABLES[name].refs.items():
                for _op, _raw, record_id, values, _errors in items:
                    # An update may leave a key out: then the stored value must still hold.
                    value = (values[ref_column] if ref_column in values
                             else (existing.get(record_id) or {}).get(ref_column))
                    if value:
                        wanted[kind].add(value)
        customers = list(wanted["customers"])
        self.refs["customers"] = {}
        if customers:
            revoked = set()
            since = self.now - self.config["SYNC_WINDOW_DAYS"] * DAY_MS
            for chunk in _chunks(customers):
                revoked |= set(db.session.scalars(select(AccessChange.record_id).where(
                    AccessChange.user_id == self.user_id, AccessChange.table_name == "customers",
                    AccessChange.granted.is_(False), AccessChange.stamp > since,
                    AccessChange.record_id.in_(chunk))))
                for row in db.session.execute(
                        select(Customer.id, Customer.assigned_rep_id, Customer.latitude,
                               Customer.longitude, Customer.geofence_radius_m, Customer.kind)
                        .where(Customer.id.in_(chunk), Customer.deleted_at.is_(None))):
                    # Assigned to the rep, or taken away from them within the sync window
                    # (work done offline before a reassignment is still the rep's work).
                    if row.assigned_rep_id == self.user_id or row.id in revoked:
                        self.refs["customers"][row.id] = row
        self.refs["products"] = {}
        for chunk in _chunks(list(wanted["products"])):
            for row in db.session.execute(select(Product.id).where(Product.id.in_(chunk),
                                                                   product_active())):
                self.refs["products"][row.id] = row
        for kind, model in (("visits", Visit), ("orders", Order)):
            self.refs[kind] = {}
            for chunk in _chunks(list(wanted[kind])):
                for row in db.session.execute(select(model.id).where(
                        model.id.in_(chunk), model.rep_id == self.user_id,
                        model.deleted_at.is_(None))):
                    self.refs[kind][row.id] = row

    # -- one record --------------------------------------------------------------------------

    def _refuse(self, table: SyncTable, operation: str, raw, record_id, errors: dict) -> None:
        payload = {"id": raw} if operation == "deleted" else _storable(raw)
        self.outcome.quarantined.append({
            "table": table.name, "id": record_id if isinstance(record_id, str) else None,
            "operation": operation, "payload": payload, "errors": errors})

    def _keep_quarantined(self) -> None:
        """One insert of the refused records, less those a pending entry already holds (same
        table, id, operation and payload): a retried push does not pile up copies."""
        Q = QuarantinedRecord
        entries = [{"user_id": self.user_id, "table_name": q["table"],
                    "record_id": _storable_id(q["id"]), "operation": q["operation"],
                    "payload": q["payload"], "errors": q["errors"], "received_at": self.now,
                    "status": "pending"} for q in self.outcome.quarantined]
        ids = {entry["record_id"] for entry in entries}
        pending = select(Q.table_name, Q.record_id, Q.operation, Q.payload).where(
            Q.user_id == self.user_id, Q.status == "pending")
        queries = [pending.where(Q.record_id.in_(chunk)) for chunk in _chunks(sorted(ids - {None}))]
        if None in ids:
            queries.append(pending.where(Q.record_id.is_(None)))
        held = set()  # compared as canonical JSON: in Python, False == 0 and 1 == 1.0
        for query in queries:
            for row in db.session.execute(query):
                held.add((row.table_name, row.record_id, row.operation, _canonical(row.payload)))
        new = []
        for entry in entries:
            key = (entry["table_name"], entry["record_id"], entry["operation"],
                   _canonical(entry["payload"]))
            if key not in held:
                held.add(key)
                new.append(entry)
        if new:
            db.session.execute(insert(QuarantinedRecord), new)

    def _delete(self, table: SyncTable, record_id: str, errors: dict) -> None:
        row = self.existing.get(table.name, {}).get(record_id)
        if not errors and row is None and record_id not in self.rows[table.name]:
            self.outcome.accepted[table.name] += 1  # rule 2: nothing to delete
            return
        if not errors:
            if not table.ops:
                errors = {"_schema": [f"Phones may not change {table.name}."]}
            elif row is not None and row.get("_owner") != self.user_id:
                errors = {"id": [_NOT_YOURS]}
            elif "delete" not in table.ops:
                errors = {"_schema": [f"Phones may not delete {table.name}."]}
        if errors:
            self._refuse(table, "deleted", record_id, record_id, errors)
            return
        self.deletes.setdefault(table.name, []).append(record_id)
        self.outcome.accepted[table.name] += 1

    def _upsert(self, table: SyncTable, operation: str, raw: dict, record_id, values: dict,
                errors: dict) -> None:
        if not table.ops:
            self._refuse(table, operation, raw, record_id,
                         {"_schema": [f"Phones may not change {table.name}."]})
            return
        if errors.get("id"):
            self._refuse(table, operation, raw, record_id, errors)
            return
        earlier = self.rows[table.name].get(record_id)
        stored = self.existing[table.name].get(record_id)
        current = earlier or stored
        if current is not None and current.get("_owner") != self.user_id:
            self._refuse(table, operation, raw, record_id,
                         {"id": [_NOT_YOURS]})
            return
        if stored is not None and stored.get("deleted_at") is not None:
            # Written, it would count as accepted yet never be seen again: keep it instead.
            errors = {**errors, "_schema": ["This record was removed on the server."]}
        if errors:
            self._refuse(table, operation, raw, record_id, errors)
            return
        if current is not None and self._same(values, current):
            self.outcome.accepted[table.name] += 1  # a retry: already stored as sent
            return
        if current is not None and table.creator and current[table.creator] != self.user_id:
            refused = {name: ["Reps may not change this field."] for name, value in values.items()
                       if name not in table.rep_may_change and not _unchanged(value, current[name])}
            if refused:
                self._refuse(table, operation, raw, record_id, refused)
                return
        if current is not None and "update" not in table.ops:
            self._refuse(table, operation, raw, record_id, {
                "_schema": [f"{table.name} cannot be changed once created; "
                            "this id already exists with other values."]})
            return
        if current is not None:
            row = {**current, **values}
        else:
            row = {col.name: col.default for col in table.writable}
            row.update(values)
            row["_owner"] = self.user_id
            if table.creator:
                row[table.creator] = self.user_id
        missing = {col.name: ["Missing."] for col in table.writable
                   if not col.nullable and row.get(col.name) is None}
        errors = missing or self._check_refs(table, row)
        if errors:
            self._refuse(table, operation, raw, record_id, errors)
            return
        row["id"] = record_id
        row["_new"] = stored is None
        if table.name == "visits":
            row.update(visit_facts.compute(
                visit=row, customer=self.refs["customers"][row["customer_id"]],
                accuracy_cap_m=self.config["GEOFENCE_ACCURACY_CAP_M"]))
        self.rows[table.name][record_id] = row
        self.outcome.accepted[table.name] += 1

    def _check_refs(self, table: SyncTable, row: dict) -> dict:
        errors = {}
        messages = {
            "customers": "No customer with this id is assigned to you.",
            "products": "No active product with this id.",
            "visits": "No visit of yours with this id.",
            "orders": "No order of yours with this id.",
        }
        for column, kind in table.refs.items():
            value = row.get(column)
            if value is None:
                continue
            if value not in self.refs[kind] and value not in self.rows.get(kind, {}):
                errors[column] = [messages[kind]]
        return errors

    # -- facts and writes --------------------------------------------------------------------

    def _flag_pings(self) -> None:
        new = [row for row in self.rows["location_pings"].values() if row["_new"]]
        self.ping_updates = []
        if new:
            self.ping_updates = ping_flags.flag(
                new=new, stored_around=self._stored_pings, received_at=self.now,
                limits=ping_flags.Limits.from_config(self.config))

    def _stored_pings(self, first: int, last: int) -> list[dict]:
        """The rep's stored pings recorded in [first, last], the previous fix before them, and
        those after them up to the next fix that can be a previous one (see `flags.flag`)."""
        t = LocationPing
        columns = (t.id, t.recorded_at, t.latitude, t.longitude, t.flags,
                   t.distance_from_previous_m, t.implied_speed_mps)
        mine = t.rep_id == self.user_id
        trusted = ~t.flags.contains("future") & ~t.flags.contains("stale")
        chainable = trusted & ~t.flags.contains("inaccurate")
        next_chainable = (select(t.recorded_at).where(mine, chainable, t.recorded_at > last)
                          .order_by(t.recorded_at, t.id).limit(1).scalar_subquery())
        queries = [
            select(*columns).where(mine, t.recorded_at.between(first, last)),
            select(*columns).where(mine, chainable, t.recorded_at < first)
            .order_by(t.recorded_at.desc(), t.id.desc()).limit(1),
            select(*columns).where(mine, trusted, t.recorded_at > last,
                                   t.recorded_at <= func.coalesce(next_chainable, last)),
        ]
        found = {}
        for query in queries:
            for row in db.session.execute(query):
                found[row.id] = dict(row._mapping)
        return list(found.values())

    def _write(self) -> None:
        stamp, now = self.stamp, self.now
        for name, rows in self.rows.items():
            if not rows:
                continue
            table = TABLES[name]
            t = table.table
            writable = [col.name for col in table.writable]
            payload = []
            for row in rows.values():
                item = {"id": row["id"], **{column: row[column] for column in writable}}
                if table.owner:
                    item[table.owner] = self.user_id
                if "changed_seq" in t.c:
                    item.update(created_seq=stamp, changed_seq=stamp, received_at=now)
                payload.append(item)
            extra_update = self._server_columns(name, rows, payload)
            statement = _dialect_insert(t)
            if name == "location_pings" or not any(not row["_new"] for row in rows.values()):
                statement = statement.on_conflict_do_nothing(index_elements=["id"])
            else:
                columns = writable + extra_update + ["changed_seq"]
                statement = statement.on_conflict_do_update(
                    index_elements=["id"],
                    set_={column: statement.excluded[column] for column in columns},
                    where=t.c[table.owner] == statement.excluded[table.owner])
            db.session.execute(statement, payload)
        if self.ping_updates:
            t = LocationPing.__table__
            db.session.execute(
                update(t).where(t.c.id == bindparam("_id")).values(
                    flags=bindparam("flags"), flagged=bindparam("flagged"),
                    distance_from_previous_m=bindparam("distance_from_previous_m"),
                    implied_speed_mps=bindparam("implied_speed_mps")),
                [{**u, "_id": u.pop("id")} for u in self.ping_updates])
        for name, ids in self.deletes.items():
            t = TABLES[name].table
            for chunk in _chunks(ids):
                db.session.execute(update(t).where(t.c.id.in_(chunk), t.c.deleted_at.is_(None))
                                   .values(deleted_at=now, changed_seq=stamp))
        self._promote_prospects()

    def _server_columns(self, name: str, rows: dict, payload: list) -> list[str]:
        """Fill in the columns the server owns; returns those an update rewrites too."""
        if name == "tasks":
            for item in payload:
                item["created_by_id"] = self.user_id
        elif name == "visits":
            for item, row in zip(payload, rows.values()):
                item.update(verified=row["verified"], distance_m=row["distance_m"],
                            time_on_site_s=row["time_on_site_s"])
            return ["verified", "distance_m", "time_on_site_s"]
        elif name == "orders":
            for item in payload:
                item["status"] = "open"
        elif name == "order_lines":
            for item in payload:
                item["delivered_quantity"] = 0.0
        elif name == "location_pings":
            for item, row in zip(payload, rows.values()):
                item.update(received_at=self.now, flags=row["flags"], flagged=row["flagged"],
                            distance_from_previous_m=row["distance_from_previous_m"],
                            implied_speed_mps=row["implied_speed_mps"])
        return []

    def _promote_prospects(self) -> None:
        customers.promote_prospects(customer_ids=[
            row["customer_id"] for row in self.rows["orders"].values() if row["_new"]])
