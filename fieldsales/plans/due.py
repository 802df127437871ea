"""Who is due a visit: every reason the plan job plans a customer, in set-based SQL.

One statement per reason over every rep at once (a UNION ALL), each row (rep, customer,
reason, due_at): from `due_at` on, the visit is due, and the longer it waits the higher its
priority. Reasons (`PLAN_REASONS`) and when a visit is due:

- cadence: an account whose cadence (customers/visiting.py) has passed since its last
  verified visit (any rep's); never visited: due now. For the rep the customer is assigned to.
- prospect: the same for a prospect, for a rep whose selling style is hunter (farmers keep
  accounts; their prospects are planned by hand).
- task: an open selling task at a customer, due by its `due_at`; for the task's rep.
- backlog: a pending order (orders/rules.py) whose requested delivery has passed (or passes
  within the horizon), with no verified visit since: the customer's rep follows it up.
- complaint: feedback rated PLAN_COMPLAINT_MAX_RATING or lower in the last
  PLAN_COMPLAINT_DAYS days with no verified visit since; the customer's rep.

Only live, unmerged customers; `located` says whether the customer has coordinates (a
customer without them is never planned: the job lists it).

Priority (`priority`): the reason's points (REASON_POINTS; a customer due for several takes
the highest and EXTRA_REASON_POINTS for each other one), plus a point per day overdue, up to
MAX_OVERDUE_POINTS.
"""
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import BigInteger, and_, cast, exists, func, literal, select, union_all

from fieldsales.common import DAY_MS
from fieldsales.customers import visiting
from fieldsales.customers.models import Customer
from fieldsales.extensions import db
from fieldsales.feedback.models import Feedback
from fieldsales.orders import rules as order_rules
from fieldsales.orders.models import Order
from fieldsales.tasks.models import Task
from fieldsales.users.models import Team, User
from fieldsales.visits.models import Visit

REASON_POINTS = {"complaint": 50, "backlog": 40, "task": 30, "cadence": 20, "prospect": 10}
EXTRA_REASON_POINTS = 5
MAX_OVERDUE_POINTS = 30
_CHUNK = 900  # ids per IN (...) list


