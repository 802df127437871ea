"""Arguments and answer of the feedback summary (GET /feedback/summary)."""
import marshmallow as ma
from marshmallow import validate

from fieldsales.reports.ranges import DateRangeArgs
from fieldsales.schemas import IdField


class FeedbackSummaryArgs(DateRangeArgs):
    team_id = IdField(metadata={"description": "Admins and procurement: one team's reps."})
    rep_id = IdField(metadata={"description": "One rep's feedback (within your scope)."})
    top = ma.fields.Integer(load_default=10, validate=validate.Range(1, 100),
                            metadata={"description": "Length of the product lists."})


class FeedbackCategorySchema(ma.Schema):
    category = ma.fields.String()
    count = ma.fields.Integer()
    rated = ma.fields.Integer(metadata={"description": "How many carried a rating."})
    average_rating = ma.fields.Float(allow_none=True)


class FeedbackWeekSchema(ma.Schema):
    week_start_ms = ma.fields.Integer(metadata={"description": "Monday 00:00 UTC, epoch ms."})
    rated = ma.fields.Integer()
    average_rating = ma.fields.Float()


class RequestedProductSchema(ma.Schema):
    product_id = ma.fields.String()
    sku = ma.fields.String()
    name = ma.fields.String()
    requested_quantity = ma.fields.Float()
    requests = ma.fields.Integer()


class PraisedProductSchema(ma.Schema):
    product_id = ma.fields.String()
    sku = ma.fields.String()
    name = ma.fields.String()
    praises = ma.fields.Integer(metadata={"description": "Feedback rated 4 or 5."})
    average_rating = ma.fields.Float()


class RepeatedComplaintSchema(ma.Schema):
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
    by_category = ma.fields.List(ma.fields.Nested(FeedbackCategorySchema))
    rating_trend = ma.fields.List(ma.fields.Nested(FeedbackWeekSchema))
    most_requested_products = ma.fields.List(ma.fields.Nested(RequestedProductSchema))
    most_praised_products = ma.fields.List(ma.fields.Nested(PraisedProductSchema))
    repeated_complaints = ma.fields.List(ma.fields.Nested(RepeatedComplaintSchema))
