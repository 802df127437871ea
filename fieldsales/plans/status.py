"""A planned visit's status: planned, then done, missed or skipped (glossary "Planned visit";
sync contract, "Schema version 2"). The one home of these rules:

- a phone may only skip a planned visit that is still `planned`, with a reason
  (`skip_errors`); the push judges its records with it;
- `done` is the server's: a verified visit of the rep at the customer that checks in on the
  planned visit's day (the rep's local day, in the team's zone: users/hours.py) carries it
  out, also after a skip (`carry_out`, in the push's transaction);
- `missed` is the server's too: the day ended, in the team's zone, without one
  (`mark_missed`, run by the plans job).
Every change is stamped with the transaction's sync stamp, so phones learn of it.
"""
from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, bindparam, literal, or_, select, update

from fieldsales.changes.clock import take_stamp
from fieldsales.database import rowcount
from fieldsales.events.service import emit_select, json_payload
from fieldsales.extensions import db
from fieldsales.plans.models import PlannedVisit
from fieldsales.users import hours
from fieldsales.users.models import Team, User
from fieldsales.visits.models import Visit

_CHUNK = 900  # ids per IN (...) list
# A verified visit on the day makes these done: a skip or a miss did not happen after all.
_DONE_FROM = ("planned", "skipped", "missed")


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _same_text(a, b) -> bool:
    # WatermelonDB sends "" for a text column the server holds as null.
    return a == b or (_blank(a) and _blank(b))


def skip_errors(*, stored_status: str, stored_skip_reason: str | None, status: str,
                skip_reason: str | None) -> dict[str, list[str]]:
    """Why a phone's change of a planned visit cannot be taken (column -> reasons); nothing
    when it is a skip of a planned visit with a reason, or changes nothing."""
    if status == stored_status and _same_text(skip_reason, stored_skip_reason):
        return {}
    if stored_status != "planned":
        return {"status": [f"This planned visit is {stored_status}, no longer planned: "
                           "it cannot be changed."]}
    if status != "skipped":
        return {"status": ["A phone may only skip a planned visit "
                           "(status skipped, with a skip_reason)."]}
    if _blank(skip_reason):
        return {"skip_reason": ["A skip needs a reason."]}
    return {}


def repeats(*, stored_status: str, stored_skip_reason: str | None, status: str | None,
            skip_reason: str | None) -> bool:
    """Whether a phone's status and skip reason only repeat what is stored: the same, or a
    skip that was taken and then carried out after all (done, with that reason kept)."""
    if status == stored_status and _same_text(skip_reason, stored_skip_reason):
        return True
    return (status == "skipped" and stored_status == "done" and not _blank(stored_skip_reason)
            and _same_text(skip_reason, stored_skip_reason))


