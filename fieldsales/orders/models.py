from sqlalchemy import BigInteger, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldsales import phonetime
from fieldsales.changes.models import SyncedMixin
from fieldsales.common import id_column, now_ms
from fieldsales.extensions import Model
from fieldsales.products.models import Money

ORDER_STATUSES = ("open", "partially_delivered", "delivered", "cancelled")


class Order(SyncedMixin, Model):
    __tablename__ = "orders"

    id: Mapped[str] = id_column()
    rep_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    visit_id: Mapped[str | None] = mapped_column(ForeignKey("visits.id"))
    ordered_at: Mapped[int] = mapped_column(BigInteger, index=True)
    requested_delivery_at: Mapped[int | None] = mapped_column(BigInteger)
    notes: Mapped[str | None] = mapped_column(Text)
    # Server-owned, read-only for phones.
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    promised_dispatch_at: Mapped[int | None] = mapped_column(BigInteger)
    delivered_at: Mapped[int | None] = mapped_column(BigInteger)  # when fully delivered
    time_flags: Mapped[str | None] = phonetime.flags_column()  # odd phone times, server-owned

    lines: Mapped[list["OrderLine"]] = relationship(back_populates="order")


class OrderLine(SyncedMixin, Model):
    __tablename__ = "order_lines"

    id: Mapped[str] = id_column()
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"), index=True)
    quantity: Mapped[float] = mapped_column(Float)
    unit_price: Mapped[float] = mapped_column(Money)
    delivered_quantity: Mapped[float] = mapped_column(Float, default=0)

    order: Mapped[Order] = relationship(back_populates="lines")


class Delivery(Model):
    """A shipment of some line quantities of one order."""

    __tablename__ = "deliveries"

    id: Mapped[str] = id_column()
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    delivered_at: Mapped[int] = mapped_column(BigInteger, default=now_ms)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))


class DeliveryLine(Model):
    __tablename__ = "delivery_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[str] = mapped_column(ForeignKey("deliveries.id"), index=True)
    order_line_id: Mapped[str] = mapped_column(ForeignKey("order_lines.id"), index=True)
    quantity: Mapped[float] = mapped_column(Float)


