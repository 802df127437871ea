"""Storing a push: the server's facts, then bulk writes (one upsert per table, the stored rows
the facts change, the removals, `after_write`), and one insert for the quarantine."""
import json
import math
from collections.abc import Mapping

from sqlalchemy import bindparam, func, insert, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite

from fieldsales.errors import ApiError
from fieldsales.events.service import emit_select, json_payload
from fieldsales.extensions import db
from fieldsales.feedback.models import Feedback
from fieldsales.orders.models import Order
from fieldsales.sync.models import QuarantinedRecord
from fieldsales.sync.push.load import chunks
from fieldsales.sync.push.parse import PushedRecord
from fieldsales.sync.push.rules import Writes
from fieldsales.sync.tables import TABLES, HugeInt
from fieldsales.users.models import User
from fieldsales.visits.models import Visit

COMPLAINT_RATING = 2  # feedback rated this or less is a complaint (feedback.complaint)

_MAX_DEPTH = 20  # nesting kept in a quarantined payload


def store(*, writes: Writes, user_id: str, stamp: int, now: int, config: Mapping,
          refs: dict[str, dict], stored: dict[str, dict[str, dict]] | None = None) -> None:
    """Write the accepted rows, all stamped `stamp`, in table order (parents first), and
    the events they cause (`push_events`; `stored`: the rows as they were before)."""
    changed = {}  # table -> stored rows the facts change
    for name, rows in writes.rows.items():
        table = TABLES[name]
        if table.facts is not None and rows:
            changed[name] = table.facts(rows=list(rows.values()), user_id=user_id, now=now,
                                        config=config, refs=refs)
    for name, rows in writes.rows.items():
        if rows:
            _upsert(name, rows, user_id=user_id, stamp=stamp, now=now)
    for name, updates in changed.items():
        if updates:  # each names its row by the whole key (pings: id and recorded_at)
            t = TABLES[name].table
            key = [column.name for column in t.primary_key]
            columns = [column for column in updates[0] if column not in key]
            db.session.execute(
                update(t).where(*(t.c[k] == bindparam(f"_{k}") for k in key)).values(
                    {column: bindparam(column) for column in columns}),
                [{**{c: v for c, v in u.items() if c not in key},
                  **{f"_{k}": u[k] for k in key}} for u in updates])
    for name, ids in writes.deletes.items():
        t = TABLES[name].table
        for chunk in chunks(ids):
            db.session.execute(update(t).where(t.c.id.in_(chunk), t.c.deleted_at.is_(None))
                               .values(deleted_at=now, changed_seq=stamp))
    for name, rows in writes.rows.items():
        table = TABLES[name]
        if table.after_write is not None:
            table.after_write(rows=list(rows.values()), user_id=user_id)
    push_events(writes=writes, stored=stored or {}, user_id=user_id, now=now)


