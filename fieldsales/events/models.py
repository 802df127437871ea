"""The outbox table: one row per event, in the transaction of its change."""
from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fieldsales.extensions import Model


class Event(Model):
    """Something that happened: its type (`service.TYPES`), the team it belongs to (None: no
    team), the id of what it is about (`subject_id`: the order, visit ... id), what a receiver
    needs to act (`payload`) and when (`occurred_at`, epoch ms, the server's clock). The id
    grows in commit order per writer; it is the webhook-id of every delivery of the event."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_type_subject_id", "type", "subject_id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(40))
    team_id: Mapped[str | None] = mapped_column(ForeignKey("teams.id"), index=True)
    subject_id: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict] = mapped_column(JSON)
    occurred_at: Mapped[int] = mapped_column(BigInteger, index=True)


class EventCursor(Model):
    """How far a consumer of the outbox (the `alerts` job, the `webhooks` job) has read:
    the newest event id it has seen (`service.read_events`)."""

    __tablename__ = "event_cursors"

    consumer: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_event_id: Mapped[int] = mapped_column(BigInteger, default=0)
