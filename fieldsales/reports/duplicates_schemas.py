"""Arguments and answer of the likely duplicate customers (GET /customers/duplicates)."""
import marshmallow as ma
from marshmallow import validate

from fieldsales.listing import ListArgs, page_schema, sort_field
from fieldsales.schemas import IdField

DUPLICATE_REASONS = ("same_phone", "similar_name_nearby")


class DuplicateArgs(ListArgs):
    sort = sort_field("name_similarity", "distance_m", default="-name_similarity")
    team_id = IdField(metadata={"description": "Admins: one team's customers."})
    reason = ma.fields.String(validate=validate.OneOf(DUPLICATE_REASONS))


class DuplicateSideSchema(ma.Schema):
    class Meta:
        ordered = True

    id = ma.fields.String()
    name = ma.fields.String()
    phone = ma.fields.String(allow_none=True)
    address = ma.fields.String(allow_none=True)
    kind = ma.fields.String()
    latitude = ma.fields.Float()
    longitude = ma.fields.Float()
    team_id = ma.fields.String(allow_none=True)
    assigned_rep_id = ma.fields.String(allow_none=True)
    activity = ma.fields.Integer(metadata={"description": "Visits and orders on record."})


class DuplicateSchema(ma.Schema):
    class Meta:
        ordered = True

    id = ma.fields.String(metadata={"description": "The pair: '<customer id>:<duplicate id>'."})
    reasons = ma.fields.List(ma.fields.String(validate=validate.OneOf(DUPLICATE_REASONS)))
    distance_m = ma.fields.Float()
    name_similarity = ma.fields.Float(metadata={"description": "0..1, difflib ratio."})
    suggested_into_id = ma.fields.String(metadata={
        "description": "Keep this one (more history); merge the other into it."})
    customer = ma.fields.Nested(DuplicateSideSchema)
    duplicate = ma.fields.Nested(DuplicateSideSchema)


DuplicatePageSchema = page_schema(DuplicateSchema, "DuplicatePage")