def push_events(*, writes: Writes, stored: dict[str, dict[str, dict]], user_id: str,
                now: int) -> None:
    """The events of a push, each once for its change: `order.created` and
    `visit.checked_in` for ids the server did not hold, `visit.completed` for a visit whose
    check-out is new (with verified and distance_m as the facts set them),
    `feedback.complaint` for new feedback rated 2 or less. A retry of the same push finds
    the rows stored and emits nothing again. Set-based: one INSERT .. SELECT per type."""
    def new_ids(name: str, keep=lambda row: True) -> list[str]:
        held = stored.get(name, {})
        return [i for i, row in writes.rows.get(name, {}).items()
                if i not in held and keep(row)]

    held_visits = stored.get("visits", {})
    completed = [i for i, row in writes.rows.get("visits", {}).items()
                 if row.get("check_out_at") is not None
                 and (held_visits.get(i) or {}).get("check_out_at") is None]
    team = select(User.team_id).where(User.id == user_id).scalar_subquery()
    o, v, f = Order.__table__.c, Visit.__table__.c, Feedback.__table__.c
    wanted = (
        ("order.created", o, new_ids("orders"),
         dict(order_id=o.id, rep_id=o.rep_id, customer_id=o.customer_id,
              ordered_at=o.ordered_at, requested_delivery_at=o.requested_delivery_at)),
        ("visit.checked_in", v, new_ids("visits"),
         dict(visit_id=v.id, rep_id=v.rep_id, customer_id=v.customer_id,
              check_in_at=v.check_in_at)),
        ("visit.completed", v, completed,
         dict(visit_id=v.id, rep_id=v.rep_id, customer_id=v.customer_id,
              check_in_at=v.check_in_at, check_out_at=v.check_out_at, outcome=v.outcome,
              verified=v.verified, distance_m=v.distance_m)),
        ("feedback.complaint", f, new_ids("feedback", lambda row: row.get("rating") is not None
                                          and row["rating"] <= COMPLAINT_RATING),
         dict(feedback_id=f.id, rep_id=f.rep_id, customer_id=f.customer_id,
              rating=f.rating)),
    )
    for type_, c, ids, fields in wanted:
        for chunk in chunks(ids):
            emit_select(type=type_, rows=select(
                team.label("team_id"), c.id.label("subject_id"),
                json_payload(**fields).label("payload"), literal(now).label("occurred_at"))
                .where(c.id.in_(chunk)))


def _dialect_insert(table):
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def _upsert(name: str, rows: dict[str, dict], *, user_id: str, stamp: int, now: int) -> None:
    table = TABLES[name]
    t = table.table
    writable = [col.name for col in table.writable]
    server = {**table.insert_values}  # the same for every row
    if table.owner:
        server[table.owner] = user_id
    if table.creator:
        server[table.creator] = user_id  # only a new row takes it (not rewritten below)
    if "changed_seq" in t.c:
        server.update(created_seq=stamp, changed_seq=stamp)
    if "received_at" in t.c:
        server["received_at"] = now
    facts = table.server_columns
    payload = [{"id": row["id"], **{column: row[column] for column in writable}, **server,
                **{column: row[column] for column in facts}}
               for row in rows.values()]
    if "create" not in table.ops:  # rows the server made (planned visits): updated in place
        assert table.owner is not None
        columns = writable + list(facts)
        db.session.execute(
            update(t).where(t.c.id == bindparam("_id"),
                            t.c[table.owner] == bindparam("_owner_id"))
            .values({**{column: bindparam(column) for column in columns}, "changed_seq": stamp}),
            [{"_id": row["id"], "_owner_id": user_id, **{c: row[c] for c in columns}}
             for row in rows.values()])
        return
    statement = _dialect_insert(t)
    # The table's key: `id`, or (id, recorded_at) for pings (partitioned on PostgreSQL).
    key = [column.name for column in t.primary_key]
    if all(row["_new"] for row in rows.values()):
        statement = statement.on_conflict_do_nothing(index_elements=key)
    else:  # rows that exist (tables phones may update): rewritten while still the rep's
        columns = writable + list(facts) + ["changed_seq"]
        statement = statement.on_conflict_do_update(
            index_elements=key,
            set_={column: statement.excluded[column] for column in columns},
            where=t.c[table.owner] == statement.excluded[table.owner])
    db.session.execute(statement, payload)


# -- the quarantine ----------------------------------------------------------------------------

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
    return json.dumps(payload, sort_keys=True, ensure_ascii=False)


def _size(text: str) -> int:
    # Bytes as UTF-8; a lone surrogate ("\ud800" in the JSON) is counted, not refused.
    return len(text.encode("utf-8", "surrogatepass"))


def _storable_id(value) -> str | None:
    # Named by its first 200 characters, as in the answer; PostgreSQL text cannot hold NUL.
    return value[:200].replace("\x00", "\ufffd") if isinstance(value, str) else None


