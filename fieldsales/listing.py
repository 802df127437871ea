"""The one way lists paginate, sort, filter and export as CSV.

Every list endpoint of every domain (customers, products, tasks, orders, users, targets and
the reports) declares a `Listing`: the fields it may be sorted by (an allow-list), its
filters, and the schema of one item. The same `Listing` then answers a JSON page and a CSV
export, so both always carry the same rows for the same filters. Job runs and the sync
quarantine and log are operators' logs: a `NewestFirst` pages them newest first on their
integer ids (`next_cursor` is the last id of the page), with filters declared the same way.
Filters are declared here, beside the list's sorts, never in a service: a service says which
rows the viewer may see (`visible`), the list narrows them by its arguments.

- Pagination is keyset on (sort key, id): the opaque `next_cursor` holds the last row's sort
  key and id, signed with the app's secret key (a cursor made by hand is refused, so no odd
  value ever reaches a comparison), and the next page starts strictly after it. Rows added
  meanwhile never shift a page, so a walk through the list loses and repeats nothing.
- `sort=field` ascending, `sort=-field` descending; ties always break on the id, ascending.
- CSV (`?format=csv`, or `Accept: text/csv` without `format`): every matching row (limit
  and cursor are ignored) from one ordered query, streamed as it is read, in the order and
  with the filters and role scope of the JSON pages, the columns of the item schema, nested
  objects flattened to `a.b` columns, and text cells that a spreadsheet would read as a
  formula (starting with = + - @ tab or CR) prefixed with `'` (numbers stay numbers: -1.5 is
  exported as -1.5).
- XLSX (`?format=xlsx`, or `Accept: application/vnd.openxmlformats-officedocument.
  spreadsheetml.sheet` without `format`): the same rows, order, scope and columns as the CSV,
  in one sheet named after the list, with typed cells: numbers are numbers, true/false are
  booleans, an epoch-ms time (an integer field named `*_at`) is an Excel date-time in UTC
  (Excel has no time zones; the header keeps the field's name), a day (a `Date` field, or a
  string field documented with `format: date`) is an Excel date, lists and objects are their
  JSON text as in the CSV. Every text is a string cell (`data_type` "s"), so a value starting
  with = + - @ is shown as it is and never runs as a formula: unlike the CSV, no `'` is
  prefixed. Characters XML cannot hold (control characters other than tab and line breaks)
  are dropped. The workbook is written in openpyxl's write-only mode into a temporary file
  (rows go to disk as they are read, so memory stays bounded), then streamed from it.

A list comes from SQL (`Listing.respond(query=...)`) or, where the last step of the work is in
Python (e.g. fuzzy name matching), from a list of dicts (`Listing.respond(items=...)`); the
cursor, sort and CSV behave the same.
"""
import csv
import datetime
import io
import itertools
import json
import math
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import marshmallow as ma
from flask import Response, current_app, request, stream_with_context
from itsdangerous import BadData, URLSafeSerializer
from marshmallow import validate
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from sqlalchemy import Select, and_, or_

from fieldsales.errors import ApiError
from fieldsales.extensions import db
from fieldsales.schemas import PageArgs, StrictSchema

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
NO_DATE = 9_000_000_000_000_000  # sort key of a missing time (ms): after every real one
CSV_CHUNK = 1000
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSX_TIME_FORMAT = "yyyy-mm-dd hh:mm:ss.000"
XLSX_DAY_FORMAT = "yyyy-mm-dd"
FILE_CHUNK = 64 * 1024  # bytes of a finished workbook sent at a time
_EPOCH = datetime.datetime(1970, 1, 1)
_SORT_KEY, _SORT_ID = "_listing_sort_key", "_listing_sort_id"


class ListArgs(PageArgs):
    """Query arguments every list takes: `limit`, `cursor`, `sort`, `format`."""

    format = ma.fields.String(
        load_default=None, validate=validate.OneOf(("json", "csv", "xlsx")),
        metadata={"description": "`csv` or `xlsx` exports every matching row; without it, "
                  f"`Accept: text/csv` or `Accept: {XLSX_MIMETYPE}` does the same."})


