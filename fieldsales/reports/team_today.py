"""Where a team is right now: each rep's last on-duty position and what they are doing.

Privacy as in the rep's day (reports/activity.py): a position is a ping inside the team's
working hours (users/hours.py), none older than TODAY_LOOKBACK_DAYS; flagged pings are never
a position. Each rep whose position is shown is logged as viewed (locations/access.py).

Status, the first that holds:
- `on_visit`: checked in at a customer today and not checked out (`since`: the check-in);
- `off_duty`: now is outside the working hours, or the rep's newest on-duty ping is not from
  today (`since`: that ping, if any);
- `silent`: that ping is older than TODAY_SILENT_MINUTES (`silent_minutes` says how long);
- `travelling`: it reports a speed of at least TRAVEL_SPEED_MPS;
- `idle`: otherwise.
"""
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, false, func, or_, select

from fieldsales.common import DAY_MS, MINUTE_MS
from fieldsales.customers.models import Customer
from fieldsales.extensions import db
from fieldsales.locations import access
from fieldsales.locations.models import LocationPing
from fieldsales.users import hours
from fieldsales.users.models import Team, User
from fieldsales.visits.models import Visit

TRAVEL_SPEED_MPS = 1.0  # faster than a stroll across a car park
STATUSES = ("on_visit", "travelling", "idle", "silent", "off_duty")


def get(*, viewer: User, team: Team, now: int) -> dict:
    cfg = current_app.config
    today = hours.local_day(team, now)
    day_start, _ = hours.day_bounds_ms(team, today)
    window = hours.duty_window_ms(team, today)
    reps = db.session.execute(
        select(User.id, User.name).where(User.team_id == team.id, User.role == "rep",
                                         User.deleted_at.is_(None))
        .order_by(User.name, User.id)).all()
    rep_ids = [rep.id for rep in reps]

    # Each day's working hours of the look-back, as ranges: a ping inside one is on duty.
    windows = [span for back in range(cfg["TODAY_LOOKBACK_DAYS"] + 1)
               if (span := hours.duty_window_ms(team, today - timedelta(days=back)))]
    on_duty = and_(LocationPing.rep_id.in_(rep_ids), LocationPing.flagged.is_(False),
                   LocationPing.recorded_at <= now,
                   LocationPing.recorded_at > now - cfg["TODAY_LOOKBACK_DAYS"] * DAY_MS,
                   or_(false(), *(and_(LocationPing.recorded_at >= start,
                                       LocationPing.recorded_at < end)
                                  for start, end in windows)))
    newest = (select(LocationPing.rep_id, func.max(LocationPing.recorded_at).label("at"))
              .where(on_duty).group_by(LocationPing.rep_id).subquery())
    positions = {row.rep_id: row for row in db.session.execute(
        select(LocationPing.rep_id, LocationPing.recorded_at, LocationPing.latitude,
               LocationPing.longitude, LocationPing.speed_mps)
        .join(newest, and_(newest.c.rep_id == LocationPing.rep_id,
                           newest.c.at == LocationPing.recorded_at))
        .where(on_duty))}
    open_visits: dict[str, Any] = {}
    for row in db.session.execute(
            select(Visit.rep_id, Visit.check_in_at, Customer.id, Customer.name)
            .join(Customer, Customer.id == Visit.customer_id)
            .where(Visit.rep_id.in_(rep_ids), Visit.deleted_at.is_(None),
                   Visit.check_out_at.is_(None), Visit.check_in_at >= day_start,
                   Visit.check_in_at <= now)
            .order_by(Visit.check_in_at.desc())):
        open_visits.setdefault(row[0], row)

    working = window is not None and window[0] <= now < window[1]
    rows = []
    for rep in reps:
        ping, visit = positions.get(rep.id), open_visits.get(rep.id)
        status, since, silent = _status(ping=ping, visit=visit, now=now, day_start=day_start,
                                        working=working)
        rows.append({
            "rep": {"id": rep.id, "name": rep.name},
            "status": status, "since": since, "silent_minutes": silent,
            "customer": {"id": visit[2], "name": visit[3]} if visit else None,
            "position": None if ping is None else {
                "latitude": ping.latitude, "longitude": ping.longitude,
                "recorded_at": ping.recorded_at, "speed_mps": ping.speed_mps},
        })
    access.record_views(viewer=viewer, rep_ids=positions, what="team_map",
                        detail=today.isoformat())
    return {"team": {"id": team.id, "name": team.name}, "now": now, "reps": rows,
            "counts": {status: sum(1 for r in rows if r["status"] == status)
                       for status in STATUSES}}


def _status(*, ping, visit, now: int, day_start: int, working: bool):
    if visit is not None:
        return "on_visit", visit[1], None
    if not working or ping is None or ping.recorded_at < day_start:
        return "off_duty", ping.recorded_at if ping else None, None
    age_min = (now - ping.recorded_at) // MINUTE_MS
    if age_min > current_app.config["TODAY_SILENT_MINUTES"]:
        return "silent", ping.recorded_at, age_min
    if (ping.speed_mps or 0) >= TRAVEL_SPEED_MPS:
        return "travelling", ping.recorded_at, None
    return "idle", ping.recorded_at, None