def _payload(record: PushedRecord):
    """What the quarantine keeps of a refused record: a deletion's id, or the record less the
    keys that are no column of its table (the server ignores them; junk is not kept)."""
    if record.operation == "deleted":
        return {"id": record.raw}
    assert isinstance(record.raw, dict)  # parse_body refuses any other record
    keys = record.table.record_keys
    return _storable({key: value for key, value in record.raw.items() if key in keys})


def keep_quarantined(*, refused: list[PushedRecord], user_id: str, now: int,
                     config: Mapping) -> None:
    """One insert of the refused records, less those a pending entry already holds (same
    table, id, operation and payload): a retried push does not pile up copies.

    Refuses the whole push (the caller rolls back, the phone keeps its records) when the
    new entries would take the rep past the quarantine's caps: 413 `quarantine_too_large`
    when they alone pass them, else 429 `quarantine_full`; pending entries are counted with
    one query."""
    Q = QuarantinedRecord
    entries = []
    for r in refused:
        payload, errors = _payload(r), r.errors
        canonical = _canonical(payload)
        entries.append({"user_id": user_id, "table_name": r.table.name,
                        "record_id": _storable_id(r.record_id), "operation": r.operation,
                        "payload": payload, "errors": errors, "received_at": now,
                        "status": "pending",
                        "size_bytes": _size(canonical) + _size(_canonical(errors)),
                        "_key": canonical})
    ids = {entry["record_id"] for entry in entries}
    pending = select(Q.table_name, Q.record_id, Q.operation, Q.payload).where(
        Q.user_id == user_id, Q.status == "pending")
    queries = [pending.where(Q.record_id.in_(chunk)) for chunk in chunks(sorted(ids - {None}))]
    if None in ids:
        queries.append(pending.where(Q.record_id.is_(None)))
    held = set()  # compared as canonical JSON: in Python, False == 0 and 1 == 1.0
    for query in queries:
        for row in db.session.execute(query):
            held.add((row.table_name, row.record_id, row.operation, _canonical(row.payload)))
    new = []
    for entry in entries:
        key = (entry["table_name"], entry["record_id"], entry["operation"], entry.pop("_key"))
        if key not in held:
            held.add(key)
            new.append(entry)
    if new:
        _check_caps(new=new, user_id=user_id, config=config)
        db.session.execute(insert(QuarantinedRecord), new)


def _check_caps(*, new: list[dict], user_id: str, config: Mapping) -> None:
    Q = QuarantinedRecord
    max_entries = config["SYNC_QUARANTINE_MAX_PENDING_PER_USER"]
    max_bytes = config["SYNC_QUARANTINE_MAX_BYTES_PER_USER"]
    adding, adding_bytes = len(new), sum(entry["size_bytes"] for entry in new)
    limits = {"max_pending": max_entries, "max_bytes": max_bytes,
              "incoming": adding, "incoming_bytes": adding_bytes}
    kept = ("Nothing of this push was stored; the phone keeps its records and sends them "
            "again at its next sync.")
    if adding > max_entries or adding_bytes > max_bytes:
        raise ApiError(413, "quarantine_too_large",
                       f"This push holds {adding} records that fail validation "
                       f"({adding_bytes} bytes), more than the quarantine keeps for one user "
                       f"({max_entries} records, {max_bytes} bytes). {kept} The app sends "
                       "records the server cannot accept: tell support.", limits)
    held, held_bytes = db.session.execute(
        select(func.count(), func.coalesce(func.sum(Q.size_bytes), 0)).where(
            Q.user_id == user_id, Q.status == "pending")).one()
    if held + adding > max_entries or held_bytes + adding_bytes > max_bytes:
        raise ApiError(429, "quarantine_full",
                       f"Your quarantine is full: {held} refused records ({held_bytes} bytes) "
                       f"wait for an admin, and this push would add {adding} "
                       f"({adding_bytes} bytes); the limit is {max_entries} records and "
                       f"{max_bytes} bytes per user. {kept} Ask an admin to replay or discard "
                       "your quarantined records, then sync again.",
                       {**limits, "pending": held, "pending_bytes": held_bytes})
