"""What a push may do: the conflict rule (rule 4) and each record's rules (rule 5).

`check_conflicts` stops a whole push; `decide` takes the records one by one, in the order they
are applied, and says which are written (as rows) and which are refused (kept in the
quarantine, whole, with the reasons).
"""
from collections.abc import Mapping
from dataclasses import dataclass, field

from fieldsales import phonetime
from fieldsales.errors import ApiError
from fieldsales.sync.push import times
from fieldsales.sync.push.parse import PushedRecord
from fieldsales.sync.tables import TABLES, SyncTable, tables_of

# Neutral: it must not tell a rep that the id exists for someone else.
_NOT_YOURS = "This id cannot be written by you."


def _short_id(value) -> str | None:
    # An invalid id is named (answer, quarantine) by its first 200 characters.
    return value[:200] if isinstance(value, str) else None


def _unchanged(value, stored) -> bool:
    # WatermelonDB gives a non-optional text column "" where the server has none.
    return value == stored or (value in (None, "") and stored in (None, ""))


@dataclass
class Outcome:
    """The push's answer: records accepted per table (every table), and those refused."""

    accepted: dict[str, int] = field(default_factory=dict)
    quarantined: list[PushedRecord] = field(default_factory=list)  # errors: why refused

    def body(self) -> dict:
        return {"accepted": self.accepted,
                "quarantined": [{"table": q.table.name, "id": _short_id(q.record_id),
                                 "errors": q.errors}
                                for q in self.quarantined]}


@dataclass
class Writes:
    """What the accepted records change: rows to upsert and ids to remove, per table."""

    rows: dict[str, dict[str, dict]] = field(default_factory=dict)  # table -> id -> row
    deletes: dict[str, list[str]] = field(default_factory=dict)


def check_conflicts(*, records: dict[str, list[PushedRecord]],
                    stored: dict[str, dict[str, dict]], user_id: str,
                    last_pulled_at: int | None) -> None:
    """Rule 4: `updated` rows changed on the server since the phone's last pull.

    Only phone-owned columns are compared, so server changes to read-only ones (an order's
    status after a delivery) never make a plain retry conflict. A `created` record whose id
    exists is not checked: a stock WatermelonDB client keeps no `_changed` for a record it
    still holds as created, so after a 409 its pull would overwrite what the rep changed
    since the lost answer; the phone's version of a record it made wins instead.
    """
    since = -1 if last_pulled_at is None else last_pulled_at
    conflicts = []
    for name, items in records.items():
        table = TABLES[name]
        if table.append_only or not table.ops:
            continue
        ids = []
        for record in items:
            if record.operation != "updated" or record.record_id is None:
                continue
            row = stored[name].get(record.record_id)
            if (row is None or row.get("_owner") != user_id
                    or row["changed_seq"] <= since or row["deleted_at"] is not None):
                continue  # a removed row is not overwritten: the record is quarantined
            if record.errors or not table.repeats(record.values, row):
                ids.append(record.record_id)
        if ids:
            conflicts.append({"table": name, "ids": sorted(set(ids))})
    if conflicts:
        raise ApiError(409, "sync_conflict",
                       "Some records changed on the server since your last pull: "
                       "pull, then push again.", {"conflicts": conflicts})


def decide(*, records: dict[str, list[PushedRecord]], stored: dict[str, dict[str, dict]],
           refs: dict[str, dict[str, object]], user_id: str, now: int,
           time_limits: phonetime.Limits, pushed_at: int,
           config: Mapping, schema_version: int = 1) -> tuple[Outcome, Writes]:
    """Each record's fate, in table order (a row's parents come before it). `now`: the
    push's receipt, against which phone times are judged (`time_limits`); `pushed_at`: when
    the phone pushed them (a replay: its original push), the time the tables' own rules
    (`SyncTable.check`, with the settings in `config`) judge them at. The answer counts
    every table of `schema_version` and every table the push names (a stock client does
    not say its version when it pushes: a version-1 phone's answer stays as it was)."""
    rules = _Rules(stored=stored, refs=refs, user_id=user_id, now=now, time_limits=time_limits,
                   pushed_at=pushed_at, config=config)
    for name in TABLES:
        if name not in records and name not in tables_of(schema_version):
            continue
        rules.outcome.accepted[name] = 0
        rules.writes.rows[name] = {}
        for record in records.get(name, ()):
            if record.operation == "deleted":
                rules.delete(record)
            else:
                rules.upsert(record)
    return rules.outcome, rules.writes


