"""The sync log: one row per push or pull, so support can read a rep's sync history."""
from sqlalchemy import Select, true

from fieldsales.extensions import db
from fieldsales.listing import NewestFirst
from fieldsales.sync.models import SyncLog
from fieldsales.users import scope
from fieldsales.users.models import User


def record(*, user_id: str, direction: str, device_id: str | None, started_at: int,
           duration_ms: int, outcome: str, last_pulled_at: int | None = None,
           counts: dict | None = None, quarantined: int = 0) -> SyncLog:
    """Add a log row to the session; the route commits it."""
    if device_id:  # a header, kept as text PostgreSQL can store
        device_id = device_id.replace("\x00", "\ufffd")[:128]
    entry = SyncLog(user_id=user_id, device_id=device_id or None,
                    direction=direction, started_at=started_at, duration_ms=duration_ms,
                    outcome=outcome, last_pulled_at=last_pulled_at, counts=counts or {},
                    quarantined=quarantined)
    db.session.add(entry)
    return entry


LOG = NewestFirst(id_column=SyncLog.id, filters={
    "user_id": lambda v: SyncLog.user_id == v,
    "direction": lambda v: SyncLog.direction == v,
    "outcome": lambda v: SyncLog.outcome == v if v else true(),  # an empty one: every outcome
})


def visible_entries(*, viewer: User) -> Select:
    """Admins read every rep's history; managers their own team's."""
    return db.select(SyncLog).where(scope.rep_clause(viewer=viewer, rep_column=SyncLog.user_id))
