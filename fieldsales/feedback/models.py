from sqlalchemy import BigInteger, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fieldsales import phonetime
from fieldsales.changes.models import SyncedMixin
from fieldsales.common import id_column
from fieldsales.extensions import Model

FEEDBACK_CATEGORIES = ("product", "delivery", "service", "price", "other")


class Feedback(SyncedMixin, Model):
    __tablename__ = "feedback"

    id: Mapped[str] = id_column()
    rep_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    visit_id: Mapped[str | None] = mapped_column(ForeignKey("visits.id"))
    recorded_at: Mapped[int] = mapped_column(BigInteger, index=True)
    rating: Mapped[int | None] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(10))
    product_id: Mapped[str | None] = mapped_column(ForeignKey("products.id"), index=True)
    requested_quantity: Mapped[float | None] = mapped_column(Float)
    comment: Mapped[str | None] = mapped_column(Text)
    time_flags: Mapped[str | None] = phonetime.flags_column()  # odd phone times, server-owned
