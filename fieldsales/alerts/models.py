"""Alert rules per team, and the alerts the `alerts` job writes from events (its cursor is
the outbox's: `events.models.EventCursor`)."""
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from fieldsales.extensions import Model

BigId = BigInteger().with_variant(Integer, "sqlite")


class AlertRule(Model):
    """Whether a team alerts on one event type, past which threshold (`service._meets_threshold`:
    rep.silent minutes at least, order.late days at least, feedback.complaint rating at most;
    null: every event of the type), and whether it e-mails, to whom (null: the team's
    managers)."""

    __tablename__ = "alert_rules"
    __table_args__ = (UniqueConstraint("team_id", "event_type", name="uq_alert_rules_team_type"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.id"))
    event_type: Mapped[str] = mapped_column(String(40))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    threshold: Mapped[int | None] = mapped_column(Integer)
    email: Mapped[bool] = mapped_column(Boolean, default=True)
    recipients: Mapped[list | None] = mapped_column(JSON)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class Alert(Model):
    """One event that met one rule: once per (rule, event). `mail_wanted` is the rule's
    e-mail setting when the alert was written; a failed send keeps `mailed_at` null and says
    why in `mail_error`, and the next run tries again."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("rule_id", "event_id", name="uq_alerts_rule_event"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("alert_rules.id"))
    event_id: Mapped[int] = mapped_column(BigId, ForeignKey("events.id"), index=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.id"), index=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    acknowledged_at: Mapped[int | None] = mapped_column(BigInteger)
    acknowledged_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    mail_wanted: Mapped[bool] = mapped_column(Boolean)
    mailed_at: Mapped[int | None] = mapped_column(BigInteger)
    mail_attempts: Mapped[int] = mapped_column(Integer, default=0)
    mail_error: Mapped[str | None] = mapped_column(Text)
