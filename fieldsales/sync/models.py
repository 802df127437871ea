"""What the phone protocol keeps: quarantined records and the sync log."""
from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fieldsales.common import now_ms
from fieldsales.extensions import Model


class QuarantinedRecord(Model):
    """A pushed record that failed validation, kept whole with its reasons."""

    __tablename__ = "sync_quarantine"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    table_name: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[str | None] = mapped_column(String(200))
    operation: Mapped[str] = mapped_column(String(10))  # created / updated / deleted
    payload: Mapped[dict] = mapped_column(JSON)
    errors: Mapped[dict] = mapped_column(JSON)
    received_at: Mapped[int] = mapped_column(BigInteger, default=now_ms, index=True)
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    resolved_at: Mapped[int | None] = mapped_column(BigInteger, index=True)  # expiry
    # Replays: who replayed it, and the record applied when the admin sent a fixed one.
    resolved_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    replayed_record: Mapped[dict | None] = mapped_column(JSON)
    # Bytes of the stored payload and errors (UTF-8 JSON): what the per-rep cap counts.
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)


class SyncLog(Model):
    """One row per push or pull, so support can read a rep's sync history."""

    __tablename__ = "sync_log"
    __table_args__ = (Index("ix_sync_log_user_started", "user_id", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    device_id: Mapped[str | None] = mapped_column(String(128))
    direction: Mapped[str] = mapped_column(String(4))  # push / pull
    started_at: Mapped[int] = mapped_column(BigInteger, default=now_ms, index=True)  # retention
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str] = mapped_column(String(32))  # ok / conflict / bad_request / error
    last_pulled_at: Mapped[int | None] = mapped_column(BigInteger)
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    quarantined: Mapped[int] = mapped_column(Integer, default=0)
