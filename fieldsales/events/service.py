"""Writing events: `emit` for one change made through the ORM, `emit_select` for a set-based
change (one INSERT .. SELECT). Neither commits: the event is part of the caller's transaction,
so it exists exactly when the change does (the route or the job commits once)."""
from dataclasses import dataclass
from typing import cast

from flask import current_app
from sqlalchemy import Select, Table, and_, func, insert, literal, or_, select
from sqlalchemy.sql import ColumnElement

from fieldsales.common import MINUTE_MS, now_ms
from fieldsales.events.models import Event, EventCursor
from fieldsales.extensions import db

# Every event type, with what it means. `subject_id` names the record in the first word.
TYPES: dict[str, str] = {
    "order.created": "an order reached the server (a phone's push)",
    "order.delivered": "a delivery was recorded against an order; payload `fully` says if in full",
    "order.late": "an order's requested delivery date passed and it is still pending (once)",
    "visit.checked_in": "a rep checked in at a customer (the visit reached the server)",
    "visit.completed": "a rep checked out of a visit; payload carries verified and distance_m",
    "feedback.complaint": "a customer's feedback was rated 2 or less",
    "demand.flagged": "the demand job newly flagged a product (subject: the product)",
    "backlog.priority_changed": "the backlog job's top N of a team changed (subject: the team)",
    "rep.silent": "a rep on duty sent no ping or sync for REP_SILENT_MINUTES (once per silence)",
    "plan.missed": "a planned visit's day ended without the visit (subject: the planned visit)",
}


def _check(type: str) -> None:
    if type not in TYPES:
        raise ValueError(f"Unknown event type '{type}'. Known: {', '.join(TYPES)}.")


def emit(*, type: str, team_id: str | None, subject_id: str, payload: dict,
         occurred_at: int | None = None) -> Event:
    """Add one event to the current session (flushed with the caller's change, never
    committed here)."""
    _check(type)
    event = Event(type=type, team_id=team_id, subject_id=str(subject_id), payload=payload,
                  occurred_at=now_ms() if occurred_at is None else occurred_at)
    db.session.add(event)
    return event


def emit_select(*, type: str, rows: Select) -> int:
    """Insert one event per row of `rows`, set-based; `rows` selects, in this order, the
    team_id, subject_id, payload and occurred_at columns. Returns how many were written."""
    _check(type)
    table = cast(Table, Event.__table__)
    subquery = rows.subquery()
    cols: list[ColumnElement] = list(subquery.c)
    statement = insert(table).from_select(
        ["type", "team_id", "subject_id", "payload", "occurred_at"],
        select(literal(type), *cols)).returning(table.c.id)
    # Counted by RETURNING: PostgreSQL's driver reports -1 rows for an INSERT ... SELECT here.
    return len(db.session.execute(statement).all())


def json_payload(**columns) -> ColumnElement:
    """A payload built in SQL from named columns (for `emit_select`): json_build_object on
    PostgreSQL, json_object on SQLite."""
    args: list = []
    for name, column in columns.items():
        args += [literal(name), column]
    if db.session.get_bind().dialect.name == "postgresql":
        return func.json_build_object(*args)
    return func.json(func.json_object(*args))


@dataclass
class Reading:
    """One run of a consumer over the outbox: the events up to `newest` it has not read
    (`unread`), and `done()` to move its cursor there (in the run's transaction)."""

    cursor: EventCursor
    newest: int
    rescan_from: int

    def unread(self, *also: ColumnElement[bool]) -> ColumnElement[bool]:
        """SQL: past the cursor, or occurred in the last EVENTS_RESCAN_MINUTES (an event id
        is taken before its transaction commits, so one may commit after a later id was
        read), or any of `also`; never past `newest`. Consumers keep each (event, target)
        once by a unique key, so a rescanned event is not handled twice."""
        return and_(Event.id <= self.newest,
                    or_(Event.id > self.cursor.last_event_id,
                        Event.occurred_at >= self.rescan_from, *also))

    def done(self) -> None:
        self.cursor.last_event_id = max(self.cursor.last_event_id, self.newest)


def read_events(*, consumer: str, now: int) -> Reading:
    cursor = db.session.get(EventCursor, consumer)
    if cursor is None:
        cursor = EventCursor(consumer=consumer, last_event_id=0)
        db.session.add(cursor)
        db.session.flush()
    newest = db.session.scalar(select(func.max(Event.id))) or 0
    rescan_ms = current_app.config["EVENTS_RESCAN_MINUTES"] * MINUTE_MS
    return Reading(cursor=cursor, newest=newest, rescan_from=now - rescan_ms)
