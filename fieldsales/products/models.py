from sqlalchemy import Float, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from fieldsales.changes.models import SyncedMixin
from fieldsales.common import id_column
from fieldsales.extensions import Model

Money = Numeric(14, 2, asdecimal=False)


class Product(SyncedMixin, Model):
    __tablename__ = "products"

    id: Mapped[str] = id_column()
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(20), default="each")
    unit_price: Mapped[float] = mapped_column(Money)
    stock_on_hand: Mapped[float] = mapped_column(Float, default=0)
    lead_time_days: Mapped[int] = mapped_column(Integer, default=7)
