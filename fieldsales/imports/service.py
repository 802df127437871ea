"""Imports: read rows from a JSON batch, a CSV or an XLSX file, check each with its domain's
rules, and upsert them set-based in bounded batches (issue 16).

- **All or nothing.** An import is one transaction: every row is checked (and written in
  batches of `BATCH` rows as it is read), and the caller commits only when no row failed
  and it is not a dry run; otherwise it rolls back, so an import is never half-applied. A
  failed import answers 422 `invalid_rows` with each failing row's line and fields (the first
  `REPORT_ERRORS`); a dry run answers the same report as the real run would, then rolls back.
- **Streaming.** A CSV is read by the csv module over a text stream, an XLSX by openpyxl in
  read-only mode, one row at a time; only a batch, the per-row report (the first
  `REPORT_ROWS` rows) and the first errors are held, so memory stays flat whatever the size
  (bench/imports.py).
- **Rules in one place.** A row is loaded with its domain's schemas (a new product with
  `ProductCreateSchema`, a known sku with `ProductUpdateSchema`; customers alike), a rep is
  assignable by `customers.service.is_assignable`, a customer's team is
  `customers.service.owning_team_id`'s, a delivery is `orders.service.deliver`. Cells of a
  file are text: they are turned into the type the schema's field declares before loading.
- **Sync.** Written rows carry this transaction's stamp (`changed_seq`, and `created_seq` for
  new ones), so phones pull them; a customer moved to another rep leaves the old rep's phone
  and reaches the new one's (access changes, as a PATCH).
- **Repeated keys.** Rows are applied in file order: a key seen again later is an update of
  what the earlier row wrote (a batch is written before a repeated key joins the next one).
"""
import csv
import datetime
import hashlib
import io
import itertools
import json
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, cast

import marshmallow as ma
from openpyxl import load_workbook
from sqlalchemy import Table, select
from sqlalchemy.exc import IntegrityError

from fieldsales.changes.clock import take_stamp
from fieldsales.changes.models import AccessChange
from fieldsales.common import new_id, now_ms
from fieldsales.customers import service as customers_service
from fieldsales.customers.models import Customer
from fieldsales.customers.schemas import CustomerCreateSchema, CustomerUpdateSchema
from fieldsales.database import upsert
from fieldsales.errors import ApiError
from fieldsales.extensions import db
from fieldsales.imports.models import ImportRun
from fieldsales.imports.schemas import CustomerRowSchema, DeliveryRowSchema, ImportReportSchema
from fieldsales.orders import service as orders_service
from fieldsales.orders.schemas import DeliveryCreateSchema
from fieldsales.products.models import Product
from fieldsales.products.schemas import ProductCreateSchema, ProductUpdateSchema
from fieldsales.users import scope
from fieldsales.users.models import User

BATCH = 1000  # rows checked and written per statement
REPORT_ROWS = 1000  # rows reported one by one; the rest are counted
REPORT_ERRORS = 100  # failing rows reported; the rest are counted
KINDS = ("products", "customers", "deliveries")
WRITERS = {"products": ("admin", "procurement"), "customers": ("admin", "manager"),
           "deliveries": ("admin", "procurement")}
FORMATS = ("json", "csv", "xlsx")
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
READ_CHUNK = 64 * 1024
_PRODUCT_FIELDS = ("sku", "name", "unit", "unit_price", "stock_on_hand", "lead_time_days")
_CUSTOMER_FIELDS = ("name", "address", "latitude", "longitude", "geofence_radius_m", "segment",
                    "phone", "kind", "visit_cadence_days")
_EPOCH = datetime.datetime(1970, 1, 1)
# What a text cell turns into for each kind of schema field (anything else stays text).
_ROW_SCHEMAS: dict[str, ma.Schema] = {
    "products": ProductCreateSchema(), "customers": CustomerRowSchema(),
    "deliveries": DeliveryRowSchema()}
