"""Arguments and answer of the demand list (GET /demand)."""
import marshmallow as ma
from marshmallow import validate

from fieldsales.listing import ListArgs, page_schema, sort_field


class DemandArgs(ListArgs):
    sort = sort_field("attention", "sku", "forecast", "days_of_cover", "reorder_suggestion",
                      default="attention")
    flagged = ma.fields.Boolean()
    rising_demand = ma.fields.Boolean()
    stock_short_of_backlog = ma.fields.Boolean()
    q = ma.fields.String(validate=validate.Length(max=200), metadata={
        "description": "Part of the name or SKU."})


class DemandSchema(ma.Schema):
    class Meta:
        ordered = True

    product_id = ma.fields.String()
    sku = ma.fields.String()
    name = ma.fields.String()
    unit = ma.fields.String()
    flagged = ma.fields.Boolean()
    rising_demand = ma.fields.Boolean()
    stock_short_of_backlog = ma.fields.Boolean()
    week_start = ma.fields.Integer(allow_none=True, metadata={
        "description": "The last complete week the job saw (Monday, epoch ms)."})
    ordered_quantity = ma.fields.Float(allow_none=True)
    feedback_requested_quantity = ma.fields.Float(allow_none=True)
    ordered_4w = ma.fields.Float(allow_none=True)
    requested_4w = ma.fields.Float(allow_none=True)
    forecast = ma.fields.Float(allow_none=True, metadata={"description": "Next week."})
    trend = ma.fields.Float(allow_none=True, metadata={"description": "Per week."})
    level = ma.fields.Float(allow_none=True)
    backlog_quantity = ma.fields.Float(allow_none=True)
    stock_on_hand = ma.fields.Float(allow_none=True)
    lead_time_days = ma.fields.Integer(allow_none=True)
    days_of_cover = ma.fields.Float(allow_none=True)
    reorder_suggestion = ma.fields.Float(allow_none=True)
    computed_at = ma.fields.Integer(allow_none=True)


DemandPageSchema = page_schema(DemandSchema, "DemandPage")


class DemandWeekSchema(ma.Schema):
    class Meta:
        ordered = True

    week_start = ma.fields.Integer(metadata={"description": "Monday 00:00 UTC, epoch ms."})
    ordered_quantity = ma.fields.Float()
    level = ma.fields.Float(metadata={"description": "The smoothed demand."})
    trend = ma.fields.Float(metadata={"description": "Per week."})
    forecast = ma.fields.Float(metadata={"description": "This week's forecast for the next."})


class DemandWeeksSchema(ma.Schema):
    product_id = ma.fields.String()
    weeks = ma.fields.List(ma.fields.Nested(DemandWeekSchema))
