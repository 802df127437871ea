"""How well reps kept to their journey plans, per rep over a range of their local days
(glossary "Call rate", "Plan adherence", "Unplanned visit", "Route efficiency"):

- `planned`: the planned visits of those days (not removed), by status: `done`, `missed`,
  `skipped`, and `open` (still planned: today's, or a day not yet closed by the plans job);
- `call_rate` = done / planned;
- `plan_adherence` = the planned visits done in planned order, within their day, / planned:
  per day, the most done stops whose visits checked in in the order of their sequence (the
  longest such run, so one visit out of order costs one stop, not the rest of the day);
- `unplanned_visits`: the rep's visits checked in on those days that carried out no planned
  visit (`visits.planned_visit_id` null);
- `skips`: the skipped ones with the rep's reasons;
- `planned_distance_m`: the straight-line distance from stop to stop in planned order, per
  day (from the first stop: the rep's start point is not part of it);
- `route_efficiency(planned_m, travelled_m)` = planned / travelled distance (None without
  travel), with the travelled distance the caller has (the day's trail, the scores' figure).
Days are the team's local days (users/hours.py). Two queries for any number of reps; the
per-day work is over the few rows of a day.

`kept_by_day` gives the productivity job the same counts per rep and day for every team.
Done-in-order is the longest run of a day's stops whose visits checked in in planned order,
which no SQL aggregate gives, so it is worked out here, once, over the job's window.
"""
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from itertools import groupby

from sqlalchemy import func, select

from fieldsales.customers.models import Customer
from fieldsales.extensions import db
from fieldsales.geo import geodesic_m
from fieldsales.plans.models import PlannedVisit
from fieldsales.users import hours
from fieldsales.users.models import Team
from fieldsales.visits.models import Visit


def summarize(*, team: Team | None, rep_ids: list[str], first: date, last: date) -> dict:
    """Rep id -> the figures above over the days `first`..`last` (inclusive), for reps of
    one team (one zone); every rep named gets an entry."""
    P = PlannedVisit
    rows = db.session.execute(
        select(P.id, P.rep_id, P.planned_date, P.sequence, P.status, P.skip_reason,
               P.customer_id, Customer.latitude, Customer.longitude,
               Visit.check_in_at)
        .join(Customer, Customer.id == P.customer_id)
        .outerjoin(Visit, Visit.id == P.visit_id)
        .where(P.rep_id.in_(rep_ids), P.deleted_at.is_(None),
               P.planned_date.between(first.isoformat(), last.isoformat()))
        .order_by(P.rep_id, P.planned_date, P.sequence, P.id)).all()
    start, end = hours.day_bounds_ms(team, first)[0], hours.day_bounds_ms(team, last)[1]
    unplanned: dict[str, int] = {row.rep_id: row.visits for row in db.session.execute(
        select(Visit.rep_id, func.count(Visit.id).label("visits"))
        .where(Visit.rep_id.in_(rep_ids), Visit.deleted_at.is_(None),
               Visit.planned_visit_id.is_(None), Visit.check_in_at >= start,
               Visit.check_in_at < end)
        .group_by(Visit.rep_id))}
    days: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        days[row.rep_id][row.planned_date].append(row)
    return {rep_id: _figures(days.get(rep_id, {}), unplanned=unplanned.get(rep_id, 0))
            for rep_id in rep_ids}


def kept_by_day(*, first: date, last: date) -> Iterator[tuple[str, str, int, int, int]]:
    """(rep id, planned date, planned, done, done in order) for every rep and day of
    `first`..`last` with planned visits (not removed), in one query."""
    P = PlannedVisit
    rows = db.session.execute(
        select(P.rep_id, P.planned_date, P.status, Visit.check_in_at)
        .outerjoin(Visit, Visit.id == P.visit_id)
        .where(P.deleted_at.is_(None),
               P.planned_date.between(first.isoformat(), last.isoformat()))
        .order_by(P.rep_id, P.planned_date, P.sequence, P.id))
    for (rep_id, planned_date), day in groupby(rows, key=lambda row: (row[0], row[1])):
        day_rows = list(day)
        done = sum(1 for row in day_rows if row.status == "done")
        yield rep_id, planned_date, len(day_rows), done, _done_in_order(day_rows)


def combine(summaries: list[dict]) -> dict:
    """The figures of several reps (a team's total): counts and distances summed, the rates
    worked out again from the sums (not averaged), every skip listed."""
    total = {name: sum(s[name] for s in summaries)
             for name in ("planned", "done", "missed", "skipped", "open", "unplanned_visits")}
    in_order = sum(round((s["plan_adherence"] or 0) * s["planned"]) for s in summaries)
    planned = total["planned"]
    return {**total,
            "call_rate": round(total["done"] / planned, 4) if planned else None,
            "plan_adherence": round(in_order / planned, 4) if planned else None,
            "skips": [skip for s in summaries for skip in s["skips"]],
            "planned_distance_m": round(sum(s["planned_distance_m"] for s in summaries), 1)}


def route_efficiency(*, planned_m: float, travelled_m: float | None) -> float | None:
    """Planned travel distance / travelled distance; None when nothing was planned or
    travelled."""
    if not planned_m or not travelled_m:
        return None
    return round(planned_m / travelled_m, 4)


def _figures(days: dict[str, list], *, unplanned: int) -> dict:
    counts = {"planned": 0, "done": 0, "missed": 0, "skipped": 0, "open": 0}
    in_order, distance, skips = 0, 0.0, []
    for day_rows in days.values():
        counts["planned"] += len(day_rows)
        for row in day_rows:
            counts["open" if row.status == "planned" else row.status] += 1
            if row.status == "skipped":
                skips.append({"planned_visit_id": row.id, "customer_id": row.customer_id,
                              "planned_date": row.planned_date, "skip_reason": row.skip_reason})
        in_order += _done_in_order(day_rows)
        distance += sum(geodesic_m(a.latitude, a.longitude, b.latitude, b.longitude)
                        for a, b in zip(day_rows, day_rows[1:], strict=False))
    planned = counts["planned"]
    return {**counts,
            "call_rate": round(counts["done"] / planned, 4) if planned else None,
            "plan_adherence": round(in_order / planned, 4) if planned else None,
            "unplanned_visits": unplanned, "skips": skips,
            "planned_distance_m": round(distance, 1)}


def _done_in_order(day_rows: list) -> int:
    """A day's done stops (rows in planned order) whose visits checked in in that order."""
    return _longest_rising([row.check_in_at for row in day_rows
                            if row.status == "done" and row.check_in_at is not None])


def _longest_rising(values: list[int]) -> int:
    """The length of the longest strictly rising subsequence (patience sorting)."""
    tails: list[int] = []
    for value in values:
        at = bisect_left(tails, value)
        if at == len(tails):
            tails.append(value)
        else:
            tails[at] = value
    return len(tails)
