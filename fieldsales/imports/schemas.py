"""Import payloads: the rows each kind takes, the query and header arguments, the report.

The rules of a product's or a customer's fields are their domain's schemas
(`ProductCreateSchema`/`ProductUpdateSchema`, `CustomerCreateSchema`/`CustomerUpdateSchema`):
the import loads each row with them. What is only the import's is here: the key a row is
matched on (`sku`, `external_id`), the rep named by e-mail, and a delivery row's order.
"""
import marshmallow as ma
from marshmallow import validate

from fieldsales.customers.schemas import CustomerUpdateSchema
from fieldsales.orders.schemas import DeliveryLineSchema
from fieldsales.products.schemas import ProductUpdateSchema
from fieldsales.schemas import IdField, StrictSchema

IDEMPOTENCY_KEY = validate.Regexp(r"^[\x21-\x7e]{1,200}$", error=(
    "1 to 200 printable ASCII characters, no spaces."))


class ImportArgs(StrictSchema):
    dry_run = ma.fields.Boolean(load_default=False, metadata={
        "description": "true: check every row and report what would change; nothing is "
                       "written."})


class IdempotencyHeaders(ma.Schema):
    """The `Idempotency-Key` header (other headers are not this schema's)."""

    class Meta:
        unknown = ma.EXCLUDE

    idempotency_key = ma.fields.String(
        data_key="Idempotency-Key", validate=IDEMPOTENCY_KEY, metadata={
            "description": "A repeat with the same key (and the same body and dry_run) answers "
                           "the first answer again, without importing twice; the same key with "
                           "another body is 422 `idempotency_key_reused`."})


class ProductRowSchema(ProductUpdateSchema):
    """A product row: matched on `sku`; a new sku needs `name` and `unit_price`."""

    sku = ma.fields.String(required=True, validate=validate.Length(1, 64))


class CustomerRowSchema(CustomerUpdateSchema):
    """A customer row from a CRM: matched on `external_id`; a new one needs `name`, `latitude`
    and `longitude`. The rep is named by e-mail, the team follows the rep (managers: their
    own)."""

    class Meta:
        exclude = ("assigned_rep_id", "team_id")

    external_id = ma.fields.String(required=True, validate=validate.Length(1, 100),
                                   metadata={"description": "The CRM's id of the customer."})
    assigned_rep_email = ma.fields.Email(allow_none=True, metadata={
        "description": "The rep who works the customer (managers: a rep of their team)."})


class DeliveryRowSchema(DeliveryLineSchema):
    """A delivered line quantity. Consecutive rows of one order with the same `delivered_at`
    are one delivery."""

    order_id = IdField(required=True)
    delivered_at = ma.fields.Integer(strict=True, allow_none=True, metadata={
        "description": "When it left (epoch ms); now when empty."})


def batch_schema(row_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """A JSON batch: `{"rows": [...]}`."""
    return ma.Schema.from_dict({"rows": ma.fields.List(
        ma.fields.Nested(row_schema), required=True, validate=validate.Length(min=1))},
        name=name)


class ReportRowSchema(ma.Schema):
    line = ma.fields.Integer(metadata={
        "description": "The row's line in the file (header: line 1), or its position in a "
                       "JSON batch (first: 1)."})
    key = ma.fields.String(allow_none=True, metadata={
        "description": "sku, external_id, or the order id of a delivery row."})
    action = ma.fields.String(metadata={
        "description": "created, updated, unchanged, or delivered (deliveries)."})


class ImportReportSchema(ma.Schema):
    kind = ma.fields.String()
    dry_run = ma.fields.Boolean()
    applied = ma.fields.Boolean(metadata={"description": "false on a dry run."})
    rows = ma.fields.Integer(metadata={"description": "Rows read."})
    created = ma.fields.Integer()
    updated = ma.fields.Integer()
    unchanged = ma.fields.Integer()
    deliveries = ma.fields.Integer(metadata={"description": "Deliveries recorded (deliveries)."})
    lines = ma.fields.List(ma.fields.Nested(ReportRowSchema), metadata={
        "description": "Per row, the first REPORT_ROWS rows (lines_omitted: the rest)."})
    lines_omitted = ma.fields.Integer()
