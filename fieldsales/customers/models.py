from sqlalchemy import Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fieldsales.changes.models import SyncedMixin
from fieldsales.common import id_column
from fieldsales.extensions import Model

CUSTOMER_KINDS = ("prospect", "account")


class Customer(SyncedMixin, Model):
    __tablename__ = "customers"

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(Text)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    geofence_radius_m: Mapped[float] = mapped_column(Float, default=100)
    segment: Mapped[str | None] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(50), index=True)
    kind: Mapped[str] = mapped_column(String(10), default="prospect")
    # The team owns the customer; the rep works it. Managers act on their team's customers.
    team_id: Mapped[str | None] = mapped_column(ForeignKey("teams.id"), index=True)
    assigned_rep_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    merged_into_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"))
    # How often to visit (glossary "Visit cadence"): weekly 7, fortnightly 14, monthly 30,
    # or any N days; null takes the default by kind and segment (customers/cadence.py).
    visit_cadence_days: Mapped[int | None] = mapped_column(Integer)
    # The CRM's own id of the customer, which imports match on (fieldsales/imports).
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    # Opening hours, "HH:MM" in the team's time zone (users/hours.py), for journey plans:
    # a visit is planned to arrive and finish within them. Null: open all working day.
    opens_at: Mapped[str | None] = mapped_column(String(5))
    closes_at: Mapped[str | None] = mapped_column(String(5))
