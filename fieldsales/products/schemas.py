"""Product payloads: what the API accepts and what it answers."""
import marshmallow as ma
from marshmallow import validate

from fieldsales.listing import ListArgs, page_schema, sort_field
from fieldsales.schemas import IdField, StrictSchema

# Numeric(14, 2): twelve digits before the point. A price is rounded to cents, so its bound
# is the largest value in cents (999,999,999,999.999 would round to 10**12: out of range).
_PRICE = validate.Range(0, 999_999_999_999.99)
_STOCK = validate.Range(0, 10**12, max_inclusive=False)


class ProductSchema(ma.Schema):
    """A product as stored. `unit_price` is a JSON number (12.5), never a string."""

    id = ma.fields.String()
    sku = ma.fields.String()
    name = ma.fields.String()
    unit = ma.fields.String()
    unit_price = ma.fields.Float()
    stock_on_hand = ma.fields.Float()
    lead_time_days = ma.fields.Integer(metadata={"description": "Days from purchase to stock."})
    deleted_at = ma.fields.Integer(allow_none=True,
                                   metadata={"description": "Removal time (ms); null if live."})


class ProductUpdateSchema(StrictSchema):
    """The fields a PATCH may change; omitted fields stay as they are. Stock moves by PATCHing
    `stock_on_hand`."""

    sku = ma.fields.String(validate=validate.Length(1, 64))
    name = ma.fields.String(validate=validate.Length(1, 200))
    unit = ma.fields.String(validate=validate.Length(1, 20))
    unit_price = ma.fields.Float(validate=_PRICE)
    stock_on_hand = ma.fields.Float(validate=_STOCK)
    lead_time_days = ma.fields.Integer(strict=True, validate=validate.Range(0, 3650))

    @ma.post_load
    def _cents(self, data, **_kwargs):
        # Stored as Numeric(14, 2) on every database, so round here, not differently in each.
        if data.get("unit_price") is not None:
            data["unit_price"] = round(data["unit_price"], 2)
        return data


class ProductCreateSchema(ProductUpdateSchema):
    id = IdField(metadata={
        "description": "Optional client-made id; the server makes one if absent."})
    sku = ma.fields.String(required=True, validate=validate.Length(1, 64))
    name = ma.fields.String(required=True, validate=validate.Length(1, 200))
    unit = ma.fields.String(load_default="each", validate=validate.Length(1, 20))
    unit_price = ma.fields.Float(required=True, validate=_PRICE)
    stock_on_hand = ma.fields.Float(load_default=0, validate=_STOCK)
    lead_time_days = ma.fields.Integer(load_default=7, strict=True,
                                       validate=validate.Range(0, 3650))


class ProductListArgs(ListArgs):
    sort = sort_field("id", "sku", "name", "stock_on_hand", "unit_price", default="id")
    q = ma.fields.String(validate=validate.Length(1, 200),
                         metadata={"description": "Part of the name or sku, any case."})
    sku = ma.fields.String(validate=validate.Length(1, 64), metadata={"description": "Exact sku."})


ProductPageSchema = page_schema(ProductSchema, "ProductPage")
