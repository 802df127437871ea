"""The record of each import, which makes an `Idempotency-Key` answer the same way twice."""
from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fieldsales.common import now_ms
from fieldsales.extensions import Model


class ImportRun(Model):
    """One import through the API or the CLI: what it was, and the answer it got.

    A run with an `idempotency_key` is unique per caller and kind: a repeat with the same key
    replays `status` and `answer` when `body_hash` matches, and is refused when it does not.
    """

    __tablename__ = "import_runs"
    __table_args__ = (UniqueConstraint("user_id", "kind", "idempotency_key",
                                       name="uq_import_runs_user_id_kind_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    body_hash: Mapped[str] = mapped_column(String(64))
    dry_run: Mapped[bool] = mapped_column(Boolean)
    applied: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[int] = mapped_column(Integer)
    answer: Mapped[str] = mapped_column(Text)  # the JSON body answered
    rows: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now_ms)