# The domains' schemas, made once (a schema is costly to build, cheap to load with).
_NEW_PRODUCT, _PRODUCT_CHANGES = ProductCreateSchema(), ProductUpdateSchema()
_NEW_CUSTOMER, _CUSTOMER_CHANGES = CustomerCreateSchema(), CustomerUpdateSchema()
_DELIVERY = DeliveryCreateSchema()


def invalid_file(message: str) -> ApiError:
    return ApiError(422, "validation_error", f"The file cannot be read: {message}",
                    {"file": [message]})


# --- reading ----------------------------------------------------------------------------------

def spool(*, stream: IO[bytes]) -> tuple[IO[bytes], str]:
    """A seekable copy of `stream` in a temporary file (kept on disk past a few MB) and the
    SHA-256 of its bytes, read a chunk at a time."""
    copy = tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024)  # noqa: SIM115
    digest = hashlib.sha256()
    while chunk := stream.read(READ_CHUNK):
        digest.update(chunk)
        copy.write(chunk)
    copy.seek(0)
    return cast(IO[bytes], copy), digest.hexdigest()


def read_rows(*, kind: str, source: IO[bytes], file_format: str) -> Iterator[tuple[int, dict]]:
    """(line, row) for each row of a JSON batch, a CSV or an XLSX file. Cells of a file are
    typed as the row schema's fields say; an empty cell is an absent field."""
    if file_format == "json":
        yield from _json_rows(source)
        return
    rows = _csv_rows(source) if file_format == "csv" else _xlsx_rows(source)
    schema = _ROW_SCHEMAS[kind]
    for line, row in rows:
        yield line, _typed(schema, row)


def _json_rows(source: IO[bytes]) -> Iterator[tuple[int, dict]]:
    try:
        body = json.load(source)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "bad_request", "The body is not JSON.") from None
    if not isinstance(body, dict) or not isinstance(body.get("rows"), list):
        raise ApiError(422, "validation_error", "The request is invalid: check rows.",
                       {"rows": ['Send {"rows": [...]}, a list of rows.']})
    unknown = sorted(set(body) - {"rows"})
    if unknown:
        raise ApiError(422, "validation_error", "The request is invalid: check the body.",
                       {name: ["Unknown field."] for name in unknown})
    if not body["rows"]:
        raise ApiError(422, "validation_error", "The request is invalid: check rows.",
                       {"rows": ["Send at least one row."]})
    for number, row in enumerate(body["rows"], start=1):
        yield number, row if isinstance(row, dict) else {"_row": row}


