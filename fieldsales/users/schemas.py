import marshmallow as ma
from marshmallow import validate

from fieldsales.common import ROLES
from fieldsales.listing import ListArgs, page_schema, sort_field
from fieldsales.schemas import Clock, Flag, IdField, Latitude, Longitude, StrictSchema
from fieldsales.users import hours
from fieldsales.users.models import SELLING_STYLES


class UserSchema(ma.Schema):
    id = ma.fields.String(dump_only=True)
    email = ma.fields.String()
    name = ma.fields.String()
    role = ma.fields.String()
    team_id = ma.fields.String(allow_none=True)
    selling_style = ma.fields.String(allow_none=True)
    start_latitude = ma.fields.Float(allow_none=True, metadata={
        "description": "Reps: where their day starts and ends (home or depot), for journey "
                       "plans; null: the centroid of their customers."})
    start_longitude = ma.fields.Float(allow_none=True)
    active = ma.fields.Boolean()
    created_at = ma.fields.Integer()


class UserBriefSchema(ma.Schema):
    id = ma.fields.String()
    name = ma.fields.String()
    role = ma.fields.String()


class UserCreateSchema(StrictSchema):
    email = ma.fields.Email(required=True, validate=validate.Length(max=320))
    password = ma.fields.String(required=True, load_only=True, validate=validate.Length(8, 200))
    name = ma.fields.String(required=True, validate=validate.Length(1, 200))
    role = ma.fields.String(required=True, validate=validate.OneOf(
        ROLES, error="Unknown role '{input}': must be one of {choices}."))
    manager_id = IdField(load_default=None, allow_none=True, metadata={
        "description": "Required for a rep (they join this manager's team); only for reps."})
    selling_style = ma.fields.String(load_default=None, allow_none=True,
                                     validate=validate.OneOf(SELLING_STYLES))
    start_latitude = Latitude(allow_none=True, metadata={
        "description": "Reps only: the day's start point (with start_longitude)."})
    start_longitude = Longitude(allow_none=True)

    @ma.validates_schema
    def _start_point(self, data, **_):
        check_start_point(data)


def check_start_point(data: dict) -> None:
    """A start point is both coordinates or neither (null clears both)."""
    given = [name for name in ("start_latitude", "start_longitude") if name in data]
    if len(given) == 1:
        other = "start_longitude" if given[0] == "start_latitude" else "start_latitude"
        raise ma.ValidationError("Give start_latitude and start_longitude together.", other)
    if given and (data["start_latitude"] is None) != (data["start_longitude"] is None):
        missing = "start_latitude" if data["start_latitude"] is None else "start_longitude"
        raise ma.ValidationError("Both coordinates, or null for both.", missing)


class CliUserCreateSchema(UserCreateSchema):
    """`flask users create`: the API's rules, but the operator (or a test harness following
    the sync contract's set-up) picks any non-empty password."""

    password = ma.fields.String(required=True, load_only=True, validate=validate.Length(1, 200))


class UserUpdateSchema(StrictSchema):
    email = ma.fields.Email(validate=validate.Length(max=320))
    password = ma.fields.String(load_only=True, validate=validate.Length(8, 200))
    name = ma.fields.String(validate=validate.Length(1, 200))
    team_id = IdField(allow_none=True)
    selling_style = ma.fields.String(validate=validate.OneOf(SELLING_STYLES))
    active = Flag()
    start_latitude = Latitude(allow_none=True, metadata={
        "description": "Reps only: the day's start point (with start_longitude); null "
                       "for both: the centroid of their customers."})
    start_longitude = Longitude(allow_none=True)

    @ma.validates_schema
    def _start_point(self, data, **_):
        check_start_point(data)


class UserDeleteArgs(ma.Schema):
    erase = ma.fields.Boolean(load_default=False, metadata={
        "description": "true: erase the person too (docs/privacy.md, \"Erasure\"): their "
                       "positions and free text are removed, the name and email replaced by "
                       "a tombstone (the email can be used again); orders and visits stay."})


class UserListArgs(ListArgs):
    sort = sort_field("id", "name", "email", "role", default="id")
    role = ma.fields.String(validate=validate.OneOf(ROLES))
    team_id = IdField()


UserPageSchema = page_schema(UserSchema, "UserPage")


class TeamSchema(ma.Schema):
    id = ma.fields.String()
    name = ma.fields.String()
    visit_cadence_days = ma.fields.Integer()


class TeamWorkingHoursSchema(StrictSchema):
    """A team's working hours (users/hours.py): off-duty positions are not kept or shown."""

    time_zone = ma.fields.String(required=True, metadata={
        "description": "IANA time zone of the team's days, e.g. Europe/Berlin."})
    days = ma.fields.Dict(
        keys=ma.fields.String(validate=validate.OneOf(hours.WEEKDAYS)),
        values=ma.fields.List(Clock(), allow_none=True),
        required=True, metadata={"description": "Each weekday mon..sun: [start, end] as "
                                 "HH:MM in the team's zone (24:00 ends the day), or null "
                                 "for a day off."})
    keep_off_duty_positions = ma.fields.Boolean(load_default=False, metadata={
        "description": "Keep off-duty positions flagged and shown only to the rep, instead of "
                       "acknowledging and dropping them (docs/privacy.md)."})
    team_id = ma.fields.String(dump_only=True)
    defaults = ma.fields.Boolean(dump_only=True, metadata={
        "description": "True while the team has no hours of its own (the config's apply)."})

    @ma.validates("time_zone")
    def _known_zone(self, value, **_):
        if not hours.is_time_zone(value):
            raise ma.ValidationError("Not an IANA time zone (for example Europe/Berlin).")

    @ma.validates("days")
    def _every_day(self, value, **_):
        missing = [day for day in hours.WEEKDAYS if day not in value]
        if missing:
            raise ma.ValidationError(f"Every weekday is needed; missing: {', '.join(missing)} "
                                     "(null for a day off).")
        for day, span in value.items():
            if span is not None and (len(span) != 2 or span[0] >= span[1]):
                raise ma.ValidationError(f"{day}: [start, end] with start before end, "
                                         "or null for a day off.")


class RevokedSchema(ma.Schema):
    revoked = ma.fields.Integer(metadata={"description": "How many live tokens were revoked."})