@dataclass
class Due:
    """A customer due a visit by one rep, with every reason it is due for."""

    rep_id: str
    customer_id: str
    due_at: int
    reasons: dict[str, int] = field(default_factory=dict)  # reason -> its due_at
    latitude: float = 0.0
    longitude: float = 0.0
    segment: str | None = None
    opens_at: str | None = None
    closes_at: str | None = None
    located: bool = True

    @property
    def reason(self) -> str:
        """The main reason: the one worth most points."""
        return max(self.reasons, key=lambda r: (REASON_POINTS[r], r))

    def priority(self, *, on_ms: int) -> float:
        """How much the visit matters on a day ending at `on_ms`."""
        overdue = min(MAX_OVERDUE_POINTS, max(0, (on_ms - self.due_at) // DAY_MS))
        return (REASON_POINTS[self.reason] + EXTRA_REASON_POINTS * (len(self.reasons) - 1)
                + overdue)


def due_visits(*, now: int, until: int, rep_ids: list[str]) -> list[Due]:
    """Every (rep, customer) due before `until` for these reps, one entry each."""
    found: dict[tuple[str, str], Due] = {}
    for start in range(0, len(rep_ids), _CHUNK):
        for row in db.session.execute(_due_query(now=now, until=until,
                                                 rep_ids=rep_ids[start:start + _CHUNK])):
            key = (row.rep_id, row.customer_id)
            due = found.get(key)
            if due is None:
                due = found[key] = Due(
                    rep_id=row.rep_id, customer_id=row.customer_id, due_at=row.due_at,
                    latitude=row.latitude, longitude=row.longitude, segment=row.segment,
                    opens_at=row.opens_at, closes_at=row.closes_at, located=bool(row.located))
            due.due_at = min(due.due_at, row.due_at)
            due.reasons[row.reason] = min(due.reasons.get(row.reason, row.due_at), row.due_at)
    return sorted(found.values(), key=lambda d: (d.rep_id, d.due_at, d.customer_id))


def _due_query(*, now: int, until: int, rep_ids: list[str]):
    config = current_app.config
    ms = lambda value: literal(value, BigInteger)  # noqa: E731  (64-bit on PostgreSQL)
    live = and_(Customer.deleted_at.is_(None), Customer.merged_into_id.is_(None))

    def columns(rep_id, reason: str, due_at):
        return (rep_id.label("rep_id"), Customer.id.label("customer_id"),
                literal(reason).label("reason"), cast(due_at, BigInteger).label("due_at"),
                Customer.latitude, Customer.longitude, Customer.segment, Customer.opens_at,
                Customer.closes_at, visiting.located().label("located"))

    def visited_since(moment):
        return exists().where(Visit.customer_id == Customer.id, Visit.verified.is_(True),
                              Visit.deleted_at.is_(None), Visit.check_in_at >= moment)

    last_visit = (select(Visit.customer_id, func.max(Visit.check_in_at).label("at"))
                  .where(Visit.verified.is_(True), Visit.deleted_at.is_(None))
                  .group_by(Visit.customer_id).subquery())
    cadence_ms = cast(visiting.cadence_days(team_cadence=Team.visit_cadence_days),
                      BigInteger) * ms(DAY_MS)
    cadence_due = func.coalesce(last_visit.c.at + cadence_ms, ms(now))
    rep = User
    by_cadence = (
        select(*columns(Customer.assigned_rep_id, "cadence", cadence_due))
        .join(rep, rep.id == Customer.assigned_rep_id)
        .outerjoin(Team, Team.id == rep.team_id)
        .outerjoin(last_visit, last_visit.c.customer_id == Customer.id)
        .where(live, Customer.assigned_rep_id.in_(rep_ids), Customer.kind == "account",
               cadence_due < ms(until)))
    prospects = (
        select(*columns(Customer.assigned_rep_id, "prospect", cadence_due))
        .join(rep, rep.id == Customer.assigned_rep_id)
        .outerjoin(Team, Team.id == rep.team_id)
        .outerjoin(last_visit, last_visit.c.customer_id == Customer.id)
        .where(live, Customer.assigned_rep_id.in_(rep_ids), Customer.kind == "prospect",
               rep.selling_style == "hunter", cadence_due < ms(until)))
    tasks = (
        select(*columns(Task.assigned_rep_id, "task", Task.due_at))
        .join(Customer, Customer.id == Task.customer_id)
        .where(live, Task.assigned_rep_id.in_(rep_ids), Task.deleted_at.is_(None),
               Task.category == "selling", Task.status == "open", Task.due_at.is_not(None),
               Task.due_at < ms(until)))
    backlog = (
        select(*columns(Customer.assigned_rep_id, "backlog", Order.requested_delivery_at))
        .join(Customer, Customer.id == Order.customer_id)
        .where(live, Customer.assigned_rep_id.in_(rep_ids), order_rules.pending(),
               Order.requested_delivery_at.is_not(None),
               Order.requested_delivery_at < ms(until),
               ~visited_since(Order.requested_delivery_at)))
    complaints = (
        select(*columns(Customer.assigned_rep_id, "complaint", Feedback.recorded_at))
        .join(Customer, Customer.id == Feedback.customer_id)
        .where(live, Customer.assigned_rep_id.in_(rep_ids), Feedback.deleted_at.is_(None),
               Feedback.rating <= config["PLAN_COMPLAINT_MAX_RATING"],
               Feedback.recorded_at >= ms(now - config["PLAN_COMPLAINT_DAYS"] * DAY_MS),
               ~visited_since(Feedback.recorded_at)))
    return union_all(by_cadence, prospects, tasks, backlog, complaints)