def _csv_rows(source: IO[bytes]) -> Iterator[tuple[int, dict]]:
    text = io.TextIOWrapper(source, encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    try:
        header = next(reader, None)
        if header is None or not any(name.strip() for name in header):
            raise invalid_file("No header line: the first line names the columns.")
        header = [name.strip() for name in header]
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            row: dict[str, Any] = dict(zip(header, cells, strict=False))
            if len(cells) > len(header):
                row["_extra"] = cells[len(header):]
            yield reader.line_num, row
    except UnicodeDecodeError:
        raise invalid_file(f"Not UTF-8 text (near line {reader.line_num + 1}).") from None
    except csv.Error as error:
        raise invalid_file(f"Not CSV (line {reader.line_num}: {error}).") from None
    finally:
        text.detach()


def _xlsx_rows(source: IO[bytes]) -> Iterator[tuple[int, dict]]:
    try:
        workbook = load_workbook(source, read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header_cells = next(rows, None)
    except Exception:  # noqa: BLE001  (a zip, XML or workbook error: whatever openpyxl raises)
        raise invalid_file("Not an XLSX workbook.") from None
    try:
        if header_cells is None or not any(cell is not None for cell in header_cells):
            raise invalid_file("No header row: the first row names the columns.")
        header = ["" if cell is None else str(cell).strip() for cell in header_cells]
        for number, cells in enumerate(rows, start=2):
            if all(cell is None or cell == "" for cell in cells):
                continue
            row = {name: cell for name, cell in zip(header, cells, strict=False)
                   if name or cell is not None}
            yield number, row
    finally:
        workbook.close()


def _typed(schema: ma.Schema, row: dict) -> dict:
    """A file's row as the row schema's fields take it: numbers from text, whole numbers as
    integers, an Excel date-time (UTC) as epoch ms; empty cells left out. A cell that does
    not convert stays as it is, for the schema to refuse by name."""
    typed: dict[str, Any] = {}
    for name, value in row.items():
        if isinstance(value, str):
            value = value.strip()
        if value is None or value == "":
            continue
        schema_field = schema.fields.get(name)
        if isinstance(schema_field, ma.fields.Integer):
            value = _integer(value)
        elif isinstance(schema_field, ma.fields.Float):
            value = _number(value)
        elif isinstance(schema_field, ma.fields.String) and isinstance(value, (int, float)):
            value = str(int(value)) if float(value).is_integer() else str(value)
        typed[name] = value
    return typed


def _integer(value):
    if isinstance(value, datetime.datetime):
        return int((value - _EPOCH).total_seconds() * 1000)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return value
    return value


def _number(value):
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


# --- the report -------------------------------------------------------------------------------

@dataclass
class Report:
    kind: str
    dry_run: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deliveries: int = 0
    lines: list[dict] = field(default_factory=list)
    errors: dict[str, dict] = field(default_factory=dict)
    failed: int = 0

    def row(self, line: int, key: str | None, action: str) -> None:
        if action in ("created", "updated", "unchanged"):
            setattr(self, action, getattr(self, action) + 1)
        if len(self.lines) < REPORT_ROWS:
            self.lines.append({"line": line, "key": key, "action": action})

    def error(self, line: int, problems: dict) -> None:
        self.failed += 1
        if len(self.errors) < REPORT_ERRORS:
            self.errors[str(line)] = problems

    def answer(self) -> dict:
        return {"kind": self.kind, "dry_run": self.dry_run,
                "applied": not self.dry_run and not self.failed, "rows": self.rows,
                "created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "deliveries": self.deliveries, "lines": self.lines,
                "lines_omitted": max(self.rows - self.failed - len(self.lines), 0)}

    def refusal(self) -> ApiError:
        shown = ", ".join(list(self.errors)[:5])
        more = f" and {self.failed - 5} more" if self.failed > 5 else ""
        return ApiError(422, "invalid_rows", f"{self.failed} of {self.rows} rows are invalid "
                        f"(lines {shown}{more}); nothing was imported.",
                        {"rows": self.errors, "failed": self.failed,
                         "errors_omitted": self.failed - len(self.errors)})


# --- running ----------------------------------------------------------------------------------

def run(*, kind: str, viewer: User, rows: Iterable[tuple[int, dict]], dry_run: bool,
        progress: Callable[[int], None] | None = None) -> Report:
    """Check and write every row in batches; the caller commits when the report has no
    failed row and it is not a dry run, and rolls back otherwise."""
    report = Report(kind=kind, dry_run=dry_run)
    stamp = take_stamp(db.session)
    if kind == "deliveries":
        _deliveries(rows, viewer=viewer, report=report, progress=progress)
        return report
    write = _products_batch if kind == "products" else _customers_batch
    key = "sku" if kind == "products" else "external_id"
    for batch in _batches(rows, key=key):
        report.rows += len(batch)
        write(batch, viewer=viewer, report=report, stamp=stamp)
        if progress is not None:
            progress(report.rows)
    return report


def _batches(rows: Iterable[tuple[int, dict]], *, key: str) -> Iterator[list[tuple[int, dict]]]:
    """Up to BATCH rows at a time; a key already in the batch starts the next one, so the
    later row updates what the earlier wrote."""
    batch: list[tuple[int, dict]] = []
    keys: set = set()
    for line, row in rows:
        value = row.get(key)
        hashable = value if isinstance(value, str) else None
        if len(batch) >= BATCH or (hashable is not None and hashable in keys):
            yield batch
            batch, keys = [], set()
        batch.append((line, row))
        if hashable is not None:
            keys.add(hashable)
    if batch:
        yield batch


def _load(schema: ma.Schema, row: dict) -> tuple[dict | None, dict]:
    try:
        return schema.load(row), {}
    except ma.ValidationError as error:
        return None, cast(dict, error.messages)


def _products_batch(batch, *, viewer: User, report: Report, stamp: int) -> None:
    table = cast(Table, Product.__table__)
    skus = [row["sku"] for _line, row in batch if isinstance(row.get("sku"), str)]
    existing = {found["sku"]: found for found in db.session.execute(
        select(table.c.id, table.c.deleted_at, *(table.c[name] for name in _PRODUCT_FIELDS))
        .where(table.c.sku.in_(skus))).mappings()}
    writes = []
    for line, row in batch:
        known = existing.get(row.get("sku"))
        if "id" in row:  # an export's column, edited and sent back: the sku's own id only
            if known is None or row["id"] != known["id"]:
                report.error(line, {"id": ["Products are matched by sku: leave id out, or "
                                           "give the id of this sku's product."]})
                continue
            row = {name: value for name, value in row.items() if name != "id"}
        data, problems = _load(_PRODUCT_CHANGES if known else _NEW_PRODUCT, row)
        if known is not None and known["deleted_at"] is not None:
            problems = {**problems, "sku": ["A removed product has this sku."]}
        if data is None or problems:
            report.error(line, problems)
            continue
        if known is None:
            writes.append({"id": new_id(), **{name: data.get(name) for name in _PRODUCT_FIELDS},
                           "created_seq": stamp, "changed_seq": stamp, "received_at": now_ms(),
                           "deleted_at": None})
            report.row(line, data["sku"], "created")
            continue
        values = {name: data.get(name, known[name]) for name in _PRODUCT_FIELDS}
        if all(values[name] == known[name] for name in _PRODUCT_FIELDS):
            report.row(line, data["sku"], "unchanged")
            continue
        writes.append({"id": known["id"], **values, "created_seq": 0, "changed_seq": stamp,
                       "received_at": 0, "deleted_at": None})
        report.row(line, data["sku"], "updated")
    if not report.failed:
        upsert(table, writes, key="sku", update=(*_PRODUCT_FIELDS, "changed_seq"))


def _customers_batch(batch, *, viewer: User, report: Report, stamp: int) -> None:
    table = cast(Table, Customer.__table__)
    keys = [row["external_id"] for _line, row in batch if isinstance(row.get("external_id"), str)]
    existing = {found["external_id"]: found for found in db.session.execute(
        select(table.c.id, table.c.external_id, table.c.deleted_at, table.c.team_id,
               table.c.assigned_rep_id, *(table.c[name] for name in _CUSTOMER_FIELDS),
               scope.rep_clause(viewer=viewer, rep_column=Customer.assigned_rep_id,
                                team_column=Customer.team_id).label("mine"))
        .where(table.c.external_id.in_(keys))).mappings()}
    emails = {row["assigned_rep_email"].lower() for _line, row in batch
              if isinstance(row.get("assigned_rep_email"), str)}
    reps = {rep.email.lower(): rep for rep in db.session.scalars(
        select(User).where(User.email.in_(sorted(emails))))} if emails else {}
    writes, moves = [], []
    for line, row in batch:
        row = dict(row)
        problems: dict = {}
        for refused in ("id", "team_id", "assigned_rep_id"):
            if refused in row:
                problems[refused] = ["Not an import column: customers are matched by "
                                     "external_id, reps named by assigned_rep_email."]
        external_id = row.pop("external_id", None)
        if not isinstance(external_id, str) or not 1 <= len(external_id) <= 100:
            problems["external_id"] = ["Required: the CRM's id, 1 to 100 characters."]
        email = row.pop("assigned_rep_email", None)
        rep = None
        if email is not None:
            rep = reps.get(email.lower()) if isinstance(email, str) else None
            if rep is None or not customers_service.is_assignable(viewer=viewer, rep=rep):
                where = " in your team" if viewer.role == "manager" else ""
                problems["assigned_rep_email"] = [f"No active rep with this e-mail{where}."]
        known = existing.get(external_id)
        if known is not None and known["deleted_at"] is not None:
            problems["external_id"] = ["A removed customer has this external id."]
        elif known is not None and not known["mine"]:
            problems["external_id"] = ["Used by a customer you may not change."]
        schema = _CUSTOMER_CHANGES if known else _NEW_CUSTOMER
        data, load_problems = _load(schema, {k: v for k, v in row.items()
                                             if k not in ("id", "team_id", "assigned_rep_id")})
        problems.update(load_problems)
        team_id = None
        if not problems:
            try:
                team_id = customers_service.owning_team_id(
                    viewer=viewer, rep=rep, changes={},
                    current=known["team_id"] if known else None)
            except ApiError as error:
                problems.update(error.details)
        if data is None or problems:
            report.error(line, problems)
            continue
        rep_id = rep.id if rep is not None else (known["assigned_rep_id"] if known else None)
        if known is None:
            writes.append({"id": new_id(), "external_id": external_id,
                           **{name: data.get(name) for name in _CUSTOMER_FIELDS},
                           "team_id": team_id, "assigned_rep_id": rep_id, "merged_into_id": None,
                           "created_seq": stamp, "changed_seq": stamp, "received_at": now_ms(),
                           "deleted_at": None})
            report.row(line, external_id, "created")
            continue
        values = {name: data.get(name, known[name]) for name in _CUSTOMER_FIELDS}
        values.update(team_id=team_id if rep is not None else known["team_id"],
                      assigned_rep_id=rep_id)
        if all(values[name] == known[name] for name in values):
            report.row(line, external_id, "unchanged")
            continue
        if rep_id != known["assigned_rep_id"]:
            moves.append((known["id"], known["assigned_rep_id"], rep_id))
        writes.append({"id": known["id"], "external_id": external_id, **values,
                       "merged_into_id": None, "created_seq": 0, "changed_seq": stamp,
                       "received_at": 0, "deleted_at": None})
        report.row(line, external_id, "updated")
    if report.failed:
        return
    upsert(table, writes, key="external_id",
           update=(*_CUSTOMER_FIELDS, "team_id", "assigned_rep_id", "changed_seq"))
    access = [{"table_name": "customers", "record_id": customer_id, "user_id": user_id,
               "granted": granted, "stamp": stamp}
              for customer_id, old, new in moves
              for user_id, granted in ((old, False), (new, True)) if user_id]
    if access:  # as customers.service.update's `reassigned`, for the whole batch at once
        db.session.execute(cast(Table, AccessChange.__table__).insert(), access)


def _deliveries(rows, *, viewer: User, report: Report,
                progress: Callable[[int], None] | None) -> None:
    """Consecutive rows of one order and `delivered_at` are one delivery, recorded by
    `orders.service.deliver` as `POST /orders/<id>/deliveries` records it."""
    def group_key(item):
        row = item[1]
        return (row.get("order_id"), row.get("delivered_at"))

    for (order_id, delivered_at), group_rows in itertools.groupby(rows, key=group_key):
        group = list(group_rows)
        report.rows += len(group)
        lines, failed = [], False
        for line, row in group:
            body = {"lines": [{k: v for k, v in row.items()
                               if k not in ("order_id", "delivered_at")}]}
            if delivered_at is not None:
                body["delivered_at"] = delivered_at
            _data, problems = _load(_DELIVERY, body)
            if not isinstance(order_id, str):
                problems = {**problems, "order_id": ["Required: the order's id."]}
            if problems:
                report.error(line, _row_problems(problems))
                failed = True
            else:
                lines.append(_data["lines"][0])  # type: ignore[index]
        if not failed:
            try:
                savepoint = db.session.begin_nested()
                order = orders_service.get(viewer=viewer, order_id=order_id, for_update=True)
                orders_service.deliver(order=order, lines=lines, delivered_at=delivered_at,
                                       by=viewer)
                db.session.flush()
                savepoint.commit()
            except ApiError as error:
                savepoint.rollback()
                problems = {"order_id": ["No such order."]} if error.status == 404 else {
                    "delivery": [error.message]}
                for line, _row in group:
                    report.error(line, problems)
                failed = True
        if not failed:
            report.deliveries += 1
            for line, _row in group:
                report.row(line, order_id, "delivered")
        if progress is not None:
            progress(report.rows)


def _row_problems(problems: dict) -> dict:
    """A delivery row's problems by its own columns, not by the DeliveryCreateSchema body's."""
    flat: dict = {}
    for name, value in problems.items():
        if name == "lines" and isinstance(value, dict):
            for inner in value.values():
                flat.update(inner if isinstance(inner, dict) else {"lines": inner})
        else:
            flat[name] = value
    return flat


def execute(*, kind: str, viewer: User, dry_run: bool, source: IO[bytes], file_format: str
            ) -> tuple[Report, int, dict, ApiError | None]:
    """One import of a file (the API and the console): (report, status, answer, refusal).
    What a failed import or a dry run wrote is rolled back here; the caller records the run
    (`record`) and commits once."""
    report = run(kind=kind, viewer=viewer, dry_run=dry_run,
                 rows=read_rows(kind=kind, source=source, file_format=file_format))
    refusal = report.refusal() if report.failed else None
    if refusal is not None:
        status, answer = 422, {"error": {"code": refusal.code, "message": refusal.message,
                                         "details": refusal.details}}
    else:
        status, answer = 200, ImportReportSchema().dump(report.answer())
    if report.failed or report.dry_run:
        db.session.rollback()
    return report, status, answer, refusal


def recent_runs(*, viewer: User, limit: int = 20) -> list[ImportRun]:
    """The latest import runs, newest first: admins everyone's, others their own."""
    query = select(ImportRun)
    if viewer.role != "admin":
        query = query.where(ImportRun.user_id == viewer.id)
    return list(db.session.scalars(query.order_by(ImportRun.created_at.desc(),
                                                  ImportRun.id.desc()).limit(limit)))


# --- idempotency ------------------------------------------------------------------------------

def body_hash(*, kind: str, dry_run: bool, digest: str) -> str:
    """What a repeat must match to be a repeat: the kind, dry run or not, and the body."""
    return hashlib.sha256(f"{kind}|{dry_run}|{digest}".encode()).hexdigest()


def replayed(*, viewer: User, kind: str, key: str | None, hashed: str) -> ImportRun | None:
    """The first run under this key, to answer again; 422 if its body was another."""
    if key is None:
        return None
    first = db.session.scalar(select(ImportRun).where(
        ImportRun.user_id == viewer.id, ImportRun.kind == kind, ImportRun.idempotency_key == key))
    if first is not None and first.body_hash != hashed:
        raise ApiError(422, "idempotency_key_reused",
                       "This Idempotency-Key was used for another import: use a new key.",
                       {"Idempotency-Key": ["Already used with another body."]})
    return first


def record(*, viewer: User, kind: str, key: str | None, hashed: str, report: Report,
           status: int, answer: dict) -> None:
    """The run and its answer, in the transaction that applies it (if it does)."""
    db.session.add(ImportRun(
        kind=kind, user_id=viewer.id, idempotency_key=key, body_hash=hashed,
        dry_run=report.dry_run, applied=status == 200 and not report.dry_run, status=status,
        answer=json.dumps(answer, separators=(",", ":")), rows=report.rows))


def is_key_clash(error: IntegrityError) -> bool:
    """Whether a commit failed on the key of another run (a concurrent repeat)."""
    return "import_runs" in str(error.orig) or "idempotency_key" in str(error.orig)
