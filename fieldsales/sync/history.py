"""The sync log: one row per push or pull, so support can read a rep's sync history."""
from sqlalchemy import Select

from fieldsales.extensions import db
from fieldsales.sync.models import SyncLog
from fieldsales.users.models import User
from fieldsales.users import scope


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


def visible_entries(*, viewer: User, filters: dict) -> Select:
    """Admins read every rep's history; managers their own team's."""
    query = db.select(SyncLog).where(scope.rep_clause(viewer=viewer, rep_column=SyncLog.user_id))
    if filters.get("user_id"):
        query = query.where(SyncLog.user_id == filters["user_id"])
    for name in ("direction", "outcome"):
        if filters.get(name):
            query = query.where(getattr(SyncLog, name) == filters[name])
    return query


def newest_first(query: Select, *, id_column, limit: int, cursor: int | None) -> dict:
    """Keyset pagination on an integer id, newest first: pass `next_cursor` back as `cursor`."""
    if cursor is not None:
        query = query.where(id_column < cursor)
    rows = list(db.session.scalars(query.order_by(id_column.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next_cursor": rows[-1].id if more else None}
