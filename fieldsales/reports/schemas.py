"""Arguments and answers of the report endpoints."""
import marshmallow as ma
from marshmallow import validate

from fieldsales.reports.listing import ListArgs, page_schema, sort_field
from fieldsales.schemas import IdField, StrictSchema


class DateRangeArgs(StrictSchema):
    from_ = ma.fields.Date(data_key="from", load_default=None, metadata={
        "description": "First day (UTC), YYYY-MM-DD; default 29 days before `to`."})
    to = ma.fields.Date(load_default=None, metadata={
        "description": "Last day (UTC), inclusive; default today."})

    @ma.validates_schema
    def _ordered(self, data, **_kwargs):
        if data.get("from_") and data.get("to") and data["from_"] > data["to"]:
            raise ma.ValidationError("Must not be after `to`.", "from")


# --- feedback summary ---------------------------------------------------------------------
class FeedbackSummaryArgs(DateRangeArgs):
    team_id = IdField(metadata={"description": "Admins and procurement: one team's reps."})
    rep_id = IdField(metadata={"description": "One rep's feedback (within your scope)."})
    top = ma.fields.Integer(load_default=10, validate=validate.Range(1, 100),
                            metadata={"description": "Length of the product lists."})


class _CategorySchema(ma.Schema):
    category = ma.fields.String()
    count = ma.fields.Integer()
    rated = ma.fields.Integer(metadata={"description": "How many carried a rating."})
    average_rating = ma.fields.Float(allow_none=True)


class _WeekSchema(ma.Schema):
    week_start_ms = ma.fields.Integer(metadata={"description": "Monday 00:00 UTC, epoch ms."})
    rated = ma.fields.Integer()
    average_rating = ma.fields.Float()


class _RequestedSchema(ma.Schema):
    product_id = ma.fields.String()
    sku = ma.fields.String()
    name = ma.fields.String()
    requested_quantity = ma.fields.Float()
    requests = ma.fields.Integer()


class _PraisedSchema(ma.Schema):
    product_id = ma.fields.String()
    sku = ma.fields.String()
    name = ma.fields.String()
    praises = ma.fields.Integer(metadata={"description": "Feedback rated 4 or 5."})
    average_rating = ma.fields.Float()


class _ComplaintSchema(ma.Schema):
    customer_id = ma.fields.String()
    name = ma.fields.String()
    complaints = ma.fields.Integer(metadata={"description": "Feedback rated 1 or 2."})
    lowest_rating = ma.fields.Integer()
    last_complaint_at = ma.fields.Integer()


class FeedbackSummarySchema(ma.Schema):
    from_ms = ma.fields.Integer()
    to_ms = ma.fields.Integer(metadata={"description": "Exclusive."})
    total = ma.fields.Integer()
    average_rating = ma.fields.Float(allow_none=True)
    by_category = ma.fields.List(ma.fields.Nested(_CategorySchema))
    rating_trend = ma.fields.List(ma.fields.Nested(_WeekSchema))
    most_requested_products = ma.fields.List(ma.fields.Nested(_RequestedSchema))
    most_praised_products = ma.fields.List(ma.fields.Nested(_PraisedSchema))
    repeated_complaints = ma.fields.List(ma.fields.Nested(_ComplaintSchema))


# --- duplicates ---------------------------------------------------------------------------
DUPLICATE_REASONS = ("same_phone", "similar_name_nearby")


class DuplicateArgs(ListArgs):
    sort = sort_field("name_similarity", "distance_m", default="-name_similarity")
    team_id = IdField(metadata={"description": "Admins: one team's customers."})
    reason = ma.fields.String(validate=validate.OneOf(DUPLICATE_REASONS))


class _DuplicateSideSchema(ma.Schema):
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
    customer = ma.fields.Nested(_DuplicateSideSchema)
    duplicate = ma.fields.Nested(_DuplicateSideSchema)


DuplicatePageSchema = page_schema(DuplicateSchema, "DuplicatePage")


class MergeSchema(StrictSchema):
    into_id = IdField(required=True, metadata={"description": "The customer to keep."})


class _KeptSchema(ma.Schema):
    id = ma.fields.String()
    name = ma.fields.String()
    kind = ma.fields.String()
    phone = ma.fields.String(allow_none=True)


class _MovedSchema(ma.Schema):
    visits = ma.fields.Integer()
    orders = ma.fields.Integer()
    tasks = ma.fields.Integer()
    feedback = ma.fields.Integer()


class MergeResultSchema(ma.Schema):
    kept = ma.fields.Nested(_KeptSchema)
    merged_id = ma.fields.String()
    moved = ma.fields.Nested(_MovedSchema)


# --- territory balance --------------------------------------------------------------------
TERRITORY_FLAGS = ("overloaded", "balanced", "underloaded")


class TerritoryArgs(ListArgs):
    sort = sort_field("load", "rep_name", "customers", "revenue_90d", default="-load")
    team_id = IdField(metadata={"description": "Admins: one team."})
    flag = ma.fields.String(validate=validate.OneOf(TERRITORY_FLAGS))


class _PointSchema(ma.Schema):
    latitude = ma.fields.Float()
    longitude = ma.fields.Float()


class _CandidateSchema(ma.Schema):
    rep_id = ma.fields.String()
    rep_name = ma.fields.String()
    distance_km = ma.fields.Float(allow_none=True, metadata={
        "description": "Between the centroids of both reps' customers; null if none."})
    spare_visits = ma.fields.Float()


class TerritorySchema(ma.Schema):
    class Meta:
        ordered = True

    rep_id = ma.fields.String()
    rep_name = ma.fields.String()
    team_id = ma.fields.String()
    customers = ma.fields.Integer()
    accounts = ma.fields.Integer()
    prospects = ma.fields.Integer()
    revenue_90d = ma.fields.Float(metadata={"description": "Orders at the rep's customers, "
                                                           "trailing 90 days."})
    visits_needed = ma.fields.Float(metadata={"description": "Over the planning horizon, at "
                                                             "each customer's cadence."})
    visits_possible = ma.fields.Float(metadata={"description": "Visits per day x working days."})
    load = ma.fields.Float(metadata={"description": "needed / possible."})
    flag = ma.fields.String(validate=validate.OneOf(TERRITORY_FLAGS))
    centroid = ma.fields.Nested(_PointSchema, allow_none=True)
    takeover_candidates = ma.fields.List(ma.fields.Nested(_CandidateSchema), metadata={
        "description": "Overloaded reps: teammates with spare visits, nearest first."})


TerritoryPageSchema = page_schema(TerritorySchema, "TerritoryPage")
