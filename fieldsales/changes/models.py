"""The tables of change tracking, and the columns every synced row has."""
from sqlalchemy import DDL, BigInteger, Boolean, ForeignKey, Index, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column

from fieldsales.common import now_ms
from fieldsales.extensions import Model


class SyncedMixin:
    """Columns that let phones pull a row: server change stamps and a tombstone.

    `created_seq`/`changed_seq` are values of the sync clock (see fieldsales/changes/clock.py):
    strictly increasing server times in ms, assigned in commit order. `deleted_at` marks a
    soft removal, kept so phones learn of it.
    """

    created_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    changed_seq: Mapped[int] = mapped_column(BigInteger, default=0, index=True)
    received_at: Mapped[int] = mapped_column(BigInteger, default=now_ms)
    deleted_at: Mapped[int | None] = mapped_column(BigInteger)


class SyncClock(Model):
    """The one row whose lock orders every change stamp (see fieldsales/changes/clock.py)."""

    __tablename__ = "sync_clock"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_stamp: Mapped[int] = mapped_column(BigInteger)


event.listen(
    SyncClock.__table__, "after_create",
    DDL("INSERT INTO sync_clock (id, last_stamp) VALUES (1, 0)"),
)


class AccessChange(Model):
    """A rep gained or lost sight of a row (a customer or task reassigned).

    Lost access reaches the old rep's next pull as a deletion; gained access reaches the new
    rep's next pull as a creation.
    """

    __tablename__ = "sync_access_changes"
    __table_args__ = (Index("ix_sync_access_changes_user_stamp", "user_id", "stamp"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    table_name: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    granted: Mapped[bool] = mapped_column(Boolean)
    stamp: Mapped[int] = mapped_column(BigInteger)
