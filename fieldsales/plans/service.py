"""The plan job: every rep's next working days, routed (glossary "Journey plan").

`plan_days(now=..., days=PLAN_DAYS)` plans each active rep's next `days` working days:

1. The days: the team's working days (users/hours.py) from today on, today only while its
   working window has not opened yet (a day under way is never re-planned), each with its
   window [opening, closing); none beyond SYNC_DAYS_AHEAD days (the phone's window).
2. Who is due (plans/due.py, set-based over every rep): cadence, selling tasks, late
   backlog, complaints, prospects for hunters. A customer without coordinates is never
   planned: it is counted and listed as unplannable.
3. What stays: a planned visit in those days that is locked (a manager's), or no longer
   `planned` (skipped, done, missed), or linked to a visit, is never moved or removed; its
   customer is not planned again in the horizon. Locked ones are stops of their day (at their
   planned arrival when they have one); the others keep their number in the day's order.
4. Day by day, the solver (plans/solver.py) routes the locked stops and the customers due by
   the day's end that no earlier day took, from the rep's start point (`start_latitude`/
   `start_longitude`, else the centroid of their located customers), within the window and
   opening hours, with time on site by segment and at most REP_VISITS_PER_DAY visits. What
   it drops waits for the next day with a higher priority; what no day takes is overflow.
5. The rows: the job's unlocked `planned` rows of those days are replaced. A stop planned
   again at the same customer on the same day keeps its row (updated where its order or time
   changed), so phones see no churn; the rest are removed softly (`deleted_at` and the
   transaction's change stamp: phones on schema 2 pull them as deleted ids), the new ones
   inserted. Nothing here commits: the job runner commits once.

The queries are set-based over all reps; the per-rep, per-day solve is the loop that
remains. `run` is the job (jobs/registry.py): it first marks the planned visits of ended days
missed (plans/status.py), then plans; its summary is kept with the run.
"""
import time as clock
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import cast

from flask import current_app
from sqlalchemy import Table, bindparam, func, insert, select, update

from fieldsales.changes.clock import take_stamp
from fieldsales.common import new_id, now_ms
from fieldsales.customers import visiting
from fieldsales.customers.models import Customer
from fieldsales.database import rowcount
from fieldsales.extensions import db
from fieldsales.plans import solver, status
from fieldsales.plans.due import Due, due_visits
from fieldsales.plans.models import SYNC_DAYS_AHEAD, PlannedVisit
from fieldsales.users import hours
from fieldsales.users.models import Team, User

_CHUNK = 900  # ids per IN (...) list
MAX_LISTED = 100  # unplannable customers listed by id in the summary


@dataclass(frozen=True)
class PlanDay:
    day: date
    start_ms: int
    end_ms: int

    @property
    def name(self) -> str:
        return self.day.isoformat()


def run(*, now: int) -> dict:
    """The `plans` job: planned visits whose day ended become missed (plans/status.py), then
    every rep's coming working days are planned; the run's summary."""
    missed = status.mark_missed(now=now)
    withdrawn = withdraw_inactive(now=now)
    summary = plan_days(now=now)
    summary["missed"], summary["withdrawn"] = missed, withdrawn
    summary["rows_written"] += missed + withdrawn
    return summary


def withdraw_inactive(*, now: int) -> int:
    """The still-`planned` visits of reps no longer active (deactivated or removed) are
    removed softly, so their phones drop them and nobody counts them missed; ended days were
    closed first (`status.mark_missed`), so only today's and later ones are left to go."""
    p = cast(Table, PlannedVisit.__table__)
    gone = (p.c.status == "planned", p.c.deleted_at.is_(None),
            p.c.rep_id.in_(select(User.id).where(
                (User.active.is_(False)) | User.deleted_at.is_not(None))))
    if db.session.scalar(select(p.c.id).where(*gone).limit(1)) is None:
        return 0
    return rowcount(db.session.execute(update(p).where(*gone).values(
        deleted_at=now, changed_seq=take_stamp(db.session))))


def working_days(*, team: Team | None, now: int, days: int) -> list[PlanDay]:
    """The team's next `days` working days: today while its window has not opened yet; none
    beyond SYNC_DAYS_AHEAD days from today (what a phone holds: plans/models.py)."""
    found: list[PlanDay] = []
    today = hours.local_day(team, now)
    for offset in range(SYNC_DAYS_AHEAD + 1):
        if len(found) >= days:
            break
        day = today + timedelta(days=offset)
        window = hours.duty_window_ms(team, day)
        if window is not None and window[0] > now:
            found.append(PlanDay(day, *window))
    return found


