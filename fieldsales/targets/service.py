"""Targets: who may set and read them, and how far along they are.

Attainment is computed, never stored: `actual` is the metric over the period so far (from the
period start up to now), `attainment = actual / goal`, and the pace projection assumes the
rest of the period goes like the elapsed part: `projected = actual * period length / elapsed`,
`pace = projected / goal` (null before the period starts). A team target (no rep) counts the
work of every rep currently in the team.

Metrics (all exclude removed rows):
- visits, verified_visits: visits checked in during the period (verified: inside the geofence);
- new_prospects_visited: distinct customers with a verified visit in the period that had no
  order before the period began (prospects at its start, even if the visit converted them;
  counted as the productivity score counts them);
- orders, order_value: orders taken in the period, not cancelled; value = sum of
  quantity x unit price over their lines;
- tasks_done: tasks completed in the period.
Phone times count no later than the server knew of them (`phonetime.counted_at`: a visit's or
an order's receipt, a task's last write), so a phone whose clock runs ahead never adds work
to a period that has not come yet.
"""
from datetime import date

from sqlalchemy import Select, and_, distinct, exists, func, or_, select

from fieldsales import phonetime
from fieldsales.common import now_ms
from fieldsales.errors import ApiError
from fieldsales.extensions import db
from fieldsales.orders import rules as order_rules
from fieldsales.orders.models import Order, OrderLine
from fieldsales.targets import periods
from fieldsales.targets.models import Target
from fieldsales.tasks.models import Task
from fieldsales.users import scope
from fieldsales.users import service as users_service
from fieldsales.users.models import User
from fieldsales.visits.models import Visit


def visible_targets(viewer: User) -> Select:
    """Admins: all. Managers: their team's. Reps: their own and their team's."""
    clause = scope.rep_clause(viewer=viewer, rep_column=Target.rep_id,
                              team_column=Target.team_id, procurement="none")
    if viewer.role == "rep":  # and their team's own targets
        clause = or_(clause, and_(Target.rep_id.is_(None), Target.team_id == viewer.team_id))
    return select(Target).where(clause)


def get_visible(*, viewer: User, target_id: str) -> Target:
    target = db.session.scalar(visible_targets(viewer).where(Target.id == target_id))
    if target is None:
        raise ApiError(404, "not_found", "No such target.")
    return target


def create(*, viewer: User, data: dict) -> Target:
    """A new target; managers set them for their own team and its reps only."""
    team_id, rep_id = _owner(viewer=viewer, team_id=data.get("team_id"),
                             rep_id=data.get("rep_id"))
    target = Target(team_id=team_id, rep_id=rep_id, metric=data["metric"], goal=data["goal"],
                    created_by_id=viewer.id)
    _set_period(target, data["period"], data["period_start"])
    _refuse_duplicate(target)
    db.session.add(target)
    db.session.flush()
    return target


def update(*, target: Target, changes: dict) -> Target:
    """Change the goal, metric or period; the owner (team, rep) stays."""
    for name in ("goal", "metric"):
        if name in changes:
            setattr(target, name, changes[name])
    if "period" in changes or "period_start" in changes:
        _set_period(target, changes.get("period", target.period),
                    changes.get("period_start", periods.ms_date(target.period_start)))
    _refuse_duplicate(target)
    return target


def remove(*, target: Target) -> None:
    db.session.delete(target)


def attainment(*, targets: list[Target], now: int | None = None) -> dict[str, dict]:
    """Actual, attainment and pace of each target, with one aggregate query per metric."""
    now = now_ms() if now is None else now
    actuals: dict[str, float] = {}
    by_metric: dict[str, list[str]] = {}
    for target in targets:
        by_metric.setdefault(target.metric, []).append(target.id)
    for metric, ids in by_metric.items():
        actuals.update(_actuals(metric, ids, now))
    figures = {}
    for target in targets:
        actual = float(actuals.get(target.id) or 0)
        length = target.period_end - target.period_start
        elapsed = min(max(now - target.period_start, 0), length)
        projected = actual * length / elapsed if elapsed else None
        figures[target.id] = {
            "actual": round(actual, 2),
            "attainment": round(actual / target.goal, 4),
            "elapsed_share": round(elapsed / length, 4),
            "projected": round(projected, 2) if projected is not None else None,
            "pace": round(projected / target.goal, 4) if projected is not None else None,
        }
    return figures


def _members(ids: list[str]):
    """(target, rep) pairs: the target's rep, or every rep of its team."""
    return (
        select(Target.id.label("target_id"), User.id.label("rep_id"),
               Target.period_start.label("start"), Target.period_end.label("end"))
        .join(User, or_(User.id == Target.rep_id,
                        and_(Target.rep_id.is_(None), User.team_id == Target.team_id,
                             User.role == "rep")))
        .where(Target.id.in_(ids))
        .subquery()
    )


