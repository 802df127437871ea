from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldsales.common import id_column, now_ms
from fieldsales.extensions import Model
from fieldsales.locations import partitions

if TYPE_CHECKING:
    from fieldsales.users.models import User

# `off_duty`: taken outside the team's working hours and kept only because the team must
# (Team.keep_off_duty_positions); shown to no one but the rep.
PING_FLAGS = ("inaccurate", "future", "stale", "duplicate", "implausible_speed", "off_duty")


class LocationPing(Model):
    """One GPS fix. Flagged, never dropped; never pulled by phones.

    The key is (id, recorded_at): on PostgreSQL the table is partitioned by month of
    `recorded_at` (locations/partitions.py), and a partitioned table's unique keys must hold
    its partition key. Pings are append-only and a phone's retry carries the same
    `recorded_at`, so a resent ping still meets its stored copy; a push names a stored ping by
    the whole key (sync/push/load.py).
    """

    __tablename__ = partitions.TABLE
    __table_args__ = (Index("ix_location_pings_rep_recorded", "rep_id", "recorded_at"),
                      {"postgresql_partition_by": "RANGE (recorded_at)"})

    id: Mapped[str] = id_column()
    rep_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    received_at: Mapped[int] = mapped_column(BigInteger, default=now_ms)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    speed_mps: Mapped[float | None] = mapped_column(Float)
    battery_pct: Mapped[float | None] = mapped_column(Float)
    # Comma-separated names from PING_FLAGS; empty when the fix is clean.
    flags: Mapped[str] = mapped_column(String(100), default="")
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    # Geodesic distance and implied speed from the previous fix in recorded order.
    distance_from_previous_m: Mapped[float | None] = mapped_column(Float)
    implied_speed_mps: Mapped[float | None] = mapped_column(Float)


# What a view of a rep's positions showed (docs/privacy.md, "Who looked").
POSITION_VIEWS = ("activity", "team_map", "tasks", "export")


class PositionView(Model):
    """Someone other than the rep saw the rep's positions: the access log the rep reads."""

    __tablename__ = "position_views"
    __table_args__ = (Index("ix_position_views_rep_viewed", "rep_id", "viewed_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    rep_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    viewer_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    viewed_at: Mapped[int] = mapped_column(BigInteger, default=now_ms, index=True)
    # One of POSITION_VIEWS, and what it covered (a day, a list's filters).
    what: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str | None] = mapped_column(String(200))

    viewer: Mapped["User"] = relationship(foreign_keys=[viewer_id])


# PostgreSQL: the default partition and the months around now, as the models create the table.
event.listen(LocationPing.__table__, "after_create", partitions.create_for_new_table)
