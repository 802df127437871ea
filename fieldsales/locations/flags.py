"""Flags on location pings: kept whole, marked when a fix cannot be trusted.

A ping is judged against the rep's previous fix in *recorded* order (the phone's time), not in
upload order, so a batch uploaded late or out of order is placed among the pings already stored
and the stored ping that now follows it is judged again.
"""
from collections.abc import Callable
from dataclasses import dataclass

from fieldsales import phonetime
from fieldsales.common import DAY_MS
from fieldsales.geo import geodesic_short_m
from fieldsales.locations.models import PING_FLAGS

_OWN_FLAGS = ("inaccurate", "future", "stale", "off_duty")  # judged on the ping alone
# Out of the recorded order: a time that cannot be placed in it, or a private one.
_UNTRUSTED = {"future", "stale", "off_duty"}


@dataclass(frozen=True)
class Limits:
    max_accuracy_m: float
    future_tolerance_ms: int
    max_age_ms: int
    max_speed_mps: float

    @classmethod
    def from_config(cls, config) -> "Limits":
        return cls(max_accuracy_m=config["PING_MAX_ACCURACY_M"],
                   future_tolerance_ms=config["PING_FUTURE_TOLERANCE_S"] * 1000,
                   max_age_ms=config["PING_MAX_AGE_DAYS"] * DAY_MS,
                   max_speed_mps=config["PING_MAX_SPEED_MPS"])


def own_flags(ping: dict, *, received_at: int, limits: Limits) -> set[str]:
    """Flags a fix earns on its own: poor accuracy, a time in the future or implausibly old
    (`phonetime.oddities`; a ping's time is never a reason to refuse it, push rule 7)."""
    flags = phonetime.oddities(ping["recorded_at"], received_at=received_at,
                               future_tolerance_ms=limits.future_tolerance_ms,
                               max_age_ms=limits.max_age_ms)
    accuracy = ping.get("accuracy_m")
    if accuracy is not None and accuracy > limits.max_accuracy_m:
        flags.add("inaccurate")
    if ping.get("_off_duty"):  # set by the push (sync/push/duty.py)
        flags.add("off_duty")
    return flags


def _format(flags: set[str]) -> str:
    return ",".join(name for name in PING_FLAGS if name in flags)


def flag(*, new: list[dict], stored_around: Callable[[int, int], list[dict]],
         received_at: int, limits: Limits) -> list[dict]:
    """Set flags, distance and implied speed on the `new` pings (dicts, changed in place).

    `stored_around(first, last)` returns the rep's stored pings recorded in [first, last] plus
    the one just before and the one just after, with their `flags`,
    `distance_from_previous_m` and `implied_speed_mps`. Returns the stored pings whose values
    change now that new fixes sit before them, as dicts of their key (id, recorded_at) and
    the new values.

    A ping flagged `future` or `stale` has a time that cannot be trusted, so it takes no place
    in the recorded order: it has no previous fix and is nobody's previous fix. (This also
    keeps one ping from 1970 from making the server read a rep's whole history.) An
    `inaccurate` fix is judged from the previous fix but is nobody's previous fix either, so
    one blurred position neither flags the good fix after it nor adds a detour to the travel
    distance. Stored pings recorded before every new one are only previous fixes: their own
    values do not change.
    """
    chain_new = []
    for ping in new:
        ping["_own"] = own_flags(ping, received_at=received_at, limits=limits)
        if ping["_own"] & _UNTRUSTED:
            ping.update(flags=_format(ping.pop("_own")), flagged=True,
                        distance_from_previous_m=None, implied_speed_mps=None)
        else:
            chain_new.append(ping)
    if not chain_new:
        return []
    first_new = min((p["recorded_at"], p["id"]) for p in chain_new)
    stored = []
    for ping in stored_around(first_new[0], max(p["recorded_at"] for p in chain_new)):
        own = {f for f in (ping.get("flags") or "").split(",") if f in _OWN_FLAGS}
        if not own & _UNTRUSTED:
            before = (ping["recorded_at"], ping["id"]) < first_new
            stored.append({**ping, "_own": own, "_stored": True, "_before": before})
    chain = sorted((*stored, *chain_new), key=lambda p: (p["recorded_at"], p["id"]))
    changed = []
    previous = None
    for ping in chain:
        flags = set(ping.pop("_own"))
        if ping.pop("_before", False):
            if not flags:
                previous = ping
            continue
        distance = speed = None
        if previous is not None:
            distance = geodesic_short_m(previous["latitude"], previous["longitude"],
                                        ping["latitude"], ping["longitude"])
            elapsed_s = (ping["recorded_at"] - previous["recorded_at"]) / 1000
            if elapsed_s > 0:
                speed = distance / elapsed_s
                if speed > limits.max_speed_mps:
                    flags.add("implausible_speed")
            elif distance == 0:
                flags.add("duplicate")  # same place, same time as the previous fix
            else:
                flags.add("implausible_speed")  # two places at one instant
        values = {"flags": _format(flags), "flagged": bool(flags),
                  "distance_from_previous_m": distance, "implied_speed_mps": speed}
        if ping.pop("_stored", False):
            if any(ping.get(key) != value for key, value in values.items()
                   if key != "flagged"):
                changed.append({"id": ping["id"], "recorded_at": ping["recorded_at"], **values})
        else:
            ping.update(values)
        if "inaccurate" not in flags:
            previous = ping
    return changed