def plan_days(*, now: int, days: int | None = None, rep_ids: Sequence[str] | None = None,
              time_limit_ms: int | None = None,
              make_id: Callable[[], str] = new_id) -> dict:
    """Plan the next `days` working days of every active rep (or of `rep_ids`); the summary:
    rows written, planned, kept, removed, overflow and unplannable counts. `make_id` makes
    the new rows' ids (the demo's seeded generator)."""
    config = current_app.config
    days = config["PLAN_DAYS"] if days is None else days
    limit_ms = config["PLAN_SOLVER_TIME_LIMIT_MS"] if time_limit_ms is None else time_limit_ms
    reps_query = select(User).where(User.role == "rep", User.active.is_(True),
                                    User.deleted_at.is_(None))
    if rep_ids is not None:
        reps_query = reps_query.where(User.id.in_(list(rep_ids)))
    reps = db.session.scalars(reps_query.order_by(User.id)).all()
    teams = {team.id: team for team in db.session.scalars(select(Team).where(
        Team.id.in_({rep.team_id for rep in reps if rep.team_id})))}
    horizons: dict[str | None, list[PlanDay]] = {}
    for team_id in {rep.team_id for rep in reps}:
        horizons[team_id] = working_days(team=teams.get(team_id) if team_id else None,
                                         now=now, days=days)
    summary = Summary()
    if not reps:
        return summary.as_dict()
    ids = [rep.id for rep in reps]
    until = max((h[-1].end_ms for h in horizons.values() if h), default=now)
    due_by_rep: dict[str, list[Due]] = defaultdict(list)
    for due in due_visits(now=now, until=until, rep_ids=ids):
        due_by_rep[due.rep_id].append(due)
    dates = sorted({d.name for h in horizons.values() for d in h})
    existing = _existing(rep_ids=ids, dates=dates)
    customers = _customers({row.customer_id for rows in existing.values() for row in rows})
    centroids = _centroids(rep_ids=ids)

    writes = Writes(make_id=make_id)
    for rep in reps:
        horizon = horizons[rep.team_id]
        names = {d.name for d in horizon}
        rows = [row for row in existing.get(rep.id, ()) if row.planned_date in names]
        start = ((rep.start_latitude, rep.start_longitude)
                 if rep.start_latitude is not None and rep.start_longitude is not None
                 else centroids.get(rep.id))
        _plan_rep(rep=rep, team=teams.get(rep.team_id) if rep.team_id else None,
                  horizon=horizon, due=due_by_rep.get(rep.id, []), rows=rows,
                  customers=customers, start=start, limit_ms=limit_ms, writes=writes,
                  summary=summary)
    summary.rows_written = writes.apply(now=now)
    summary.removed = len(writes.removed)
    summary.reps = len(reps)
    return summary.as_dict()


@dataclass
class Summary:
    rows_written: int = 0
    reps: int = 0
    rep_days: int = 0
    planned: int = 0
    kept: int = 0
    removed: int = 0
    overflow: int = 0
    unplannable: int = 0
    time_limit_hits: int = 0
    planned_m: int = 0
    nearest_neighbour_m: int = 0
    solve_ms: float = 0.0

    def __post_init__(self):
        self.unplannable_ids: set[str] = set()

    def as_dict(self) -> dict:
        values = {name: getattr(self, name) for name in self.__dataclass_fields__}
        values["solve_ms"] = round(self.solve_ms, 1)
        values["unplannable"] = len(self.unplannable_ids)
        values["unplannable_customer_ids"] = sorted(self.unplannable_ids)[:MAX_LISTED]
        return values


