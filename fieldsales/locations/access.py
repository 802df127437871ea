"""The position access log: every view of a rep's positions by someone else is recorded, and
the rep can read who looked (glossary "Working hours"; docs/privacy.md, "Who looked").

Reports, lists and exports that show positions call `record_views` with the reps whose
positions they showed; the route that answers commits it with the rest of the request.
"""
from collections.abc import Iterable

from sqlalchemy import Select, insert, select

from fieldsales.common import now_ms
from fieldsales.extensions import db
from fieldsales.locations.models import POSITION_VIEWS, PositionView
from fieldsales.users.models import User


def record_views(*, viewer: User, rep_ids: Iterable[str], what: str,
                 detail: str | None = None) -> int:
    """Log that `viewer` saw the positions of these reps; a rep's own are not logged."""
    if what not in POSITION_VIEWS:
        raise ValueError(f"Unknown position view {what!r}.")
    now = now_ms()
    rows = [{"rep_id": rep_id, "viewer_id": viewer.id, "viewed_at": now, "what": what,
             "detail": detail[:200] if detail else None}
            for rep_id in sorted(set(rep_ids)) if rep_id and rep_id != viewer.id]
    if rows:
        db.session.execute(insert(PositionView), rows)
    return len(rows)


def views_of(*, rep_id: str) -> Select:
    """Who looked at this rep's positions (newest first when paged by id)."""
    return select(PositionView).where(PositionView.rep_id == rep_id)
