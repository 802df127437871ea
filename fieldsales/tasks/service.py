"""Tasks: managers give them to reps of their team; reps read and complete their own."""
from types import SimpleNamespace

from sqlalchemy import Select, select

from fieldsales.changes.access import reassigned
from fieldsales.common import now_ms
from fieldsales.customers.models import Customer
from fieldsales.customers.service import assignable_rep, get_referenced, invalid
from fieldsales.database import add_new, id_key
from fieldsales.errors import ApiError
from fieldsales.extensions import db
from fieldsales.locations import access as position_access
from fieldsales.tasks.models import REP_FIELDS, Task
from fieldsales.users import hours, scope
from fieldsales.users.models import Team, User

_FIELDS = ("title", "description", "category", "due_at", "status", "completed_at",
           "completion_note", "latitude", "longitude")
TASK_ID = id_key(Task, what="task")


def visible(*, viewer: User) -> Select:
    """Live tasks the viewer may read: admins all, managers those of their team's reps,
    reps their own."""
    return select(Task).where(Task.deleted_at.is_(None), scope.rep_clause(
        viewer=viewer, rep_column=Task.assigned_rep_id, procurement="none"))


def as_shown_to(viewer_id: str, tasks: list[Task]) -> list:
    """The tasks as the viewer may see them: where a rep completed a task off duty (their
    team's working hours, users/hours.py) is shown to the rep alone; for anyone else those
    coordinates are blank (a read-only copy: the stored task keeps them)."""
    hidden_from = {task.assigned_rep_id for task in tasks if task.latitude is not None
                   and task.completed_at is not None and task.assigned_rep_id != viewer_id}
    if not hidden_from:
        return tasks
    teams = dict(db.session.execute(
        select(User.id, Team).outerjoin(Team, Team.id == User.team_id)
        .where(User.id.in_(hidden_from))).tuples().all())
    on_duty = {rep_id: hours.on_duty_test(team) for rep_id, team in teams.items()}
    columns = [attr.key for attr in Task.__mapper__.column_attrs]

    def shown(task: Task):
        if (task.assigned_rep_id not in on_duty or task.completed_at is None
                or on_duty[task.assigned_rep_id](task.completed_at)):
            return task
        return SimpleNamespace(**{**{key: getattr(task, key) for key in columns},
                                  "latitude": None, "longitude": None})

    return [shown(task) for task in tasks]


def log_position_views(*, viewer: User, tasks: list[Task] | None = None,
                       query: Select | None = None) -> None:
    """Record who saw where reps completed their tasks (locations/access.py): the reps of
    these tasks, or of those the query matches, that carry coordinates."""
    if query is not None:
        shown = query.subquery()
        rep_ids = list(db.session.scalars(select(shown.c.assigned_rep_id).distinct()
                                          .where(shown.c.latitude.is_not(None))))
    else:
        rep_ids = [task.assigned_rep_id for task in tasks or () if task.latitude is not None]
    position_access.record_views(viewer=viewer, rep_ids=rep_ids, what="tasks")


def get(*, viewer: User, task_id: str) -> Task:
    task = db.session.scalar(visible(viewer=viewer).where(Task.id == task_id))
    if task is None:
        raise ApiError(404, "not_found", "No such task.")
    return task


def _apply(task: Task, changes: dict) -> None:
    """Copy fields; `done` without a completion time is done now, reopening clears it."""
    for name in _FIELDS:
        if name in changes:
            setattr(task, name, changes[name])
    if "status" in changes and "completed_at" not in changes:
        if task.status == "done" and task.completed_at is None:
            task.completed_at = now_ms()
        elif task.status == "open":
            task.completed_at = None


def _customer_of(*, viewer: User, rep: User, customer_id: str) -> Customer:
    """A task's customer must be one of the rep's team: another team's customer would leak
    to a phone that may not see it. (A teammate's customer is fine: a rep may cover a
    colleague's round; the phone then has the task without the customer record.)"""
    customer = get_referenced(viewer=viewer, customer_id=customer_id)
    if customer.team_id != rep.team_id:
        raise invalid("customer_id", "This customer is not one of the task's rep's team.")
    return customer


def create(*, viewer: User, data: dict) -> Task:
    rep = assignable_rep(viewer=viewer, rep_id=data["assigned_rep_id"])
    customer = (_customer_of(viewer=viewer, rep=rep, customer_id=data["customer_id"])
                if data.get("customer_id") else None)
    if data.get("id") and db.session.get(Task, data["id"]) is not None:
        raise TASK_ID.error()
    task = Task(id=data.get("id"), assigned_rep_id=rep.id, created_by_id=viewer.id,
                customer_id=customer.id if customer else None)
    _apply(task, data)
    add_new(task, TASK_ID)
    return task


def update(*, viewer: User, task: Task, changes: dict) -> Task:
    """Change a task; a new assigned rep makes it leave the old rep's phone and reach the
    new rep's on their next pulls. A new rep or customer must keep the customer assigned
    to the task's rep."""
    if viewer.role == "rep":
        refused = sorted(set(changes) - REP_FIELDS)
        if refused:
            raise ApiError(403, "read_only_field",
                           "Reps may change only status, completed_at and completion_note.",
                           {name: ["Reps may not change this field."] for name in refused})
    if changes.get("customer_id") is not None:
        get_referenced(viewer=viewer, customer_id=changes["customer_id"])
    rep = (assignable_rep(viewer=viewer, rep_id=changes["assigned_rep_id"])
           if "assigned_rep_id" in changes else db.session.get_one(User, task.assigned_rep_id))
    rep_id = rep.id
    customer_id = changes["customer_id"] if "customer_id" in changes else task.customer_id
    if customer_id is not None and (customer_id, rep_id) != (task.customer_id,
                                                             task.assigned_rep_id):
        _customer_of(viewer=viewer, rep=rep, customer_id=customer_id)
    if "customer_id" in changes:
        task.customer_id = changes["customer_id"]
    if rep_id != task.assigned_rep_id:
        reassigned(db.session, table_name="tasks", record_id=task.id,
                   old_rep_id=task.assigned_rep_id, new_rep_id=rep_id)
        task.assigned_rep_id = rep_id
    _apply(task, changes)
    return task


def remove(*, task: Task) -> None:
    """Soft removal: the tombstone reaches the rep's next pull as a deleted id."""
    task.deleted_at = now_ms()
