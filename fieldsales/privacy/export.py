"""A rep's own data, whole (docs/privacy.md, "Your own data"): `GET /api/v1/users/me/export`.

Everything of the signed-in user's: their account, visits, pings, orders and their lines,
feedback, tasks, planned visits, and who viewed their positions. Streamed, a chunk of
EXPORT_CHUNK rows at a time, as a zip of CSV files (the CSV exports' formula guard,
listing.csv_cell) or as one JSON document, so a year of pings never sits in memory.
"""
import csv
import io
import json
import zipfile
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import IO, cast

from sqlalchemy import Row, Select, select

from fieldsales.extensions import db
from fieldsales.feedback.models import Feedback
from fieldsales.listing import csv_cell
from fieldsales.locations.models import LocationPing, PositionView
from fieldsales.orders.models import Order, OrderLine
from fieldsales.plans.models import PlannedVisit
from fieldsales.tasks.models import Task
from fieldsales.users.models import User
from fieldsales.visits.models import Visit

EXPORT_CHUNK = 1000
# Cells the csv module writes as csv_cell would (None empty, numbers as they are): most of a
# ping's, so the guard runs on the rest only.
_AS_IS = frozenset({int, float, type(None)})
FORMATS = ("zip", "json")


def _all(model, owned) -> Callable[[User], Select]:
    return lambda user: select(*model.__table__.c).where(owned(user)).order_by(
        *model.__table__.primary_key.columns)


# file name -> the user's rows of it
SECTIONS: dict[str, Callable[[User], Select]] = {
    "account": lambda user: select(User.id, User.email, User.name, User.role, User.team_id,
                                   User.selling_style, User.active, User.created_at)
    .where(User.id == user.id),
    "visits": _all(Visit, lambda user: Visit.rep_id == user.id),
    "location_pings": _all(LocationPing, lambda user: LocationPing.rep_id == user.id),
    "orders": _all(Order, lambda user: Order.rep_id == user.id),
    "order_lines": lambda user: select(*OrderLine.__table__.c)
    .join(Order, Order.id == OrderLine.order_id).where(Order.rep_id == user.id)
    .order_by(OrderLine.id),
    "feedback": _all(Feedback, lambda user: Feedback.rep_id == user.id),
    "tasks": _all(Task, lambda user: Task.assigned_rep_id == user.id),
    "planned_visits": _all(PlannedVisit, lambda user: PlannedVisit.rep_id == user.id),
    "position_views": lambda user: select(
        PositionView.viewed_at, PositionView.what, PositionView.detail,
        PositionView.viewer_id, User.name.label("viewer_name"),
        User.role.label("viewer_role"))
    .join(User, User.id == PositionView.viewer_id).where(PositionView.rep_id == user.id)
    .order_by(PositionView.id),
}


def stream(*, user: User, format: str) -> Iterator[bytes]:
    """The export's bytes, chunk by chunk; iterate inside the request's context."""
    return _zip(user) if format == "zip" else _json(user)


def _chunks(query: Select) -> Iterator[tuple[list[str], Sequence[Row]]]:
    result = db.session.execute(query.execution_options(yield_per=EXPORT_CHUNK))
    columns = list(result.keys())
    for partition in result.partitions(EXPORT_CHUNK):
        yield columns, partition


def _zip(user: User) -> Iterator[bytes]:
    sink = _Sink()
    with zipfile.ZipFile(cast(IO[bytes], sink), mode="w",
                         compression=zipfile.ZIP_DEFLATED) as archive:
        for name, rows_of in SECTIONS.items():
            query = rows_of(user)
            with archive.open(f"{name}.csv", mode="w", force_zip64=True) as member:
                text = io.TextIOWrapper(member, encoding="utf-8", newline="")
                writer = csv.writer(text, lineterminator="\r\n")
                writer.writerow([column.name for column in query.selected_columns])
                for _columns, rows in _chunks(query):
                    writer.writerows([value if value.__class__ in _AS_IS else csv_cell(value)
                                      for value in row] for row in rows)
                    text.flush()
                    yield sink.drain()
                text.flush()
                text.detach()
            yield sink.drain()
    yield sink.drain()


def _json(user: User) -> Iterator[bytes]:
    yield b"{"
    for index, (name, rows_of) in enumerate(SECTIONS.items()):
        yield (b"," if index else b"") + json.dumps(name).encode() + b":["
        first = True
        for columns, rows in _chunks(rows_of(user)):
            items = ",".join(json.dumps(dict(zip(columns, row, strict=True)), default=_plain)
                             for row in rows)
            yield (b"" if first else b",") + items.encode()
            first = False
        yield b"]"
    yield b"}"


def _plain(value):
    return float(value) if isinstance(value, Decimal) else str(value)


class _Sink:
    """A write-only stream for zipfile (it then writes data descriptors, needing no seek);
    what is written is taken out as it comes."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def drain(self) -> bytes:
        data, self._parts = b"".join(self._parts), []
        return data
