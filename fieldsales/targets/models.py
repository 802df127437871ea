from sqlalchemy import BigInteger, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from fieldsales.common import id_column, now_ms
from fieldsales.extensions import Model

TARGET_METRICS = ("visits", "verified_visits", "new_prospects_visited", "orders", "order_value",
                  "tasks_done")
TARGET_PERIODS = ("day", "week", "month", "quarter")


class Target(Model):
    """A goal on one metric for a rep (or, with no rep, the whole team) over one period.

    Periods are UTC calendar periods: a day, an ISO week from Monday, a month, a quarter.
    `period_start`/`period_end` are epoch ms, end exclusive, fixed when the target is saved.
    """

    __tablename__ = "targets"
    __table_args__ = (Index("ix_targets_team_period", "team_id", "period_start"),)

    id: Mapped[str] = id_column()
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.id"))
    rep_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    metric: Mapped[str] = mapped_column(String(30))
    period: Mapped[str] = mapped_column(String(10))
    period_start: Mapped[int] = mapped_column(BigInteger)
    period_end: Mapped[int] = mapped_column(BigInteger)
    goal: Mapped[float] = mapped_column(Float)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[int] = mapped_column(BigInteger, default=now_ms)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now_ms, onupdate=now_ms)