class _Rules:
    def __init__(self, *, stored: dict, refs: dict, user_id: str, now: int,
                 time_limits: phonetime.Limits, pushed_at: int, config: Mapping):
        self.stored = stored
        self.refs = refs
        self.user_id = user_id
        self.now = now
        self.time_limits = time_limits
        self.pushed_at = pushed_at
        self.config = config
        self.outcome = Outcome()
        self.writes = Writes()

    def _refuse(self, record: PushedRecord, errors: dict) -> None:
        self.outcome.quarantined.append(record._replace(errors=errors))

    def _accept(self, table: SyncTable) -> None:
        self.outcome.accepted[table.name] += 1

    def delete(self, record: PushedRecord) -> None:
        table, record_id, errors = record.table, record.record_id, record.errors
        row = self.stored.get(table.name, {}).get(record_id)
        if not errors and row is None and record_id not in self.writes.rows[table.name]:
            self._accept(table)  # rule 2: nothing to delete
            return
        if not errors:
            if not table.ops:
                errors = {"_schema": [f"Phones may not change {table.name}."]}
            elif row is not None and row.get("_owner") != self.user_id:
                errors = {"id": [_NOT_YOURS]}
            elif "delete" not in table.ops:
                errors = {"_schema": [f"Phones may not delete {table.name}."]}
        if errors:
            self._refuse(record, errors)
            return
        assert record_id is not None  # a record without a usable id has an `id` error
        self.writes.deletes.setdefault(table.name, []).append(record_id)
        self._accept(table)

    def upsert(self, record: PushedRecord) -> None:
        table, record_id, values, errors = (record.table, record.record_id, record.values,
                                            record.errors)
        if not table.ops:
            self._refuse(record, {"_schema": [f"Phones may not change {table.name}."]})
            return
        if errors.get("id"):
            self._refuse(record, errors)
            return
        assert record_id is not None  # a record without a usable id has an `id` error
        earlier = self.writes.rows[table.name].get(record_id)
        stored = self.stored[table.name].get(record_id)
        current = earlier or stored
        if current is not None and current.get("_owner") != self.user_id:
            self._refuse(record, {"id": [_NOT_YOURS]})
            return
        if stored is not None and stored.get("deleted_at") is not None:
            # Written, it would count as accepted yet never be seen again: keep it instead.
            errors = {**errors, "_schema": ["This record was removed on the server."]}
        if errors:
            self._refuse(record, errors)
            return
        if "create" not in table.ops and (record.operation == "created" or current is None):
            # Made by the server only (planned visits): rule 2's upsert does not apply.
            self._refuse(record, {"_schema": [
                f"Phones may not create {table.name}." if record.operation == "created"
                else f"No {table.name} record of yours with this id."]})
            return
        if current is not None and table.repeats(values, current):
            self._accept(table)  # a retry: already stored as sent
            return
        if current is not None and table.creator and current[table.creator] != self.user_id:
            refused = {name: ["Reps may not change this field."] for name, value in values.items()
                       if name not in table.rep_may_change and not _unchanged(value, current[name])}
            if refused:
                self._refuse(record, refused)
                return
        if current is not None and "update" not in table.ops:
            self._refuse(record, {
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
        errors = missing or {**self._check_refs(table, row),
                             **times.judge(table, row, current=current,
                                           received_at=self.now, limits=self.time_limits)}
        if not errors and table.check is not None:
            errors = table.check(row, current=current, refs=self.refs, written=self.writes.rows,
                                 pushed_at=self.pushed_at, config=self.config)
        if errors:
            self._refuse(record, errors)
            return
        row["id"] = record_id
        row["_new"] = stored is None
        self.writes.rows[table.name][record_id] = row
        self._accept(table)

    def _check_refs(self, table: SyncTable, row: dict) -> dict:
        errors = {}
        for column, kind in table.refs.items():
            value = row.get(column)
            if value is None:
                continue
            if value not in self.refs[kind] and value not in self.writes.rows.get(kind, {}):
                errors[column] = [TABLES[kind].ref_message]
        return errors
