"""The "events" job: the events no single change causes, found set-based each run (issue 16).

- `order.late`: a pending order (`orders.rules.pending`) whose requested delivery time has
  passed; once per order (an order already announced late is not announced again).
- `rep.silent`: an active rep whose team is on duty now (`users.hours.is_on_duty`) and who
  sent no ping and no sync for `REP_SILENT_MINUTES` (the silence counted from the later of
  the last ping or sync and the start of today's working hours); once per silence (a rep
  already announced silent since their last ping or sync is not announced again).

It lives beside the runner because it reads the sync log (`sync`) and the orders' rules,
which no lower package may both import. It writes through db.session; the runner commits.
"""
from flask import current_app
from sqlalchemy import and_, exists, func, literal, select

from fieldsales.common import MINUTE_MS
from fieldsales.events.models import Event
from fieldsales.events.service import emit_select, json_payload
from fieldsales.extensions import db
from fieldsales.locations.models import LocationPing
from fieldsales.orders import rules as order_rules
from fieldsales.orders.models import Order
from fieldsales.sync.models import SyncLog
from fieldsales.users import hours
from fieldsales.users.models import Team, User


def run(*, now: int) -> dict:
    late = emit_late_orders(now=now)
    silent = emit_silent_reps(now=now)
    return {"rows_written": late + silent, "order_late": late, "rep_silent": silent}


def emit_late_orders(*, now: int) -> int:
    announced = exists().where(Event.type == "order.late", Event.subject_id == Order.id)
    return emit_select(type="order.late", rows=select(
        select(User.team_id).where(User.id == Order.rep_id).scalar_subquery().label("team_id"),
        Order.id.label("subject_id"),
        json_payload(order_id=Order.id, rep_id=Order.rep_id, customer_id=Order.customer_id,
                     status=Order.status,
                     requested_delivery_at=Order.requested_delivery_at).label("payload"),
        literal(now).label("occurred_at"),
    ).where(order_rules.pending(), Order.requested_delivery_at.is_not(None),
            Order.requested_delivery_at < now, ~announced))


def emit_silent_reps(*, now: int) -> int:
    """One INSERT .. SELECT per team on duty now (teams, not reps, are looped over)."""
    silent_ms = current_app.config["REP_SILENT_MINUTES"] * MINUTE_MS
    if silent_ms <= 0:
        return 0
    written = 0
    for team in db.session.scalars(select(Team).order_by(Team.id)):
        if not hours.is_on_duty(team, now):
            continue
        window = hours.duty_window_ms(team, hours.local_day(team, now))
        duty_start = window[0] if window else now
        last_ping = (select(func.max(LocationPing.recorded_at))
                     .where(LocationPing.rep_id == User.id).scalar_subquery())
        last_sync = (select(func.max(SyncLog.started_at))
                     .where(SyncLog.user_id == User.id).scalar_subquery())
        heard = func.coalesce(last_ping, 0)
        synced = func.coalesce(last_sync, 0)
        last = select(User.id.label("rep_id"),
                      func.max(heard, synced).label("last_heard") if _sqlite()
                      else func.greatest(heard, synced).label("last_heard")) \
            .where(User.team_id == team.id, User.role == "rep", User.active.is_(True)) \
            .subquery()
        since = (func.max(last.c.last_heard, duty_start) if _sqlite()
                 else func.greatest(last.c.last_heard, duty_start))
        announced = exists().where(Event.type == "rep.silent", Event.subject_id == last.c.rep_id,
                                   Event.occurred_at > since)
        written += emit_select(type="rep.silent", rows=select(
            literal(team.id).label("team_id"), last.c.rep_id.label("subject_id"),
            json_payload(rep_id=last.c.rep_id, last_heard_at=last.c.last_heard,
                         silent_minutes=literal(current_app.config["REP_SILENT_MINUTES"]))
            .label("payload"),
            literal(now).label("occurred_at"),
        ).where(and_(since < now - silent_ms, ~announced)))
    return written


def _sqlite() -> bool:
    return db.session.get_bind().dialect.name == "sqlite"