def _actuals(metric: str, ids: list[str], now: int) -> dict[str, float]:
    m = _members(ids)

    def during(column, known_at):
        counted = phonetime.counted_at(column, known_at=known_at)
        # The phone's own time bounds the start too (counted <= column), for its index.
        return and_(column >= m.c.start, counted >= m.c.start, counted < m.c.end,
                    counted <= now)

    if metric in ("visits", "verified_visits", "new_prospects_visited"):
        measure = (func.count(distinct(Visit.customer_id)) if metric == "new_prospects_visited"
                   else func.count(Visit.id))
        query = (select(m.c.target_id, measure)
                 .join(Visit, and_(Visit.rep_id == m.c.rep_id,
                                   during(Visit.check_in_at, Visit.received_at)))
                 .where(Visit.deleted_at.is_(None)))
        if metric in ("verified_visits", "new_prospects_visited"):
            query = query.where(Visit.verified.is_(True))
        if metric == "new_prospects_visited":
            query = query.where(~exists().where(
                Order.customer_id == Visit.customer_id, Order.ordered_at < m.c.start,
                order_rules.counted()))
    elif metric in ("orders", "order_value"):
        query = (select(m.c.target_id, func.count(distinct(Order.id)) if metric == "orders"
                        else func.sum(OrderLine.quantity * OrderLine.unit_price))
                 .join(Order, and_(Order.rep_id == m.c.rep_id,
                                   during(Order.ordered_at, Order.received_at)))
                 .where(order_rules.counted()))
        if metric == "order_value":
            query = query.join(OrderLine, OrderLine.order_id == Order.id).where(
                OrderLine.deleted_at.is_(None))
    elif metric == "tasks_done":
        query = (select(m.c.target_id, func.count(Task.id))
                 .join(Task, and_(Task.assigned_rep_id == m.c.rep_id,
                                  during(Task.completed_at, Task.changed_seq)))
                 .where(Task.status == "done", Task.deleted_at.is_(None)))
    else:
        raise ValueError(metric)
    return dict(db.session.execute(query.group_by(m.c.target_id)).tuples().all())


def _owner(*, viewer: User, team_id: str | None, rep_id: str | None) -> tuple[str, str | None]:
    """The team and rep a new target belongs to, checked against what the viewer manages."""
    if viewer.role == "manager":
        if team_id is not None and team_id != viewer.team_id:
            raise ApiError(403, "forbidden", "Managers set targets for their own team only.")
        team_id = viewer.team_id
    if rep_id is not None:
        rep = db.session.get(User, rep_id)
        if rep is None or rep.role != "rep" or rep.deleted_at is not None or (
                team_id is not None and rep.team_id != team_id):
            raise ApiError(422, "validation_error", "No such rep in that team.",
                           {"rep_id": ["Must be a rep of the target's team."]})
        if rep.team_id is None:
            raise ApiError(422, "validation_error", "That rep is in no team.",
                           {"rep_id": ["The rep must belong to a team."]})
        team_id = rep.team_id
    if team_id is None:
        raise ApiError(422, "validation_error", "Name the team or the rep of the target.",
                       {"team_id": ["Required when rep_id is not given."]})
    users_service.get_named_team(team_id=team_id)
    return team_id, rep_id


def _set_period(target: Target, period: str, start: date) -> None:
    aligned = periods.period_start(period, start)
    if aligned != start:
        raise ApiError(422, "validation_error",
                       f"A {period} starts on {aligned.isoformat()}, not {start.isoformat()}.",
                       {"period_start": [f"Must be the first day of the {period} "
                                         f"(here {aligned.isoformat()})."]})
    target.period = period
    target.period_start, target.period_end = periods.bounds_ms(period, start)


def _refuse_duplicate(target: Target) -> None:
    query = select(Target.id).where(
        Target.team_id == target.team_id, Target.metric == target.metric,
        Target.period == target.period, Target.period_start == target.period_start,
        Target.rep_id.is_(None) if target.rep_id is None else Target.rep_id == target.rep_id)
    if target.id is not None:
        query = query.where(Target.id != target.id)
    other = db.session.scalar(query)
    if other is not None:
        raise ApiError(409, "duplicate_target",
                       "A target on that metric and period already exists; change it instead.",
                       {"existing_id": other})


def as_items(targets: list[Target]) -> list[dict]:
    """Targets with their attainment figures, as the API shows them."""
    figures = attainment(targets=targets)
    return [{
        "id": t.id, "team_id": t.team_id, "rep_id": t.rep_id, "metric": t.metric,
        "period": t.period, "period_start": periods.ms_date(t.period_start).isoformat(),
        "starts_at": t.period_start, "ends_at": t.period_end, "goal": t.goal,
        **figures[t.id], "created_by_id": t.created_by_id, "created_at": t.created_at,
    } for t in targets]
