"""Plausible phone times: the one rule for every time a phone reports.

Device times are data, not the clock (sync contract, push rule 7): the server judges each one
against its own time of receipt. A time that *cannot be true* makes its record refused (the
sync push quarantines it with the reason); a time that is only *odd* is kept and flagged.

- An **event** time (something that happened on the phone: a check-in or check-out, a
  completion, an order, feedback, a GPS fix) cannot be before `EARLIEST_PHONE_TIME_MS`
  (2000-01-01: a phone whose clock was reset says 1970) nor more than the skew allowance after
  its receipt (nothing is sent before it happens). Ahead by more than the tolerance, it is
  `future`; older than the maximum age at receipt, `stale` (a record that waited long on the
  phone).
- A **plan** time (a task's due time, a requested delivery) may lie ahead, but not before
  2000 nor more than the plan horizon after receipt. Past plan times are normal (overdue).
- Within a record, a time that must follow another (check-out after check-in) cannot come
  before it by more than its slack (`out_of_order`).

What is counted (targets) takes an event time no later than the server knew of it
(`counted_at`): a time flagged `future` counts when it was received, so it never lands in a
period that has not come yet.
"""
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import ColumnElement, String, case
from sqlalchemy.orm import Mapped, mapped_column

from fieldsales.common import DAY_MS, EARLIEST_PHONE_TIME_MS, HOUR_MS

FUTURE, STALE = "future", "stale"  # the flags of an odd time, in this order
TIME_FLAGS = (FUTURE, STALE)
EVENT, PLAN = "event", "plan"  # what a time column holds (`sync.tables.Col.when`)


@dataclass(frozen=True)
class Limits:
    future_tolerance_ms: int  # ahead of receipt by more: `future`
    skew_allowance_ms: int  # ahead by more: cannot be true
    max_age_ms: int  # older at receipt: `stale`
    plan_horizon_ms: int  # a plan time further ahead: cannot be true

    @classmethod
    def from_config(cls, config: Mapping) -> "Limits":
        return cls(future_tolerance_ms=config["DEVICE_TIME_FUTURE_TOLERANCE_S"] * 1000,
                   skew_allowance_ms=config["DEVICE_TIME_SKEW_ALLOWANCE_S"] * 1000,
                   max_age_ms=config["DEVICE_TIME_MAX_AGE_DAYS"] * DAY_MS,
                   plan_horizon_ms=config["DEVICE_TIME_PLAN_HORIZON_DAYS"] * DAY_MS)


def oddities(at: int, *, received_at: int, future_tolerance_ms: int,
             max_age_ms: int) -> set[str]:
    """The flags an event time earns: `future` (ahead of its receipt by more than the
    tolerance), `stale` (older than the maximum age when received)."""
    flags = set()
    if at > received_at + future_tolerance_ms:
        flags.add(FUTURE)
    if at < received_at - max_age_ms:
        flags.add(STALE)
    return flags


def impossibility(at: int, *, when: str, received_at: int, limits: Limits) -> str | None:
    """Why a phone time cannot be true, or None. `when`: EVENT or PLAN."""
    if at < EARLIEST_PHONE_TIME_MS:
        return "Must be after 2000-01-01: the phone's clock was not set."
    if when == EVENT and at > received_at + limits.skew_allowance_ms:
        return (f"Is more than {_span(limits.skew_allowance_ms)} after the server received "
                "it: the phone's clock is wrong.")
    if when == PLAN and at > received_at + limits.plan_horizon_ms:
        return f"Must be at most {_span(limits.plan_horizon_ms)} ahead."
    return None


def out_of_order(earlier: int, later: int, *, earlier_name: str, slack_ms: int) -> str | None:
    """Why `later`, which must follow `earlier` (named `earlier_name`), cannot be true: it
    comes before it by more than the slack. None when it can."""
    if later >= earlier - slack_ms:
        return None
    if slack_ms:
        return f"Must not be more than {_span(slack_ms)} before {earlier_name}."
    return f"Must not be before {earlier_name}."


def format_flags(flags: set[str]) -> str | None:
    """Stored form: the flags in `TIME_FLAGS` order, comma-separated; None when clean."""
    return ",".join(name for name in TIME_FLAGS if name in flags) or None


def counted_at(column, *, known_at) -> ColumnElement[int]:
    """SQL: the phone time `column` as counted, no later than `known_at` (a server time the
    row had by then: its receipt, or the stamp of the write that brought the time)."""
    return case((column > known_at, known_at), else_=column)


def flags_column() -> Mapped[str | None]:
    """`time_flags` of a table phones push: the odd times of the row as last written
    (`format_flags`), set by the server (sync push) and never pulled."""
    return mapped_column(String(20))


def _span(ms: int) -> str:
    if ms % DAY_MS == 0:
        days = ms // DAY_MS
        return f"{days} day{'s' * (days != 1)}"
    hours = ms / HOUR_MS
    return f"{hours:g} hour{'s' * (hours != 1)}"
