"""Small shared pieces: ids and times in epoch milliseconds."""
import random
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

# Times are epoch milliseconds everywhere; weeks start on Monday 00:00 UTC.
MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
WEEK_MS = 7 * DAY_MS
FIRST_MONDAY_MS = 4 * DAY_MS  # 1970-01-05, the first Monday after the epoch
# No phone time is earlier (fieldsales/phonetime.py): a phone whose clock was reset says 1970.
EARLIEST_PHONE_TIME_MS = 946_684_800_000  # 2000-01-01T00:00:00Z
ROLES = ("rep", "manager", "procurement", "admin")


def now_ms() -> int:
    """The server clock, UTC milliseconds since the epoch (the unit of every stored time)."""
    return time.time_ns() // 1_000_000


def new_id(*, rng: random.Random | None = None) -> str:
    """An id shaped like the ones WatermelonDB makes (16 alphanumerics); from `rng` when given,
    so a seeded generator (the demo) makes the same ids on every run."""
    if rng is not None:
        return "".join(rng.choices(_ALPHABET, k=16))
    return "".join(secrets.choice(_ALPHABET) for _ in range(16))


# Why an id was refused, the same sentence from REST schemas and from the sync push.
ID_MESSAGE = "Must be an id of 1-64 characters of A-Z a-z 0-9 _ - ."


def is_valid_id(value) -> bool:
    """The one id rule (sync contract, "IDs are made by the phone"), for REST and sync."""
    return isinstance(value, str) and ID_RE.fullmatch(value) is not None


def id_column(**kwargs) -> Mapped[str]:
    return mapped_column(String(64), primary_key=True, default=new_id, **kwargs)


Ms = BigInteger  # column type of every time value
Int = Integer
