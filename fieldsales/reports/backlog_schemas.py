"""Arguments and answers of the backlog list and its summary (GET /backlog, /backlog/summary)."""
import marshmallow as ma
from marshmallow import validate

from fieldsales.listing import ListArgs, page_schema, sort_field
from fieldsales.reports.ranges import DateRangeArgs
from fieldsales.schemas import IdField


class BacklogArgs(ListArgs):
    sort = sort_field("rank", "ordered_at", "requested_delivery_at", "promised_dispatch_at",
                      "pending_value", default="rank")
    customer_id = IdField()
    rep_id = IdField()
    product_id = IdField(metadata={"description": "Orders with this product pending."})
    min_age_days = ma.fields.Integer(validate=validate.Range(0, 100_000))
    late_only = ma.fields.Boolean(metadata={
        "description": "true: past the requested delivery date; false: not late."})


class BacklogLineSchema(ma.Schema):
    class Meta:
        ordered = True

    line_id = ma.fields.String()
    product_id = ma.fields.String()
    sku = ma.fields.String()
    name = ma.fields.String()
    quantity = ma.fields.Float()
    delivered_quantity = ma.fields.Float()
    pending_quantity = ma.fields.Float()
    unit_price = ma.fields.Float()
    stock_on_hand = ma.fields.Float()
    available_quantity = ma.fields.Float(metadata={
        "description": "What stock can fill of this line now, handing stock out in "
                       "dispatch-priority order."})
    availability = ma.fields.String(validate=validate.OneOf(("full", "partial", "none")))


class BacklogOrderSchema(ma.Schema):
    class Meta:
        ordered = True

    id = ma.fields.String()
    rank = ma.fields.Integer(allow_none=True, metadata={
        "description": "1 ships first; null: taken after the backlog job last ran."})
    score = ma.fields.Float(allow_none=True)
    reasons = ma.fields.List(ma.fields.String())
    status = ma.fields.String()
    customer_id = ma.fields.String()
    customer_name = ma.fields.String()
    rep_id = ma.fields.String()
    rep_name = ma.fields.String()
    ordered_at = ma.fields.Integer()
    requested_delivery_at = ma.fields.Integer(allow_none=True)
    promised_dispatch_at = ma.fields.Integer(allow_none=True)
    age_days = ma.fields.Float()
    lateness_days = ma.fields.Float(metadata={"description": "0 when not late."})
    pending_quantity = ma.fields.Float()
    pending_value = ma.fields.Float()
    open_lines = ma.fields.Integer()
    fill = ma.fields.String(allow_none=True, metadata={
        "description": "full / partial / none, as ranked by the job."})
    ranked_at = ma.fields.Integer(allow_none=True)
    lines = ma.fields.List(ma.fields.Nested(BacklogLineSchema))


BacklogPageSchema = page_schema(BacklogOrderSchema, "BacklogPage")


class BacklogSummaryArgs(DateRangeArgs):
    team_id = IdField()
    rep_id = IdField()


class AgeBucketSchema(ma.Schema):
    bucket = ma.fields.String()
    orders = ma.fields.Integer()
    quantity = ma.fields.Float()
    value = ma.fields.Float()


class BacklogHealthSchema(ma.Schema):
    start_ms = ma.fields.Integer()
    end_ms = ma.fields.Integer()
    as_of = ma.fields.Integer(metadata={
        "description": "The moment the backlog figures describe: the period's end, or now."})
    backlog_orders = ma.fields.Integer()
    backlog_quantity = ma.fields.Float()
    backlog_value = ma.fields.Float()
    age_buckets = ma.fields.List(ma.fields.Nested(AgeBucketSchema))
    orders_taken = ma.fields.Integer()
    backlog_ratio = ma.fields.Float(allow_none=True)
    delivered_orders = ma.fields.Integer()
    average_lead_time_days = ma.fields.Float(allow_none=True)
    on_time_share = ma.fields.Float(allow_none=True)


class TrendSchema(ma.Schema):
    current = ma.fields.Float(allow_none=True)
    previous = ma.fields.Float(allow_none=True)
    change = ma.fields.Float(allow_none=True)
    direction = ma.fields.String(allow_none=True)


class BacklogSummarySchema(ma.Schema):
    current = ma.fields.Nested(BacklogHealthSchema)
    previous = ma.fields.Nested(BacklogHealthSchema, metadata={
        "description": "The period of the same length just before."})
    trend = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Nested(TrendSchema))
