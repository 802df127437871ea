from sqlalchemy import BigInteger, Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fieldsales import phonetime
from fieldsales.changes.models import SyncedMixin
from fieldsales.common import id_column
from fieldsales.extensions import Model

TASK_CATEGORIES = ("selling", "admin")
TASK_STATUSES = ("open", "done", "cancelled")
# What a rep may change on their own task (REST and sync alike); the rest is the manager's.
REP_FIELDS = frozenset({"status", "completed_at", "completion_note"})
# Time credited per task done (tasks carry no duration): the productivity score's selling
# time and the rep day report both count it (overridable as SCORING_NORMS["task_minutes"]).
TASK_CREDIT_MINUTES = 30


class Task(SyncedMixin, Model):
    __tablename__ = "tasks"

    id: Mapped[str] = id_column()
    assigned_rep_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(10), default="selling")
    due_at: Mapped[int | None] = mapped_column(BigInteger, index=True)
    status: Mapped[str] = mapped_column(String(10), default="open")
    completed_at: Mapped[int | None] = mapped_column(BigInteger)
    completion_note: Mapped[str | None] = mapped_column(Text)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    time_flags: Mapped[str | None] = phonetime.flags_column()  # odd phone times, server-owned
