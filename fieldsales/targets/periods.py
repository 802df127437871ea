"""UTC calendar periods: a day, a week from Monday, a month, a quarter."""
from datetime import UTC, date, datetime, timedelta


def day_ms(day: date) -> int:
    """Midnight UTC of `day`, in epoch ms."""
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def ms_date(ms: int) -> date:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).date()


def period_start(period: str, day: date) -> date:
    """The first day of the period that contains `day`."""
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    if period == "quarter":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    raise ValueError(period)


def period_end(period: str, start: date) -> date:
    """The first day after the period that starts on `start`."""
    if period == "day":
        return start + timedelta(days=1)
    if period == "week":
        return start + timedelta(days=7)
    months = 1 if period == "month" else 3
    month = start.month - 1 + months
    return date(start.year + month // 12, month % 12 + 1, 1)


def bounds_ms(period: str, day: date) -> tuple[int, int]:
    """[start, end) in epoch ms of the period containing `day`."""
    start = period_start(period, day)
    return day_ms(start), day_ms(period_end(period, start))


def utc_today() -> date:
    return datetime.now(UTC).date()
