"""Subscriptions and their deliveries (one per subscription and event)."""
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from fieldsales.extensions import Model

BigId = BigInteger().with_variant(Integer, "sqlite")


class WebhookSubscription(Model):
    """A URL that receives the events of `event_types` (of one team, or of every team and
    the team-less ones when `team_id` is null) that occurred since it was created. `secret`
    signs each delivery (`whsec_...`; shown once). `failures_in_a_row` counts failed
    attempts since the last success; at WEBHOOKS_DISABLE_AFTER_FAILURES the subscription
    is disabled (`active` false), and `disabled_reason` says why."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str | None] = mapped_column(String(200))
    event_types: Mapped[list] = mapped_column(JSON)
    team_id: Mapped[str | None] = mapped_column(ForeignKey("teams.id"))
    secret: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    failures_in_a_row: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class WebhookDelivery(Model):
    """One event for one subscription: `pending` (sent when `next_attempt_at` comes),
    `succeeded` or `failed` (no 2xx before `give_up_at`). The last attempt's outcome is
    kept: `response_code` (null: no answer), `duration_ms`, `error`."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id", name="uq_webhook_deliveries_sub_event"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subscription_id: Mapped[str] = mapped_column(ForeignKey("webhook_subscriptions.id"))
    event_id: Mapped[int] = mapped_column(BigId, ForeignKey("events.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[int] = mapped_column(BigInteger)
    next_attempt_at: Mapped[int | None] = mapped_column(BigInteger)
    give_up_at: Mapped[int] = mapped_column(BigInteger)
    last_attempt_at: Mapped[int | None] = mapped_column(BigInteger)
    response_code: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
