"""Small shared pieces: ids, times in epoch milliseconds, the columns every synced row has."""
import re
import secrets
import string
import time

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

# Anchored with ^ and $ so the OpenAPI document carries it as a valid ECMA pattern; always
# applied with fullmatch, so a trailing newline never passes.
ID_PATTERN = r"^[A-Za-z0-9_.\-]{1,64}$"
ID_RE = re.compile(ID_PATTERN)
_ALPHABET = string.ascii_letters + string.digits

DAY_MS = 86_400_000
ROLES = ("rep", "manager", "procurement", "admin")


def now_ms() -> int:
    """The server clock, UTC milliseconds since the epoch (the unit of every stored time)."""
    return time.time_ns() // 1_000_000


def new_id() -> str:
    """An id shaped like the ones WatermelonDB makes (16 alphanumerics)."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(16))


def is_valid_id(value) -> bool:
    return isinstance(value, str) and ID_RE.fullmatch(value) is not None


def id_column(**kwargs) -> Mapped[str]:
    return mapped_column(String(64), primary_key=True, default=new_id, **kwargs)


class SyncedMixin:
    """Columns that let phones pull a row: server change stamps and a tombstone.

    `created_seq`/`changed_seq` are values of the sync clock (see fieldsales/sync/clock.py):
    strictly increasing server times in ms, assigned in commit order. `deleted_at` marks a
    soft removal, kept so phones learn of it.
    """

    created_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    changed_seq: Mapped[int] = mapped_column(BigInteger, default=0, index=True)
    received_at: Mapped[int] = mapped_column(BigInteger, default=now_ms)
    deleted_at: Mapped[int | None] = mapped_column(BigInteger)


Ms = BigInteger  # column type of every time value
Int = Integer
