from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from fieldsales.common import id_column, now_ms
from fieldsales.extensions import Model

# `off_duty`: taken outside the team's working hours and kept only because the team must
# (Team.keep_off_duty_positions); shown to no one but the rep.
PING_FLAGS = ("inaccurate", "future", "stale", "duplicate", "implausible_speed", "off_duty")


class LocationPing(Model):
    """One GPS fix. Flagged, never dropped; never pulled by phones."""

    __tablename__ = "location_pings"
    __table_args__ = (Index("ix_location_pings_rep_recorded", "rep_id", "recorded_at"),)

    id: Mapped[str] = id_column()
    rep_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[int] = mapped_column(BigInteger)
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
