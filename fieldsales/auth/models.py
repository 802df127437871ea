"""What sign-in keeps: failed attempts, for throttling."""
from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fieldsales.common import now_ms
from fieldsales.extensions import Model


class LoginFailure(Model):
    """A failed login, counted per email and per client address for throttling."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    failed_at: Mapped[int] = mapped_column(BigInteger, default=now_ms, index=True)
