from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fieldsales import phonetime
from fieldsales.changes.models import SyncedMixin
from fieldsales.common import id_column
from fieldsales.extensions import Model

VISIT_OUTCOMES = ("order", "no_order", "follow_up", "closed")


class Visit(SyncedMixin, Model):
    __tablename__ = "visits"
    __table_args__ = (Index("ix_visits_rep_check_in", "rep_id", "check_in_at"),)

    id: Mapped[str] = id_column()
    rep_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    check_in_at: Mapped[int] = mapped_column(BigInteger)
    # Null once erased (privacy/erasure.py).
    check_in_latitude: Mapped[float | None] = mapped_column(Float)
    check_in_longitude: Mapped[float | None] = mapped_column(Float)
    check_in_accuracy_m: Mapped[float | None] = mapped_column(Float)
    check_out_at: Mapped[int | None] = mapped_column(BigInteger)
    check_out_latitude: Mapped[float | None] = mapped_column(Float)
    check_out_longitude: Mapped[float | None] = mapped_column(Float)
    outcome: Mapped[str | None] = mapped_column(String(10))
    notes: Mapped[str | None] = mapped_column(Text)
    # Computed on ingest, read-only for phones.
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    distance_m: Mapped[float | None] = mapped_column(Float)
    time_on_site_s: Mapped[float | None] = mapped_column(Float)
    time_flags: Mapped[str | None] = phonetime.flags_column()  # odd phone times, server-owned
    # The planned visit this visit carried out (sync schema 2). No foreign key: planned
    # visits point back at their visit, and a phone's id is checked on push, not trusted.
    planned_visit_id: Mapped[str | None] = mapped_column(String(64), index=True)
