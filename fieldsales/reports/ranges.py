"""Periods of the reports: inclusive UTC days in the query, [start, end) in epoch ms."""
from datetime import timedelta

import marshmallow as ma

from fieldsales.common import DAY_MS
from fieldsales.errors import ApiError
from fieldsales.schemas import Day, StrictSchema
from fieldsales.targets.periods import day_ms, utc_today


class DateRangeArgs(StrictSchema):
    from_ = Day(data_key="from", load_default=None, metadata={
        "description": "First day (UTC), YYYY-MM-DD; default 29 days before `to`."})
    to = Day(load_default=None, metadata={
        "description": "Last day (UTC), inclusive; default today."})

    @ma.validates_schema
    def _ordered(self, data, **_kwargs):
        if data.get("from_") and data.get("to") and data["from_"] > data["to"]:
            raise ma.ValidationError("Must not be after `to`.", "from")


def date_range(args: dict, default_days: int = 30) -> tuple[int, int]:
    """[start, end) in epoch ms from the inclusive days `from` and `to`."""
    to = args.get("to") or utc_today()
    start = args.get("from_") or to - timedelta(days=default_days - 1)
    if (to - start).days > 366 * 2:
        raise ApiError(422, "validation_error", "The range is at most two years.",
                       {"from": ["At most two years before `to`."]})
    return day_ms(start), day_ms(to) + DAY_MS