class Writes:
    """The plan job's changes to planned_visits, written together in Core at the end."""

    def __init__(self, *, make_id: Callable[[], str] = new_id):
        self.make_id = make_id
        self.inserted: list[dict] = []
        self.updated: list[dict] = []
        self.removed: list[str] = []

    def apply(self, *, now: int) -> int:
        if not (self.inserted or self.updated or self.removed):
            return 0
        stamp = take_stamp(db.session)
        table = cast(Table, PlannedVisit.__table__)  # a declarative model's table is a Table
        received = now_ms()
        if self.inserted:
            db.session.execute(insert(table), [
                {**row, "created_seq": stamp, "changed_seq": stamp, "received_at": received,
                 "status": "planned", "locked": False, "deleted_at": None}
                for row in self.inserted])
        if self.updated:
            db.session.execute(
                update(table).where(table.c.id == bindparam("row_id")).values(
                    sequence=bindparam("new_sequence"),
                    planned_arrival_at=bindparam("new_arrival"),
                    planned_duration_s=bindparam("new_duration"),
                    reason=bindparam("new_reason"), changed_seq=stamp),
                self.updated)
        for start in range(0, len(self.removed), _CHUNK):
            db.session.execute(update(table).where(
                table.c.id.in_(self.removed[start:start + _CHUNK]))
                .values(deleted_at=now, changed_seq=stamp))
        return len(self.inserted) + len(self.updated) + len(self.removed)


def _existing(*, rep_ids: list[str], dates: list[str]) -> dict[str, list[PlannedVisit]]:
    """The reps' live planned visits on these days."""
    found: dict[str, list[PlannedVisit]] = defaultdict(list)
    if not dates:
        return found
    for start in range(0, len(rep_ids), _CHUNK):
        for row in db.session.scalars(select(PlannedVisit).where(
                PlannedVisit.rep_id.in_(rep_ids[start:start + _CHUNK]),
                PlannedVisit.planned_date.in_(dates), PlannedVisit.deleted_at.is_(None))
                .order_by(PlannedVisit.planned_date, PlannedVisit.sequence, PlannedVisit.id)):
            found[row.rep_id].append(row)
    return found


def _customers(ids: set[str]) -> dict[str, Customer]:
    found: dict[str, Customer] = {}
    listed = sorted(ids)
    for start in range(0, len(listed), _CHUNK):
        found.update((c.id, c) for c in db.session.scalars(
            select(Customer).where(Customer.id.in_(listed[start:start + _CHUNK]))))
    return found


def _centroids(*, rep_ids: list[str]) -> dict[str, tuple[float, float]]:
    """Where each rep's located, live customers are on average (a start point's fallback)."""
    found: dict[str, tuple[float, float]] = {}
    for start in range(0, len(rep_ids), _CHUNK):
        for rep_id, lat, lng in db.session.execute(
                select(Customer.assigned_rep_id, func.avg(Customer.latitude),
                       func.avg(Customer.longitude))
                .where(Customer.assigned_rep_id.in_(rep_ids[start:start + _CHUNK]),
                       Customer.deleted_at.is_(None), Customer.merged_into_id.is_(None),
                       visiting.located())
                .group_by(Customer.assigned_rep_id)):
            found[rep_id] = (float(lat), float(lng))
    return found


def _replaceable(row: PlannedVisit) -> bool:
    """A row the job made and may replace: unlocked, still planned, not carried out."""
    return not row.locked and row.status == "planned" and row.visit_id is None


