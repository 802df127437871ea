"""The score rows the scoring jobs write.

Every score is a row with its components beside it, so a manager or procurement user can see
why a number is what it is (formulas in docs/scoring.md).
"""
from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from fieldsales.extensions import Model

PERIODS = ("day", "week")
FILLS = ("full", "partial", "none")
SUSPECT_KINDS = ("unverified_visit", "flagged_ping")


class RepScore(Model):
    """A rep's productivity over one day or one week.

    `period_start` is UTC midnight of the day, or of the Monday that starts the week.

    Raw figures first, then the 0-1 components (NULL when they do not apply), then the score.
    """

    __tablename__ = "rep_scores"
    __table_args__ = (
        UniqueConstraint("rep_id", "period", "period_start"),
        Index("ix_rep_scores_period_start", "period", "period_start"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rep_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    period: Mapped[str] = mapped_column(String(4))
    period_start: Mapped[int] = mapped_column(BigInteger)
    selling_style: Mapped[str] = mapped_column(String(10))
    # Raw figures
    visits: Mapped[int] = mapped_column(Integer)
    verified_visits: Mapped[int] = mapped_column(Integer)
    unverified_visits: Mapped[int] = mapped_column(Integer)
    time_on_site_s: Mapped[float] = mapped_column(Float)
    selling_time_s: Mapped[float] = mapped_column(Float)
    non_selling_time_s: Mapped[float] = mapped_column(Float)
    tasks_due: Mapped[int] = mapped_column(Integer)
    tasks_done: Mapped[int] = mapped_column(Integer)
    tasks_done_on_time: Mapped[int] = mapped_column(Integer)
    planned_visits: Mapped[int] = mapped_column(Integer)
    # Journey plans (plans.compliance): planned visits, done, done in planned order
    plan_visits: Mapped[int] = mapped_column(Integer, server_default="0")
    plan_visits_done: Mapped[int] = mapped_column(Integer, server_default="0")
    plan_visits_in_order: Mapped[int] = mapped_column(Integer, server_default="0")
    visits_with_order: Mapped[int] = mapped_column(Integer)
    orders_taken: Mapped[int] = mapped_column(Integer)
    order_value: Mapped[float] = mapped_column(Float)
    repeat_orders: Mapped[int] = mapped_column(Integer)
    upsell_orders: Mapped[int] = mapped_column(Integer)
    prospects_visited: Mapped[int] = mapped_column(Integer)
    prospects_converted: Mapped[int] = mapped_column(Integer)
    accounts_assigned: Mapped[int] = mapped_column(Integer)
    accounts_visited: Mapped[int] = mapped_column(Integer)
    pings: Mapped[int] = mapped_column(Integer)
    flagged_pings: Mapped[int] = mapped_column(Integer)
    travel_distance_m: Mapped[float] = mapped_column(Float)
    # Rates (NULL when the denominator is zero)
    task_completion_rate: Mapped[float | None] = mapped_column(Float)
    on_time_rate: Mapped[float | None] = mapped_column(Float)
    call_rate: Mapped[float | None] = mapped_column(Float)
    plan_adherence: Mapped[float | None] = mapped_column(Float)
    strike_rate: Mapped[float | None] = mapped_column(Float)
    selling_share: Mapped[float | None] = mapped_column(Float)
    account_coverage: Mapped[float | None] = mapped_column(Float)
    target_attainment: Mapped[float | None] = mapped_column(Float)  # no targets table yet
    # Components, 0-1 each (NULL: not applicable, its weight is spread over the others)
    c_visits: Mapped[float | None] = mapped_column(Float)
    c_selling_share: Mapped[float | None] = mapped_column(Float)
    c_task_completion: Mapped[float | None] = mapped_column(Float)
    c_on_time: Mapped[float | None] = mapped_column(Float)
    c_call_rate: Mapped[float | None] = mapped_column(Float)
    c_plan_adherence: Mapped[float | None] = mapped_column(Float)
    c_strike_rate: Mapped[float | None] = mapped_column(Float)
    c_orders: Mapped[float | None] = mapped_column(Float)
    c_target: Mapped[float | None] = mapped_column(Float)
    c_prospects: Mapped[float | None] = mapped_column(Float)
    c_conversions: Mapped[float | None] = mapped_column(Float)
    c_coverage: Mapped[float | None] = mapped_column(Float)
    c_repeat: Mapped[float | None] = mapped_column(Float)
    base_score: Mapped[float] = mapped_column(Float)
    suspect_penalty: Mapped[float] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)
    computed_at: Mapped[int] = mapped_column(BigInteger)


class ScoringSuspect(Model):
    """Suspect activity behind a lower score, listed one row per record (never hidden).

    The suspects of a score row are those of its rep with `occurred_at` inside its period.
    """

    __tablename__ = "scoring_suspects"
    __table_args__ = (Index("ix_scoring_suspects_rep_occurred", "rep_id", "occurred_at"),
                      Index("ix_scoring_suspects_occurred", "occurred_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rep_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[int] = mapped_column(BigInteger)
    detail: Mapped[str] = mapped_column(String(200))


class ProductDemand(Model):
    """A product's demand in one complete week (Monday 00:00 UTC), with the smoothed forecast.

    The stock figures (stock, backlog, cover, reorder, flags) are a snapshot taken when the job
    ran and are set only on the latest week's row (`is_latest`); older rows keep the history.
    """

    __tablename__ = "product_demand"
    __table_args__ = (
        UniqueConstraint("product_id", "week_start"),
        Index("ix_product_demand_week_start", "week_start"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"))
    week_start: Mapped[int] = mapped_column(BigInteger)
    ordered_quantity: Mapped[float] = mapped_column(Float)
    feedback_requested_quantity: Mapped[float] = mapped_column(Float)
    level: Mapped[float] = mapped_column(Float)
    trend: Mapped[float] = mapped_column(Float)
    forecast: Mapped[float] = mapped_column(Float)  # for the week after week_start's week
    is_latest: Mapped[bool] = mapped_column(Boolean, default=False)
    backlog_quantity: Mapped[float | None] = mapped_column(Float)
    stock_on_hand: Mapped[float | None] = mapped_column(Float)
    lead_time_days: Mapped[int | None] = mapped_column(Integer)
    days_of_cover: Mapped[float | None] = mapped_column(Float)
    reorder_suggestion: Mapped[float | None] = mapped_column(Float)
    rising_demand: Mapped[bool] = mapped_column(Boolean, default=False)
    stock_short_of_backlog: Mapped[bool] = mapped_column(Boolean, default=False)
    computed_at: Mapped[int] = mapped_column(BigInteger)


class BacklogPriority(Model):
    """One open order's dispatch priority: rank 1 ships first. Replaced whole by each run."""

    __tablename__ = "backlog_priorities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), unique=True)
    rank: Mapped[int] = mapped_column(Integer, index=True)
    score: Mapped[float] = mapped_column(Float)
    customer_id: Mapped[str] = mapped_column(String(64))
    rep_id: Mapped[str] = mapped_column(String(64), index=True)
    ordered_at: Mapped[int] = mapped_column(BigInteger)
    requested_delivery_at: Mapped[int | None] = mapped_column(BigInteger)
    # Raw figures
    age_days: Mapped[float] = mapped_column(Float)
    lateness_days: Mapped[float] = mapped_column(Float)
    pending_quantity: Mapped[float] = mapped_column(Float)
    pending_value: Mapped[float] = mapped_column(Float)
    allocated_quantity: Mapped[float] = mapped_column(Float)
    fill: Mapped[str] = mapped_column(String(8))
    fill_share: Mapped[float] = mapped_column(Float)
    wait_days: Mapped[int] = mapped_column(Integer)  # longest lead time of a short line
    customer_revenue_90d: Mapped[float] = mapped_column(Float)
    segment: Mapped[str | None] = mapped_column(String(50))
    negative_feedback_30d: Mapped[int] = mapped_column(Integer)
    # Points (their sum is the score)
    age_points: Mapped[float] = mapped_column(Float)
    lateness_points: Mapped[float] = mapped_column(Float)
    fill_points: Mapped[float] = mapped_column(Float)
    value_points: Mapped[float] = mapped_column(Float)
    customer_points: Mapped[float] = mapped_column(Float)
    segment_points: Mapped[float] = mapped_column(Float)
    feedback_points: Mapped[float] = mapped_column(Float)
    promised_dispatch_at: Mapped[int] = mapped_column(BigInteger)
    computed_at: Mapped[int] = mapped_column(BigInteger)
