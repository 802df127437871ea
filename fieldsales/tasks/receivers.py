"""Tasks' answers to what users announce (fieldsales.users.signals)."""
from sqlalchemy import func, select

from fieldsales.extensions import db
from fieldsales.tasks.models import Task
from fieldsales.users import signals
from fieldsales.users.models import User


def connect() -> None:
    """Called by `create_app`; connecting again adds nothing."""
    signals.rep_leaving_team.connect(count_open_tasks, weak=False)


def count_open_tasks(rep: User) -> dict[str, int]:
    """Open tasks follow the rep, so they would leave the old manager's sight."""
    return {"open_tasks": db.session.execute(select(func.count()).select_from(Task).where(
        Task.assigned_rep_id == rep.id, Task.status == "open", Task.deleted_at.is_(None)))
        .scalar_one()}
