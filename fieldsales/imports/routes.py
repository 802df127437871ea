"""Imports REST: bulk upserts of products, customers and deliveries from an ERP, a WMS or a
CRM, as a JSON batch, a CSV or an XLSX file (fieldsales/imports/service.py)."""
import json

from flask import current_app, request
from sqlalchemy.exc import IntegrityError

from fieldsales.errors import ApiError, answers
from fieldsales.extensions import Blueprint, db
from fieldsales.imports import service
from fieldsales.imports.schemas import (
    CustomerRowSchema,
    DeliveryRowSchema,
    IdempotencyHeaders,
    ImportArgs,
    ImportReportSchema,
    ProductRowSchema,
    batch_schema,
)
from fieldsales.users.guard import current_user, require

blp = Blueprint("imports", __name__, url_prefix="/api/v1",
                description="Bulk imports from an ERP, a WMS or a CRM: JSON batches, CSV and "
                            "XLSX files, all or nothing, idempotent, with a dry run.")

_REFUSALS = ("`invalid_rows`: rows failed their checks, each named by its line in "
             "`details.rows` (nothing was imported); `validation_error`: the file cannot be "
             "read, or the body is no batch; `idempotency_key_reused`: the key was used with "
             "another body.")
_FILE = {"schema": {"type": "string", "format": "binary"}}
# Who may import what (the console's imports page offers the same kinds).
ROLES = {"products": ("admin", "procurement"), "customers": ("admin", "manager"),
         "deliveries": ("admin", "procurement")}


def _body_doc(row_schema, name: str) -> dict:
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": batch_schema(row_schema, name)},
        "text/csv": {"schema": {"type": "string"}},
        service.XLSX_MIMETYPE: _FILE,
        "multipart/form-data": {"schema": {
            "type": "object", "required": ["file"],
            "properties": {"file": {"type": "string", "format": "binary",
                                    "description": "A .csv or .xlsx file."}}}},
    }}}


def _source():
    """The body as a seekable file, its hash and its format, from the Content-Type."""
    mimetype = request.mimetype
    if mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise ApiError(422, "validation_error", "The request is invalid: check file.",
                           {"file": ["Send the file as the form field 'file'."]})
        is_xlsx = (upload.mimetype == service.XLSX_MIMETYPE
                   or (upload.filename or "").lower().endswith(".xlsx"))
        source, digest = service.spool(stream=upload.stream)
        return source, digest, "xlsx" if is_xlsx else "csv"
    formats = {"application/json": "json", "text/csv": "csv", service.XLSX_MIMETYPE: "xlsx"}
    if mimetype not in formats:
        raise ApiError(415, "unsupported_media_type",
                       "Send application/json, text/csv, an XLSX workbook, or a "
                       "multipart/form-data file.")
    source, digest = service.spool(stream=request.stream)
    return source, digest, formats[mimetype]


def _answer(status: int, answer: dict):
    """A stored answer, answered again."""
    response = current_app.json.response(answer)  # the bytes the first answer had
    response.status_code = status
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _import(kind: str, args: dict, headers: dict):
    viewer = current_user()
    key = headers.get("idempotency_key")
    source, digest, file_format = _source()
    with source:
        hashed = service.body_hash(kind=kind, dry_run=args["dry_run"], digest=digest)
        first = service.replayed(viewer=viewer, kind=kind, key=key, hashed=hashed)
        if first is not None:
            return _answer(first.status, json.loads(first.answer))
        report, status, answer, refusal = service.execute(
            kind=kind, viewer=viewer, dry_run=args["dry_run"], source=source,
            file_format=file_format)
    if key is not None or not (report.failed or report.dry_run):
        service.record(viewer=viewer, kind=kind, key=key, hashed=hashed, report=report,
                       status=status, answer=answer)
    try:
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        if not service.is_key_clash(error):
            raise
        # A concurrent repeat committed first: answer as it did (or 422, another body).
        first = service.replayed(viewer=viewer, kind=kind, key=key, hashed=hashed)
        if first is None:
            raise
        return _answer(first.status, json.loads(first.answer))
    if refusal is not None:
        raise refusal
    return answer


@blp.route("/imports/products", methods=["POST"])
@require(*ROLES["products"])
@answers(422, _REFUSALS)
@blp.arguments(ImportArgs, location="query", unknown=None)
@blp.arguments(IdempotencyHeaders, location="headers", unknown=None)
@blp.response(200, ImportReportSchema)
@blp.doc(**_body_doc(ProductRowSchema, "ProductImportBatch"))
def import_products(args, headers):
    """Upsert products by `sku` (admin, procurement): price, stock on hand, lead time.

    Columns (a CSV's header line, an XLSX's first row, a JSON row's fields): `sku`, `name`,
    `unit`, `unit_price`, `stock_on_hand`, `lead_time_days`. A new sku needs `name` and
    `unit_price`; a known one changes the columns given (an empty cell changes nothing).
    All or nothing: any invalid row is 422 `invalid_rows` with its line, and nothing is
    imported. `dry_run=true` reports what would change. Stock reaches the demand and backlog
    jobs at their next run.
    """
    return _import("products", args, headers)


@blp.route("/imports/customers", methods=["POST"])
@require(*ROLES["customers"])
@answers(422, _REFUSALS)
@blp.arguments(ImportArgs, location="query", unknown=None)
@blp.arguments(IdempotencyHeaders, location="headers", unknown=None)
@blp.response(200, ImportReportSchema)
@blp.doc(**_body_doc(CustomerRowSchema, "CustomerImportBatch"))
def import_customers(args, headers):
    """Upsert customers from a CRM by `external_id` (admin; managers for their team).

    Columns: `external_id`, `name`, `address`, `latitude`, `longitude`, `segment`, `kind`,
    `phone`, `geofence_radius_m`, `visit_cadence_days`, `assigned_rep_email`. The team
    follows the rep (a manager's customers stay in their team, and they name only their own
    reps); a customer of another team is refused by line. All or nothing, as products.
    """
    return _import("customers", args, headers)


@blp.route("/imports/deliveries", methods=["POST"])
@require(*ROLES["deliveries"])
@answers(422, _REFUSALS)
@blp.arguments(ImportArgs, location="query", unknown=None)
@blp.arguments(IdempotencyHeaders, location="headers", unknown=None)
@blp.response(200, ImportReportSchema)
@blp.doc(**_body_doc(DeliveryRowSchema, "DeliveryImportBatch"))
def import_deliveries(args, headers):
    """Record deliveries from a WMS (admin, procurement), as `POST /orders/<id>/deliveries`.

    Columns: `order_id`, `order_line_id`, `quantity`, `delivered_at` (epoch ms, or an Excel
    date-time in UTC; empty: now). Consecutive rows of one order with the same
    `delivered_at` are one delivery. More than pending or than the stock on hand fails the
    rows of that delivery; all or nothing, as products.
    """
    return _import("deliveries", args, headers)
