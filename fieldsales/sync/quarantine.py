"""The quarantine: pushed records that failed validation, kept whole until an admin acts.

Resolved entries (replayed or discarded) are history: `expire_resolved` deletes those resolved
more than `SYNC_QUARANTINE_RESOLVED_DAYS` ago, one bounded batch at a time. Each resolve runs
one batch, so the expired rows go at least as fast as new ones are resolved.
"""
from flask import current_app
from sqlalchemy import delete, select

from fieldsales.common import DAY_MS, now_ms
from fieldsales.database import rowcount
from fieldsales.errors import ApiError
from fieldsales.extensions import db
from fieldsales.listing import NewestFirst
from fieldsales.sync import push
from fieldsales.sync.models import QuarantinedRecord
from fieldsales.users.models import User

LOG = NewestFirst(id_column=QuarantinedRecord.id, filters={
    "status": lambda v: QuarantinedRecord.status == v,
    "user_id": lambda v: QuarantinedRecord.user_id == v,
    "table": lambda v: QuarantinedRecord.table_name == v,
})


def get(*, quarantine_id: str) -> QuarantinedRecord:
    entry = (db.session.get(QuarantinedRecord, int(quarantine_id))
             if quarantine_id.isascii() and quarantine_id.isdigit() and len(quarantine_id) < 10
             else None)
    if entry is None:
        raise ApiError(404, "not_found", "No such quarantined record.")
    return entry


# Rows deleted per statement: a short write however many entries expired at once.
EXPIRE_BATCH = 1000


def expire_resolved(*, now: int, days: int, limit: int = EXPIRE_BATCH) -> int:
    """Delete up to `limit` entries resolved more than `days` days before `now`, oldest first
    (pending entries are never touched); returns how many. The caller commits, and calls
    again while it returns `limit` to clear a backlog."""
    Q = QuarantinedRecord
    expired = (select(Q.id).where(Q.status != "pending", Q.resolved_at < now - days * DAY_MS)
               .order_by(Q.resolved_at, Q.id).limit(limit))
    result = db.session.execute(delete(Q).where(Q.id.in_(expired.scalar_subquery()))
                                .execution_options(synchronize_session=False))
    return rowcount(result)


def _resolve(entry: QuarantinedRecord, *, status: str, admin: User) -> None:
    now = now_ms()
    entry.status, entry.resolved_at, entry.resolved_by_id = status, now, admin.id
    expire_resolved(now=now, days=current_app.config["SYNC_QUARANTINE_RESOLVED_DAYS"])


def _pending(entry: QuarantinedRecord) -> None:
    if entry.status != "pending":
        raise ApiError(409, "already_resolved",
                       f"This record was already {entry.status}.", {"status": entry.status})


def replay(*, entry: QuarantinedRecord, record: dict | None, admin: User) -> QuarantinedRecord:
    """Apply the record (or a fixed version of it) as its rep's push would have.

    It is validated again exactly as a push from the original rep (ownership, foreign keys,
    columns, the table's own rules), without the conflict check: the admin decides. Time
    rules judge it as of the original push (an order line's edit window runs to when the
    phone sent it, not to the review); the rows it points to are taken as they are now (an
    order delivered since takes no more lines). A fixed record keeps the entry's id (when it
    had one). Still invalid: 422, nothing changes.
    """
    _pending(entry)
    if record is not None and entry.record_id is not None and record.get("id") != entry.record_id:
        # A fix of this record, not a way to write another one as the rep.
        raise ApiError(422, "validation_error", "The fixed record must keep the record's id.",
                       {"id": [f"Must be {entry.record_id!r}, the id of the quarantined record."]})
    raw = record if record is not None else entry.payload
    if entry.operation == "deleted":
        record_id = raw.get("id")
        if not isinstance(record_id, str):
            raise ApiError(422, "validation_error", "A deletion needs the record's id.",
                           {"id": ["Must be an id string."]})
        changes: dict = {entry.table_name: {"deleted": [record_id]}}
    else:
        changes = {entry.table_name: {entry.operation: [raw]}}
    outcome = push.apply(user_id=entry.user_id, changes=changes, last_pulled_at=None,
                         check_conflicts=False, keep_quarantined=False,
                         pushed_at=entry.received_at)
    if outcome.quarantined:
        errors = outcome.quarantined[0].errors
        raise ApiError(422, "validation_error", "The record is still invalid: "
                       f"check {', '.join(sorted(errors))}.", errors)
    entry.replayed_record = record
    _resolve(entry, status="replayed", admin=admin)
    return entry


def discard(*, entry: QuarantinedRecord, admin: User) -> QuarantinedRecord:
    """Close a record that should never be applied (kept, marked discarded, until it
    expires)."""
    _pending(entry)
    _resolve(entry, status="discarded", admin=admin)
    return entry
