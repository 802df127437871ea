"""Tasks' answers to what users and customers announce (fieldsales.users.signals,
fieldsales.customers.signals)."""
from sqlalchemy import func, select, update

from fieldsales.extensions import db
from fieldsales.tasks.models import Task
from fieldsales.users import signals
from fieldsales.users.models import User


def connect() -> None:
    """Called by `create_app`; connecting again adds nothing."""
    signals.rep_leaving_team.connect(count_open_tasks, weak=False)


def count_open_tasks(rep: User) -> dict[str, int]:
    """Open tasks follow the rep, so they would leave the old manager's sight."""
    return {"open_tasks": db.session.scalar(select(func.count()).select_from(Task).where(
        Task.assigned_rep_id == rep.id, Task.status == "open", Task.deleted_at.is_(None)))}


def move_tasks_to_kept_customer(merged, *, kept_id: str, stamp: int) -> dict[str, int]:
    """Tasks of a customer merged into another (fieldsales.customers.signals) move to the
    kept one, stamped so phones pull the change."""
    result = db.session.execute(
        update(Task).where(Task.customer_id == merged.id)
        .values(customer_id=kept_id, changed_seq=stamp)
        .execution_options(synchronize_session=False))
    return {"tasks": result.rowcount}
