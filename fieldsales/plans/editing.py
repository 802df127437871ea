"""Managers' changes to journey plans through the API: add a stop, move it, lock it, remove it
(sync contract, "Schema version 2", set-up). The plan job's own planning is elsewhere; this
module only keeps a manager's edits within the rules:

- the rep is one the caller may give work to (admins any, managers their team's), and the
  customer one the caller can see and the rep's phone has (assigned to the rep), so a plan
  never names a customer the phone cannot show; ids from the payload grant nothing;
- a stop is added or moved to the rep's today or later (in the team's zone), at most
  `SYNC_DAYS_AHEAD` days ahead (what the phone holds), and only while it is still
  `planned`: done, missed and skipped ones are history;
- a removal is soft, and reaches the rep's next version-2 pull as a deleted id; a done stop
  is kept (its visit points at it).
"""
from datetime import date, timedelta

from sqlalchemy import Select, func, select

from fieldsales.common import now_ms
from fieldsales.customers.service import assignable_rep, get_referenced, invalid
from fieldsales.database import add_new, id_key
from fieldsales.errors import ApiError
from fieldsales.extensions import db
from fieldsales.plans.models import SYNC_DAYS_AHEAD, PlannedVisit
from fieldsales.users import hours, scope
from fieldsales.users.models import User

PLANNED_VISIT_ID = id_key(PlannedVisit, what="planned visit")
_MOVES = ("planned_date", "sequence", "planned_arrival_at", "planned_duration_s")


def visible(*, viewer: User) -> Select:
    """Live planned visits the viewer may read: admins all, managers their team's reps',
    reps their own."""
    return select(PlannedVisit).where(PlannedVisit.deleted_at.is_(None), scope.rep_clause(
        viewer=viewer, rep_column=PlannedVisit.rep_id, procurement="none"))


def get(*, viewer: User, planned_visit_id: str) -> PlannedVisit:
    planned = db.session.scalar(visible(viewer=viewer).where(PlannedVisit.id == planned_visit_id))
    if planned is None:
        raise ApiError(404, "not_found", "No such planned visit.")
    return planned


def _check_day(*, rep: User, day: date) -> str:
    today = hours.local_day(rep.team, now_ms())
    last = today + timedelta(days=SYNC_DAYS_AHEAD)
    if not today <= day <= last:
        raise invalid("planned_date", f"Must be from the rep's today ({today.isoformat()}) "
                                      f"to {SYNC_DAYS_AHEAD} days ahead ({last.isoformat()}).")
    return day.isoformat()


def _next_sequence(*, rep_id: str, planned_date: str) -> int:
    last = db.session.scalar(select(func.max(PlannedVisit.sequence)).where(
        PlannedVisit.rep_id == rep_id, PlannedVisit.planned_date == planned_date,
        PlannedVisit.deleted_at.is_(None)))
    return (last or 0) + 1


def create(*, viewer: User, data: dict) -> PlannedVisit:
    """A manager's stop (`reason` manual) in the rep's day; locked unless said otherwise."""
    rep = assignable_rep(viewer=viewer, rep_id=data["rep_id"], field="rep_id")
    customer = get_referenced(viewer=viewer, customer_id=data["customer_id"])
    if customer.assigned_rep_id != rep.id:
        raise invalid("customer_id", "This customer is not assigned to the rep.")
    planned_date = _check_day(rep=rep, day=data["planned_date"])
    if data.get("id") and db.session.get(PlannedVisit, data["id"]) is not None:
        raise PLANNED_VISIT_ID.error()
    sequence = data.get("sequence") or _next_sequence(rep_id=rep.id, planned_date=planned_date)
    planned = PlannedVisit(
        id=data.get("id"), rep_id=rep.id, customer_id=customer.id, planned_date=planned_date,
        sequence=sequence, planned_arrival_at=data.get("planned_arrival_at"),
        planned_duration_s=data.get("planned_duration_s"), reason="manual", status="planned",
        locked=data.get("locked", True), created_by_id=viewer.id)
    add_new(planned, PLANNED_VISIT_ID)
    return planned


def update(*, planned: PlannedVisit, changes: dict) -> PlannedVisit:
    """Move a stop that is still planned (day, sequence, times), or lock or unlock any."""
    moves = {name: changes[name] for name in _MOVES if name in changes}
    if moves and planned.status != "planned":
        raise ApiError(409, "planned_visit_closed",
                       f"This planned visit is {planned.status}: it can no longer be moved.",
                       {"status": planned.status})
    if "planned_date" in moves:
        rep = db.session.get_one(User, planned.rep_id)
        moves["planned_date"] = _check_day(rep=rep, day=moves["planned_date"])
    for name, value in moves.items():
        setattr(planned, name, value)
    if "locked" in changes:
        planned.locked = changes["locked"]
    return planned


def remove(*, planned: PlannedVisit) -> None:
    """Soft removal: the tombstone reaches the rep's next version-2 pull as a deleted id. A
    done stop stays: its visit carried it out."""
    if planned.status == "done":
        raise ApiError(409, "planned_visit_closed",
                       "This planned visit is done: its visit carried it out, it stays.",
                       {"status": planned.status})
    planned.deleted_at = now_ms()
