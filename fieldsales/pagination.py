"""Keyset pagination by id: stable while rows are added, no row lost or repeated."""
from sqlalchemy import Select

from fieldsales.extensions import db


def paginate(query: Select, *, id_column, limit: int, cursor: str | None) -> dict:
    if cursor:
        query = query.where(id_column > cursor)
    rows = list(db.session.scalars(query.order_by(id_column).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next_cursor": rows[-1].id if more else None}
