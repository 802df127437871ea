"""Journey plans: a rep's planned visits, day by day (glossary "Journey plan", "Planned visit";
sync schema version 2 in docs/sync-contract.md)."""
from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fieldsales.changes.models import SyncedMixin
from fieldsales.common import id_column
from fieldsales.extensions import Model

PLAN_REASONS = ("cadence", "task", "backlog", "complaint", "prospect", "manual")
PLAN_STATUSES = ("planned", "done", "missed", "skipped")
# The days a rep's phone holds (sync schema version 2): planned_date from 7 days ago to 14
# days ahead of the rep's today. No plan is made beyond it: a row further ahead would come
# into the window unchanged, and an incremental pull would never bring it.
SYNC_DAYS_BEHIND, SYNC_DAYS_AHEAD = 7, 14


class PlannedVisit(SyncedMixin, Model):
    """One stop of a rep's day. Made by the plan job or a manager; the phone may only skip it.

    `planned_date` is the rep's local day (`YYYY-MM-DD`, in the team's zone: users/hours.py).
    """

    __tablename__ = "planned_visits"
    __table_args__ = (Index("ix_planned_visits_rep_date", "rep_id", "planned_date"),)

    id: Mapped[str] = id_column()
    rep_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    planned_date: Mapped[str] = mapped_column(String(10))
    sequence: Mapped[int] = mapped_column(Integer)
    planned_arrival_at: Mapped[int | None] = mapped_column(BigInteger)
    planned_duration_s: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(10), default="manual")
    status: Mapped[str] = mapped_column(String(10), default="planned")
    skip_reason: Mapped[str | None] = mapped_column(Text)
    # The verified visit that carried it out (server-owned).
    visit_id: Mapped[str | None] = mapped_column(ForeignKey("visits.id"))
    # A manager's manual stop stays where it is when the plan job re-plans.
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
