"""Working hours: one home for a team's time zone, its local days and when it is on duty.

A team's hours are per weekday in its own zone (`Team.time_zone`, `Team.working_hours`); a
team without them takes `WORKING_HOURS_TIME_ZONE` and `WORKING_HOURS` from config. Positions
outside them are off duty (glossary "Working hours").
"""
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, available_timezones

from flask import current_app

from fieldsales.users.models import Team

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def is_time_zone(name: str) -> bool:
    """An IANA zone this machine knows (what a team's `time_zone` must be)."""
    return name in available_timezones()


def zone_of(team: Team | None) -> ZoneInfo:
    return ZoneInfo((team.time_zone if team else None)
                    or current_app.config["WORKING_HOURS_TIME_ZONE"])


def hours_of(team: Team | None) -> dict[str, list[str] | None]:
    """Each weekday's ["HH:MM", "HH:MM"], or None for a day off."""
    return (team.working_hours if team and team.working_hours is not None
            else current_app.config["WORKING_HOURS"])


def local_day(team: Team | None, at_ms: int) -> date:
    """The team's calendar day that the instant falls on."""
    return datetime.fromtimestamp(at_ms / 1000, UTC).astimezone(zone_of(team)).date()


def day_bounds_ms(team: Team | None, day: date) -> tuple[int, int]:
    """[start, end) of the team's local day, in epoch ms (23 or 25 hours across DST)."""
    zone = zone_of(team)
    start = datetime.combine(day, time(), zone)
    end = datetime.combine(day + timedelta(days=1), time(), zone)
    return _ms(start), _ms(end)


def duty_window_ms(team: Team | None, day: date) -> tuple[int, int] | None:
    """[start, end) of the team's working hours on that local day; None on a day off.
    An end of "24:00" is the day's end."""
    hours = hours_of(team).get(WEEKDAYS[day.weekday()])
    if not hours:
        return None
    zone = zone_of(team)
    start, end = (datetime.combine(day + timedelta(days=h == "24:00"),
                                   time() if h == "24:00" else time.fromisoformat(h), zone)
                  for h in hours)
    return _ms(start), _ms(end)


def clock_ms(team: Team | None, day: date, clock: str) -> int:
    """The instant of a clock time ("HH:MM"; "24:00" is the day's end) on the team's local
    day: opening hours, a day's plan."""
    zone = zone_of(team)
    if clock == "24:00":
        return _ms(datetime.combine(day + timedelta(days=1), time(), zone))
    return _ms(datetime.combine(day, time.fromisoformat(clock), zone))


def is_on_duty(team: Team | None, at_ms: int) -> bool:
    return on_duty_test(team)(at_ms)


def on_duty_test(team: Team | None) -> Callable[[int], bool]:
    """`is_on_duty` for many instants of one team (a push's pings): each local day's window
    is worked out once."""
    zone = zone_of(team)
    windows: dict[date, tuple[int, int] | None] = {}

    def on_duty(at_ms: int) -> bool:
        day = datetime.fromtimestamp(at_ms / 1000, zone).date()
        if day not in windows:
            windows[day] = duty_window_ms(team, day)
        window = windows[day]
        return window is not None and window[0] <= at_ms < window[1]

    return on_duty


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