class LogCursor(ma.fields.Integer):
    """The `cursor` of an operators' log: the `next_cursor` (an id) of the previous page.

    Only ASCII digits of a number the logs' INTEGER ids can hold: `int()` would take `٣` or
    `+1`, and a larger number would overflow the comparison (PostgreSQL refuses it, SQLite
    past 64 bits)."""

    default_error_messages = {"invalid": "Pass back next_cursor unchanged."}

    def _deserialize(self, value, attr, data, **kwargs):
        if value == "":
            return None
        if isinstance(value, str) and re.fullmatch(r"[0-9]{1,10}", value) and int(value) < 2**31:
            return int(value)
        raise self.make_error("invalid")


class NewestFirstArgs(StrictSchema):
    """Query arguments every operators' log takes: `limit` and `cursor`."""

    limit = ma.fields.Integer(load_default=100, validate=validate.Range(1, 1000))
    cursor = LogCursor(load_default=None, metadata={
        "description": "`next_cursor` of the previous page (newest first)."})


def sort_field(*names: str, default: str) -> ma.fields.String:
    """The `sort` argument: one allowed field name, `-name` for descending."""
    choices = [*names, *(f"-{name}" for name in names)]
    return ma.fields.String(load_default=default, validate=validate.OneOf(choices),
                            metadata={"description": "Sort field; prefix `-` for descending. "
                                      "Ties break on id."})


