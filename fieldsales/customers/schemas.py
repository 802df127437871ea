"""Customer payloads: what the API accepts and what it answers."""
import marshmallow as ma
from marshmallow import validate

from fieldsales.customers.models import CUSTOMER_KINDS
from fieldsales.customers.visiting import opening_hours_ok
from fieldsales.listing import ListArgs, page_schema, sort_field
from fieldsales.schemas import Clock, IdField, Latitude, Longitude, StrictSchema, Text

_RADIUS = validate.Range(1, 50_000, error="Must be between 1 and 50000 metres.")


class CustomerSchema(ma.Schema):
    """A customer as stored."""

    id = ma.fields.String()
    name = ma.fields.String()
    address = ma.fields.String(allow_none=True)
    latitude = ma.fields.Float()
    longitude = ma.fields.Float()
    geofence_radius_m = ma.fields.Float(metadata={"description": "Geofence radius in metres."})
    segment = ma.fields.String(allow_none=True)
    phone = ma.fields.String(allow_none=True)
    kind = ma.fields.String(metadata={"description": "prospect or account."})
    team_id = ma.fields.String(allow_none=True)
    assigned_rep_id = ma.fields.String(allow_none=True)
    visit_cadence_days = ma.fields.Integer(allow_none=True, metadata={
        "description": "Days between visits (weekly 7, fortnightly 14, monthly 30); null: "
                       "the default by kind and segment (VISIT_CADENCE_DAYS)."})
    opens_at = ma.fields.String(allow_none=True, metadata={
        "description": "Opening time, HH:MM in the team's time zone; null: open all day."})
    closes_at = ma.fields.String(allow_none=True, metadata={
        "description": "Closing time, HH:MM in the team's time zone (24:00: midnight)."})
    merged_into_id = ma.fields.String(
        allow_none=True, metadata={"description": "Set when merged into another customer."})
    deleted_at = ma.fields.Integer(allow_none=True,
                                   metadata={"description": "Removal time (ms); null if live."})


class CustomerUpdateSchema(StrictSchema):
    """The fields a PATCH may change; omitted fields stay as they are."""

    name = ma.fields.String(validate=validate.Length(1, 200))
    address = Text(1000, allow_none=True)
    latitude = Latitude()
    longitude = Longitude()
    geofence_radius_m = ma.fields.Float(validate=_RADIUS)
    segment = Text(50, allow_none=True)
    phone = Text(50, allow_none=True)
    kind = ma.fields.String(validate=validate.OneOf(CUSTOMER_KINDS))
    assigned_rep_id = IdField(allow_none=True, metadata={
        "description": "The rep who works the customer (managers: a rep of their team)."})
    team_id = IdField(allow_none=True, metadata={
        "description": "Admins only; defaults to the assigned rep's team."})
    visit_cadence_days = ma.fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(1, 365), metadata={
            "description": "Days between visits: weekly 7, fortnightly 14, monthly 30, or "
                           "any N from 1 to 365; null: the default by kind and segment."})
    opens_at = Clock(allow_none=True, metadata={
        "description": "Opening time, HH:MM in the team's time zone; journey plans arrive "
                       "and finish within opening hours. Null: open from the day's start."})
    closes_at = Clock(allow_none=True, metadata={
        "description": "Closing time, HH:MM (24:00: midnight), after opens_at. Null: open "
                       "until the day's end."})

    @ma.validates_schema
    def _opening_hours(self, data, **_):
        if data.get("opens_at") and data.get("closes_at") \
                and not opening_hours_ok(data["opens_at"], data["closes_at"]):
            raise ma.ValidationError("Must be after opens_at.", "closes_at")


class CustomerCreateSchema(CustomerUpdateSchema):
    id = IdField(metadata={
        "description": "Optional client-made id; the server makes one if absent."})
    name = ma.fields.String(required=True, validate=validate.Length(1, 200))
    latitude = Latitude(required=True)
    longitude = Longitude(required=True)
    geofence_radius_m = ma.fields.Float(load_default=100, validate=_RADIUS)
    kind = ma.fields.String(load_default="prospect", validate=validate.OneOf(CUSTOMER_KINDS))


class CustomerListArgs(ListArgs):
    sort = sort_field("id", "name", "kind", "segment", default="id")
    assigned_rep_id = IdField()
    kind = ma.fields.String(validate=validate.OneOf(CUSTOMER_KINDS))
    segment = ma.fields.String(validate=validate.Length(max=50))
    q = ma.fields.String(validate=validate.Length(1, 200),
                         metadata={"description": "Part of the name, any case."})


CustomerPageSchema = page_schema(CustomerSchema, "CustomerPage")


class MergeSchema(StrictSchema):
    into_id = IdField(required=True, metadata={"description": "The customer to keep."})


class MergeKeptSchema(ma.Schema):
    id = ma.fields.String()
    name = ma.fields.String()
    kind = ma.fields.String()
    phone = ma.fields.String(allow_none=True)


class MergeMovedSchema(ma.Schema):
    visits = ma.fields.Integer()
    orders = ma.fields.Integer()
    tasks = ma.fields.Integer()
    feedback = ma.fields.Integer()


class MergeResultSchema(ma.Schema):
    kept = ma.fields.Nested(MergeKeptSchema)
    merged_id = ma.fields.String()
    moved = ma.fields.Nested(MergeMovedSchema)
