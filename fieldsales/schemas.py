"""Schema pieces shared by every domain."""
import datetime
from collections.abc import Mapping

import marshmallow as ma
from marshmallow import validate

from fieldsales.common import ID_MESSAGE, ID_PATTERN, is_valid_id
from fieldsales.errors import refused_with


def _check_id(value: str) -> None:
    if not is_valid_id(value):
        raise ma.ValidationError(ID_MESSAGE)


def IdField(**kwargs) -> ma.fields.String:
    metadata = {"pattern": ID_PATTERN, **kwargs.pop("metadata", {})}
    return ma.fields.String(validate=_check_id, metadata=metadata, **kwargs)


FIRST_DAY, LAST_DAY = datetime.date(2000, 1, 1), datetime.date(2099, 12, 31)


def Day(**kwargs) -> ma.fields.Date:
    """A calendar day (UTC) in a range every period and window computed from it stays inside."""
    return ma.fields.Date(validate=validate.Range(FIRST_DAY, LAST_DAY, error=(
        f"Must be a day from {FIRST_DAY} to {LAST_DAY}.")), **kwargs)


def TimeFlags() -> ma.fields.String:
    """A pushed row's `time_flags` (fieldsales/phonetime.py), read-only."""
    return ma.fields.String(allow_none=True, metadata={
        "description": "Odd phone times of the row as the phone last sent it, "
                       "comma-separated: future (ahead of its receipt by more than the "
                       "tolerance), stale (older than the maximum age when received); "
                       "null when clean."})


class Flag(ma.fields.Boolean):
    """A JSON `true` or `false`, as the document's `boolean` says: marshmallow's Boolean would
    also take 0, 1, "yes" or "on" in a body."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


def Latitude(**kwargs) -> ma.fields.Float:
    return ma.fields.Float(validate=validate.Range(-90, 90), **kwargs)


def Longitude(**kwargs) -> ma.fields.Float:
    return ma.fields.Float(validate=validate.Range(-180, 180), **kwargs)


CLOCK = validate.Regexp(r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$",
                        error="A time as HH:MM (00:00-24:00; 24:00 is the day's end).")


def Clock(**kwargs) -> ma.fields.String:
    """A time of day, "HH:MM" (24:00 is the day's end): working and opening hours."""
    return ma.fields.String(validate=CLOCK, metadata={
        "pattern": CLOCK.regex.pattern, **kwargs.pop("metadata", {})}, **kwargs)


def Text(max_length: int = 10_000, **kwargs) -> ma.fields.String:
    return ma.fields.String(validate=validate.Length(max=max_length), **kwargs)


NUL_MESSAGE = "Must not contain NUL characters."


def _holds_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, Mapping):
        return any(_holds_nul(key) or _holds_nul(item) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return any(_holds_nul(item) for item in value)
    return False


class StrictSchema(ma.Schema):
    """Unknown fields are an error the client hears about, not a silent drop. A NUL character
    in any text is refused too: PostgreSQL cannot store it and SQLite would, so the API
    answers the same 422 on both."""

    class Meta:
        unknown = ma.RAISE
        ordered = True

    @ma.pre_load
    def _refuse_nul(self, data, **_kwargs):
        if isinstance(data, Mapping):
            bad = {key: [NUL_MESSAGE] for key, value in data.items()
                   if _holds_nul(key) or _holds_nul(value)}
            if bad:
                raise ma.ValidationError(bad)
        return data


class PageArgs(StrictSchema):
    """Keyset pagination: pass back `next_cursor` as `cursor` until it is null."""

    limit = ma.fields.Integer(load_default=100, validate=validate.Range(1, 1000))
    cursor = ma.fields.String(load_default=None, validate=validate.Length(max=2000), metadata={
        "description": "`next_cursor` of the previous page, unchanged.",
        **refused_with(400, "`invalid_cursor`: the cursor is not one this list gave out "
                            "(for this sort order).")})