def page_schema(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """`{"items": [...], "next_cursor": ...}` for an item schema."""
    return ma.Schema.from_dict({
        "items": ma.fields.List(ma.fields.Nested(item_schema)),
        "next_cursor": ma.fields.String(allow_none=True, metadata={
            "description": "Pass back as `cursor` for the next page; null on the last page."}),
    }, name=name)


_FORMATS = {"application/json": "json", "text/csv": "csv", XLSX_MIMETYPE: "xlsx"}


def wanted_format(args: dict) -> str:
    """`json`, `csv` or `xlsx`: `format` when given (an explicit `format=json` wins over the
    Accept header), else the best match of the Accept header (JSON on a tie)."""
    if args.get("format") is not None:
        return args["format"]
    return _FORMATS[request.accept_mimetypes.best_match(list(_FORMATS)) or "application/json"]


@dataclass
class Listing:
    """How one list sorts, filters and exports.

    `sorts` maps public names to SQL expressions (query lists) or item keys (Python lists);
    sort expressions must never be NULL (wrap in coalesce). `filters` maps argument names to
    a function of the value returning a WHERE clause (query lists) or a predicate on an item
    (Python lists).
    """

    name: str
    item_schema: type[ma.Schema]
    sorts: dict[str, Any]
    id_key: Any
    filters: dict[str, Callable[[Any], Any]] = field(default_factory=dict)

    # --- entry point -------------------------------------------------------------------
    def respond(self, *, args: dict, query: Select | None = None,
                items: list[dict] | None = None, decorate: Callable | None = None):
        """A JSON page (a dict for `@blp.response`) or a CSV or XLSX response of every row.

        `decorate(rows)` runs on each fetched page (e.g. to add figures computed per page
        with one set-based query) before the rows are dumped.
        """
        wanted = wanted_format(args)
        if wanted == "csv":
            return self._csv(args=args, query=query, items=items, decorate=decorate)
        if wanted == "xlsx":
            return self._xlsx(args=args, query=query, items=items, decorate=decorate)
        page = self.page(args=args, query=query, items=items)
        if decorate is not None:
            page["items"] = decorate(page["items"])
        return page

    def page(self, *, args: dict, query: Select | None = None,
             items: list[dict] | None = None) -> dict:
        sort_name, descending = _parse_sort(args.get("sort"), self.sorts)
        sort_spec = f"-{sort_name}" if descending else sort_name
        after = self._decode(args.get("cursor"), sort_spec)
        limit = args["limit"]
        if query is not None:
            rows, keys = self._query_page(query, args, sort_name, descending, after, limit)
        else:
            rows, keys = self._items_page(items or [], args, sort_name, descending, after, limit)
        next_cursor = self._encode(sort_spec, keys[-1]) if len(rows) > limit else None
        return {"items": rows[:limit], "next_cursor": next_cursor}

    # --- SQL lists ---------------------------------------------------------------------
    def _query_page(self, query, args, sort_name, descending, after, limit):
        query = self._ordered(query, args, sort_name, descending, after).limit(limit + 1)
        rows, keys = self._unpack(db.session.execute(query))
        return rows, keys[:limit]

    def _ordered(self, query, args, sort_name, descending, after):
        """The filtered query in (sort key, id) order, starting after the cursor's row."""
        sort_expr = self.sorts[sort_name]
        query = self.matching(query, args)
        query = query.add_columns(sort_expr.label(_SORT_KEY), self.id_key.label(_SORT_ID))
        if after is not None:
            value, last_id = after
            beyond = sort_expr < value if descending else sort_expr > value
            query = query.where(or_(beyond, and_(sort_expr == value, self.id_key > last_id)))
        return query.order_by(sort_expr.desc() if descending else sort_expr.asc(),
                              self.id_key.asc())

    @staticmethod
    def _unpack(rows) -> tuple[list, list]:
        """Items (an ORM object, or a dict of the columns) and their (sort key, id)."""
        items, keys = [], []
        for row in rows:
            mapping = row._mapping
            items.append(row[0] if len(mapping) == 3 else {
                k: v for k, v in mapping.items() if k not in (_SORT_KEY, _SORT_ID)})
            keys.append((_jsonable(mapping[_SORT_KEY]), mapping[_SORT_ID]))
        return items, keys

    def matching(self, query: Select, args: dict) -> Select:
        """The query narrowed by the list's filters: every row a CSV export holds."""
        return _filtered(query, self.filters, args)

    # --- Python lists ------------------------------------------------------------------
    def _items_page(self, items, args, sort_name, descending, after, limit):
        key_name = self.sorts[sort_name]
        for name, predicate in self.filters.items():
            if args.get(name) is not None:
                items = [item for item in items if predicate(args[name])(item)]
        ordered = sorted(items, key=lambda item: item[self.id_key])
        ordered.sort(key=lambda item: item[key_name], reverse=descending)
        if after is not None:
            value, last_id = after
            ordered = [item for item in ordered
                       if (item[key_name] < value if descending else item[key_name] > value)
                       or (item[key_name] == value and item[self.id_key] > last_id)]
        page = ordered[:limit + 1]
        return page, [(item[key_name], item[self.id_key]) for item in page[:limit]]

    # --- cursor ------------------------------------------------------------------------
    def _encode(self, sort_spec: str, key: tuple) -> str:
        return _cursor_serializer().dumps([self.name, sort_spec, key[0], key[1]])

    def _decode(self, cursor: str | None, sort_spec: str):
        if not cursor:
            return None
        try:
            name, cursor_sort, value, last_id = _cursor_serializer().loads(cursor)
        except (BadData, ValueError, TypeError):
            raise ApiError(400, "invalid_cursor", "The cursor is not one this list gave out.",
                           {"cursor": ["Pass back next_cursor unchanged."]}) from None
        if name != self.name:
            raise ApiError(400, "invalid_cursor", "The cursor belongs to another list.",
                           {"cursor": [f"Use a next_cursor of the {self.name} list."]})
        if cursor_sort != sort_spec:
            raise ApiError(400, "invalid_cursor", "The cursor belongs to another sort order.",
                           {"cursor": ["Keep the same sort while paging."]})
        if not (isinstance(last_id, str) and _is_sort_key(value)):
            # Signed, yet not what _encode writes: a leaked or default key was used to forge
            # it. Never let such a value reach the database as a comparison.
            raise ApiError(400, "invalid_cursor", "The cursor is not one this list gave out.",
                           {"cursor": ["Pass back next_cursor unchanged."]})
        return value, last_id

    # --- CSV ---------------------------------------------------------------------------
    def _csv(self, *, args, query, items, decorate):
        """A streamed answer: the header line, then the rows CSV_CHUNK at a time as the
        query yields them, so an export of any size never sits whole in memory (and is
        compressed chunk by chunk, fieldsales/wire.py). The request's context, and so its
        database session, lives until the last chunk is sent."""
        schema = self.item_schema()
        columns = _columns(schema)
        chunks = self._all_rows(args=args, query=query, items=items)
        # The first chunk now, inside the request: a bad sort or a query the database
        # refuses is still an error answer, not a 200 cut short.
        first = next(chunks, None)
        if first is not None:
            chunks = itertools.chain([first], chunks)

        def lines():
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\r\n")
            writer.writerow(columns)
            for chunk in chunks:
                rows = decorate(chunk) if decorate is not None else chunk
                for item in schema.dump(rows, many=True):
                    flat = _flatten(item)
                    writer.writerow([csv_cell(flat.get(column)) for column in columns])
                yield out.getvalue()
                out.seek(0)
                out.truncate()
            yield out.getvalue()

        return Response(stream_with_context(lines()), mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="{self.name}.csv"'})

    # --- XLSX --------------------------------------------------------------------------
    def _xlsx(self, *, args, query, items, decorate):
        """The workbook, written row by row (openpyxl's write-only mode keeps each row on
        disk, not in memory) into a temporary file, then streamed from it. Built before the
        answer starts, so any error is still an error answer."""
        schema = self.item_schema()
        columns = _columns(schema)
        kinds = _cell_kinds(schema)
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(title=self.name[:31])
        sheet.append([_xlsx_cell(sheet, column, "text") for column in columns])
        for chunk in self._all_rows(args=args, query=query, items=items):
            rows = decorate(chunk) if decorate is not None else chunk
            for item in schema.dump(rows, many=True):
                flat = _flatten(item)
                sheet.append([_xlsx_cell(sheet, flat.get(column), kinds.get(column, "text"))
                              for column in columns])
        # Closed by the last chunk of the stream (or by the garbage collector if the client
        # goes away); a temporary file is removed when closed.
        spool = tempfile.TemporaryFile()  # noqa: SIM115
        workbook.save(spool)
        spool.seek(0)

        def chunks():
            with spool:
                while block := spool.read(FILE_CHUNK):
                    yield block

        return Response(chunks(), mimetype=XLSX_MIMETYPE, headers={
            "Content-Disposition": f'attachment; filename="{self.name}.xlsx"'})

    def _all_rows(self, *, args, query, items):
        """Every matching row in list order, in chunks: one ordered query, not a page walk
        (each page of a list over an aggregate would redo the aggregate)."""
        sort_name, descending = _parse_sort(args.get("sort"), self.sorts)
        if query is not None:
            result = db.session.execute(self._ordered(query, args, sort_name, descending, None))
            for partition in result.partitions(CSV_CHUNK):
                yield self._unpack(partition)[0]
            return
        rows, _keys = self._items_page(items or [], args, sort_name, descending, None,
                                       len(items or []))
        for start in range(0, len(rows), CSV_CHUNK):
            yield rows[start:start + CSV_CHUNK]


@dataclass
class NewestFirst:
    """How an operators' log pages: newest first, keyset on an integer id; `filters` as a
    `Listing`'s (argument name -> function of the value returning a WHERE clause)."""

    id_column: Any
    filters: dict[str, Callable[[Any], Any]] = field(default_factory=dict)

    def page(self, *, args: dict, query: Select) -> dict:
        """`{"items", "next_cursor"}`: pass `next_cursor` back as `cursor` (`NewestFirstArgs`)."""
        query = _filtered(query, self.filters, args)
        if args.get("cursor") is not None:
            query = query.where(self.id_column < args["cursor"])
        limit = args["limit"]
        rows = list(db.session.scalars(query.order_by(self.id_column.desc()).limit(limit + 1)))
        more = len(rows) > limit
        rows = rows[:limit]
        return {"items": rows,
                "next_cursor": getattr(rows[-1], self.id_column.key) if more else None}


def _filtered(query: Select, filters: dict, args: dict) -> Select:
    for name, make_clause in filters.items():
        if args.get(name) is not None:
            query = query.where(make_clause(args[name]))
    return query


def csv_cell(value) -> str:
    """A CSV cell that a spreadsheet shows as text, never runs as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        return str(value)  # a number, negative or not, is no formula
    if isinstance(value, (list, dict)):
        text = json.dumps(value, separators=(",", ":"))
    else:
        text = str(value)
    # A spreadsheet trims leading blanks (spaces, tabs, line breaks) before it looks for one.
    if text.startswith(FORMULA_PREFIXES) or text.lstrip().startswith(FORMULA_PREFIXES):
        text = "'" + text
    return text


def _cell_kinds(schema: ma.Schema, prefix: str = "") -> dict[str, str]:
    """The columns whose XLSX cell is typed beyond what the value says: `time` (epoch ms,
    an integer field named `*_at`) and `day` (a Date field, or text documented as a date)."""
    kinds = {}
    for name, schema_field in schema.dump_fields.items():
        key = f"{prefix}{schema_field.data_key or name}"
        if isinstance(schema_field, ma.fields.Nested) and not schema_field.many:
            kinds.update(_cell_kinds(schema_field.schema, f"{key}."))
        elif isinstance(schema_field, ma.fields.Integer) and key.endswith("_at"):
            kinds[key] = "time"
        elif (isinstance(schema_field, ma.fields.Date)
              or schema_field.metadata.get("format") == "date"):
            kinds[key] = "day"
    return kinds


def _xlsx_cell(sheet, value, kind: str) -> Cell | None:
    """A typed cell: numbers, booleans, UTC date-times, days; any text a string cell that
    never runs as a formula."""
    if value is None:
        return None
    if isinstance(value, bool) or (isinstance(value, (int, float, Decimal)) and kind != "time"):
        return WriteOnlyCell(sheet, value=float(value) if isinstance(value, Decimal) else value)
    if kind == "time" and isinstance(value, int):
        cell = WriteOnlyCell(sheet, value=_EPOCH + datetime.timedelta(milliseconds=value))
        cell.number_format = XLSX_TIME_FORMAT
        return cell
    if kind == "day" and isinstance(value, str):
        try:
            day = datetime.date.fromisoformat(value)
        except ValueError:
            pass
        else:
            cell = WriteOnlyCell(sheet, value=datetime.datetime.combine(day, datetime.time()))
            cell.number_format = XLSX_DAY_FORMAT
            return cell
    if isinstance(value, (list, dict)):
        text = json.dumps(value, separators=(",", ":"))
    else:
        text = str(value)
    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", text))
    cell.data_type = "s"  # a text starting with "=" stays text, never a formula
    return cell


def _columns(schema: ma.Schema, prefix: str = "") -> list[str]:
    columns = []
    for name, schema_field in schema.dump_fields.items():
        key = schema_field.data_key or name
        if isinstance(schema_field, ma.fields.Nested) and not schema_field.many:
            columns += _columns(schema_field.schema, f"{prefix}{key}.")
        else:
            columns.append(f"{prefix}{key}")
    return columns


def _flatten(item: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in item.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _parse_sort(sort: str | None, sorts: dict) -> tuple[str, bool]:
    name = (sort or next(iter(sorts))).lstrip("-")
    if name not in sorts:
        raise ApiError(422, "validation_error", f"Cannot sort by '{name}'.",
                       {"sort": [f"One of: {', '.join(sorts)}."]})
    return name, bool(sort and sort.startswith("-"))


def _jsonable(value):
    return float(value) if isinstance(value, Decimal) else value


def _is_sort_key(value) -> bool:
    """A value `_encode` writes: null, text, or a number a 64-bit column can hold."""
    if value is None or isinstance(value, (str, bool)):
        return True
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    return isinstance(value, float) and math.isfinite(value)


def _cursor_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="fieldsales.list-cursor")
