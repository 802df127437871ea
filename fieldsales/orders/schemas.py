"""Order payloads: what the API answers, and the delivery a procurement user records."""
import marshmallow as ma
from marshmallow import validate

from fieldsales.listing import ListArgs, page_schema, sort_field
from fieldsales.orders.models import ORDER_STATUSES
from fieldsales.schemas import IdField, StrictSchema, TimeFlags


class OrderSchema(ma.Schema):
    """An order as stored. Times are epoch milliseconds (UTC)."""

    id = ma.fields.String()
    rep_id = ma.fields.String()
    customer_id = ma.fields.String()
    visit_id = ma.fields.String(allow_none=True)
    ordered_at = ma.fields.Integer()
    requested_delivery_at = ma.fields.Integer(allow_none=True)
    notes = ma.fields.String(allow_none=True)
    status = ma.fields.String(metadata={"description": "open, partially_delivered, delivered "
                                        "or cancelled."})
    promised_dispatch_at = ma.fields.Integer(
        allow_none=True, metadata={"description": "When the order is expected to leave (set by "
                                   "the backlog job; reps' phones pull it)."})
    delivered_at = ma.fields.Integer(allow_none=True,
                                     metadata={"description": "When it was delivered in full."})
    time_flags = TimeFlags()


class OrderLineSchema(ma.Schema):
    id = ma.fields.String()
    product_id = ma.fields.String()
    quantity = ma.fields.Float()
    unit_price = ma.fields.Float()
    delivered_quantity = ma.fields.Float()
    pending_quantity = ma.fields.Method("_pending", metadata={"description": "quantity - "
                                        "delivered_quantity: what is still to ship."})

    def _pending(self, line):
        return max(line.quantity - line.delivered_quantity, 0.0)


class DeliveryLineOutSchema(ma.Schema):
    order_line_id = ma.fields.String()
    quantity = ma.fields.Float()


class DeliveryOutSchema(ma.Schema):
    id = ma.fields.String()
    delivered_at = ma.fields.Integer()
    created_by_id = ma.fields.String(allow_none=True)
    lines = ma.fields.List(ma.fields.Nested(DeliveryLineOutSchema))


class OrderDetailSchema(OrderSchema):
    """An order with its lines and the deliveries made so far."""

    lines = ma.fields.List(ma.fields.Nested(OrderLineSchema))
    deliveries = ma.fields.List(ma.fields.Nested(DeliveryOutSchema))
    value = ma.fields.Float(metadata={"description": "Sum of quantity x unit price."})
    pending_value = ma.fields.Float(metadata={"description": "Sum of pending quantity x unit "
                                              "price: this order's share of the backlog value."})


class OrderListArgs(ListArgs):
    sort = sort_field("id", "ordered_at", "requested_delivery_at", "status", default="id")
    status = ma.fields.String(validate=validate.OneOf(ORDER_STATUSES))
    customer_id = IdField()
    rep_id = IdField()


OrderPageSchema = page_schema(OrderSchema, "OrderPage")


class DeliveryLineSchema(StrictSchema):
    order_line_id = IdField(required=True)
    quantity = ma.fields.Float(required=True,
                               validate=validate.Range(0, 10**12, min_inclusive=False,
                                                       max_inclusive=False))


class DeliveryCreateSchema(StrictSchema):
    """A shipment of some of the order's pending line quantities."""

    delivered_at = ma.fields.Integer(
        strict=True, validate=validate.Range(0, 10**15),
        metadata={"description": "When it left (epoch ms); now when omitted. Not in the future."})
    lines = ma.fields.List(ma.fields.Nested(DeliveryLineSchema), required=True,
                           validate=validate.Length(1, 1000))