def carry_out(*, rep_id: str, visits: Iterable[dict]) -> None:
    """The rep's pushed visits carry out their planned visits (done, with `visit_id`).

    A verified visit without `planned_visit_id` is linked (its `planned_visit_id` set) to the
    rep's planned visit at its customer on the day it checks in, the first by sequence not
    already carried out by another visit; one that names its planned visit keeps it, and
    carries it out when it checks in on its day. A visit that is not verified changes
    nothing. Rows are dicts with `id`, `customer_id`, `check_in_at`, `verified` and
    `planned_visit_id`, as the push wrote them. Two reads and two bulk updates."""
    verified = [v for v in visits if v.get("verified")]
    if not verified:
        return
    rep = db.session.get(User, rep_id)
    team = rep.team if rep is not None else None
    day_of = {v["id"]: hours.local_day(team, v["check_in_at"]).isoformat() for v in verified}
    P = PlannedVisit
    customers = sorted({v["customer_id"] for v in verified})
    days = sorted(set(day_of.values()))
    named = sorted({v["planned_visit_id"] for v in verified if v.get("planned_visit_id")})
    candidates: dict[str, Any] = {}
    for start in range(0, max(len(customers), len(named), 1), _CHUNK):
        query = select(P.id, P.customer_id, P.planned_date, P.sequence, P.visit_id).where(
            P.rep_id == rep_id, P.deleted_at.is_(None),
            or_(P.customer_id.in_(customers[start:start + _CHUNK]) & P.planned_date.in_(days),
                P.id.in_(named[start:start + _CHUNK])))
        for row in db.session.execute(query):
            candidates[row.id] = row
    by_stop: dict[tuple[str, str], list] = defaultdict(list)
    for row in sorted(candidates.values(), key=lambda r: (r.sequence, r.id)):
        by_stop[(row.customer_id, row.planned_date)].append(row)
    taken = {row.visit_id: row.id for row in candidates.values() if row.visit_id}
    links, done = [], {}
    for visit in sorted(verified, key=lambda v: (v["check_in_at"], v["id"])):
        planned_id = visit.get("planned_visit_id")
        if planned_id is None:
            planned_id = taken.get(visit["id"]) or next(
                (row.id for row in by_stop[(visit["customer_id"], day_of[visit["id"]])]
                 if row.id not in done and (row.visit_id in (None, visit["id"]))), None)
            if planned_id is None:
                continue  # an unplanned visit
            links.append({"_id": visit["id"], "planned_visit_id": planned_id})
            visit["planned_visit_id"] = planned_id
        stop = candidates.get(planned_id)
        if (stop is not None and stop.planned_date == day_of[visit["id"]]
                and stop.customer_id == visit["customer_id"] and planned_id not in done):
            done[planned_id] = visit["id"]
    if not links and not done:
        return
    stamp = take_stamp(db.session)
    if links:
        v = cast(Table, Visit.__table__)  # a declarative model's table is a Table
        db.session.execute(update(v).where(v.c.id == bindparam("_id")).values(
            planned_visit_id=bindparam("planned_visit_id"), changed_seq=stamp), links)
    if done:
        p = cast(Table, PlannedVisit.__table__)
        db.session.execute(
            update(p).where(p.c.id == bindparam("_id"), p.c.status.in_(_DONE_FROM)).values(
                status="done", visit_id=bindparam("visit_id"), changed_seq=stamp),
            [{"_id": planned_id, "visit_id": visit_id} for planned_id, visit_id in done.items()])


def mark_missed(*, now: int) -> int:
    """Planned visits still `planned` whose day has ended in their rep's team's zone become
    `missed`; returns how many. One UPDATE per time zone in use (teams, not rows, are
    looped over); the caller commits."""
    zones: dict[str, list[str | None]] = defaultdict(list)  # zone -> team ids (None: no team)
    for team in db.session.scalars(select(Team)):
        zones[hours.zone_of(team).key].append(team.id)
    zones[hours.zone_of(None).key].append(None)
    p = cast(Table, PlannedVisit.__table__)
    stamp = None
    missed = 0
    for team_ids in zones.values():
        today: date = hours.local_day(_zone_team(team_ids), now)
        teams = [t for t in team_ids if t is not None]
        in_zone: ColumnElement[bool] = User.team_id.in_(teams)
        if None in team_ids:
            in_zone = or_(in_zone, User.team_id.is_(None))
        ended = (p.c.status == "planned", p.c.deleted_at.is_(None),
                 p.c.planned_date < today.isoformat(),
                 p.c.rep_id.in_(select(User.id).where(in_zone)))
        if stamp is None:
            if db.session.scalar(select(p.c.id).where(*ended).limit(1)) is None:
                continue
            stamp = take_stamp(db.session)
        emit_select(type="plan.missed", rows=select(
            select(User.team_id).where(User.id == p.c.rep_id).scalar_subquery()
            .label("team_id"), p.c.id.label("subject_id"),
            json_payload(planned_visit_id=p.c.id, rep_id=p.c.rep_id,
                         customer_id=p.c.customer_id, planned_date=p.c.planned_date)
            .label("payload"), literal(now).label("occurred_at")).where(*ended))
        missed += rowcount(db.session.execute(
            update(p).where(*ended).values(status="missed", changed_seq=stamp)))
    return missed


def _zone_team(team_ids: list[str | None]) -> Team | None:
    """A team of the group (they share a zone), or None for the config's default."""
    first = next((t for t in team_ids if t is not None), None)
    return db.session.get(Team, first) if first is not None else None