def _plan_rep(*, rep: User, team: Team | None, horizon: list[PlanDay], due: list[Due],
              rows: list[PlannedVisit], customers: dict[str, Customer],
              start: tuple[float, float] | None, limit_ms: int, writes: Writes,
              summary: Summary) -> None:
    config = current_app.config
    summary.rep_days += len(horizon)
    replaceable = {(row.planned_date, row.customer_id): row for row in rows if _replaceable(row)}
    kept = [row for row in rows if not _replaceable(row)]
    summary.kept += len(kept)
    taken = {row.customer_id for row in kept}
    summary.unplannable_ids.update(d.customer_id for d in due if not d.located)
    candidates = [d for d in due if d.located and d.customer_id not in taken]
    # Locked stops that can be routed: still planned, at a located customer.
    routed = [row for row in kept if row.status == "planned" and row.customer_id in customers
              and visiting.is_located(customers[row.customer_id].latitude,
                                      customers[row.customer_id].longitude)]
    if start is None or not horizon or not (candidates or routed):
        summary.overflow += len(candidates)
        writes.removed.extend(row.id for row in replaceable.values())
        return

    points = [start, *((d.latitude, d.longitude) for d in candidates),
              *((customers[row.customer_id].latitude, customers[row.customer_id].longitude)
                for row in routed)]
    travel = solver.travel_matrix(points, speed_kmh=config["PLAN_TRAVEL_SPEED_KMH"],
                                  osrm_url=config["ROUTING_OSRM_URL"],
                                  timeout_s=config["ROUTING_OSRM_TIMEOUT_SECONDS"])
    node_of = {d.customer_id: i for i, d in enumerate(candidates, start=1)}
    node_of.update((row.id, len(candidates) + 1 + i) for i, row in enumerate(routed))
    by_customer = {d.customer_id: d for d in candidates}
    locked = {row.id: row for row in routed}
    planned: set[str] = set()
    max_visits = int(config["REP_VISITS_PER_DAY"])

    for day in horizon:
        day_s = (day.end_ms - day.start_ms) // 1000
        stops = []
        for row in routed:
            if row.planned_date != day.name:
                continue
            customer = customers[row.customer_id]
            service_s = row.planned_duration_s or _time_on_site_s(customer.segment)
            pinned = ((row.planned_arrival_at - day.start_ms) // 1000
                      if row.planned_arrival_at is not None else None)
            stops.append(solver.Stop(
                key=row.id, node=node_of[row.id], service_s=service_s, locked=True,
                pinned=pinned, window=_window_s(team, day, customer.opens_at,
                                                customer.closes_at, service_s)))
        for d in candidates:
            if d.customer_id in planned or d.due_at >= day.end_ms:
                continue
            service_s = _time_on_site_s(d.segment)
            stops.append(solver.Stop(
                key=d.customer_id, node=node_of[d.customer_id], service_s=service_s,
                priority=d.priority(on_ms=day.end_ms),
                window=_window_s(team, day, d.opens_at, d.closes_at, service_s)))
        if not stops:
            continue
        began = clock.perf_counter()
        plan = solver.solve_day(travel=travel, stops=stops, day_s=day_s,
                                max_visits=max_visits, time_limit_ms=limit_ms)
        summary.solve_ms += (clock.perf_counter() - began) * 1000
        summary.time_limit_hits += plan.status == "time_limit"
        summary.planned_m += plan.distance_m
        summary.nearest_neighbour_m += solver.nearest_neighbour_m(
            travel, [next(s.node for s in stops if s.key == key) for key, _ in plan.route])

        reserved = {row.sequence for row in kept if row.planned_date == day.name
                    and row.id not in {key for key, _ in plan.route}}
        sequences = (n for n in range(1, 10_000) if n not in reserved)
        for (key, offset), sequence in zip(plan.route, sequences, strict=False):
            arrival = day.start_ms + offset * 1000
            stay = locked.get(key)
            if stay is not None:  # a locked stop: its number in the day only
                if stay.sequence != sequence:
                    writes.updated.append({
                        "row_id": stay.id, "new_sequence": sequence,
                        "new_arrival": stay.planned_arrival_at,
                        "new_duration": stay.planned_duration_s, "new_reason": stay.reason})
                continue
            chosen = by_customer[key]
            planned.add(key)
            summary.planned += 1
            values = {"new_sequence": sequence, "new_arrival": arrival,
                      "new_duration": _time_on_site_s(chosen.segment), "new_reason": chosen.reason}
            same = replaceable.pop((day.name, key), None)
            if same is None:
                writes.inserted.append({
                    "id": writes.make_id(), "rep_id": rep.id, "customer_id": key,
                    "planned_date": day.name, "sequence": sequence, "planned_arrival_at": arrival,
                    "planned_duration_s": values["new_duration"], "reason": chosen.reason})
            elif (same.sequence, same.planned_arrival_at, same.planned_duration_s,
                  same.reason) != tuple(values.values()):
                writes.updated.append({"row_id": same.id, **values})
    summary.overflow += sum(1 for d in candidates if d.customer_id not in planned)
    writes.removed.extend(row.id for row in replaceable.values())


def _time_on_site_s(segment: str | None) -> int:
    minutes: dict = current_app.config["PLAN_TIME_ON_SITE_MINUTES"]
    chosen = minutes.get((segment or "").lower(), minutes.get("*", 30))
    return int(round(float(chosen) * 60))


def _window_s(team: Team | None, day: PlanDay, opens_at: str | None, closes_at: str | None,
              service_s: int) -> tuple[int, int] | None:
    """When a visit may start, in seconds from the day's opening: within opening hours,
    finishing by closing."""
    if not opens_at and not closes_at:
        return None
    low = (hours.clock_ms(team, day.day, opens_at) - day.start_ms) // 1000 if opens_at else 0
    high = ((hours.clock_ms(team, day.day, closes_at) - day.start_ms) // 1000 - service_s
            if closes_at else (day.end_ms - day.start_ms) // 1000)
    return max(0, low), high
