"""What every list promises (README, "Lists"), checked the same way on each of them: a walk
over the pages loses and repeats nothing in the order asked for, and the CSV and XLSX
exports hold exactly the rows of the JSON pages."""
import csv
import datetime
import io
from itertools import pairwise

import openpyxl

from fieldsales.listing import XLSX_MIMETYPE, csv_cell


def walk(client, url, *, headers, limit=3, **params) -> list[dict]:
    """Every item of a list, page by page, passing `next_cursor` back until it is null."""
    items, cursor = [], None
    while True:
        query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        page = client.get(url, query_string=query, headers=headers)
        assert page.status_code == 200, page.json
        assert len(page.json["items"]) <= limit
        items += page.json["items"]
        cursor = page.json["next_cursor"]
        if cursor is None:
            return items


def assert_walk_in_order(items: list[dict], *, ids, sort: str, key) -> None:
    """Each of `ids` exactly once, ordered by `key(item)` as `sort` says, ties on the id."""
    seen = [item["id"] for item in items]
    assert len(seen) == len(set(seen)), "a row was repeated"
    assert set(seen) == set(ids), "a row was lost, or one came that should not"
    values = [key(item) for item in items]
    assert values == sorted(values, reverse=sort.startswith("-")), values
    for (v1, id1), (v2, id2) in pairwise(zip(values, seen, strict=True)):
        if v1 == v2:
            assert id1 < id2, "ties break on the id"


def csv_rows(response) -> list[dict]:
    assert response.status_code == 200 and response.mimetype == "text/csv", response.data
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def xlsx_sheet(response):
    """The one sheet of an XLSX answer, read back by openpyxl."""
    assert response.status_code == 200 and response.mimetype == XLSX_MIMETYPE, response.data
    workbook = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    assert len(workbook.worksheets) == 1
    return workbook.worksheets[0]


def xlsx_rows(response) -> list[dict]:
    """The rows of an XLSX answer as dicts of typed values (None for an empty cell)."""
    header, *rows = xlsx_sheet(response).iter_rows(values_only=True)
    return [dict(zip(header, row, strict=True)) for row in rows]


def xlsx_value(name: str, value):
    """What an XLSX export holds for one JSON value: an epoch-ms `*_at` as a UTC date-time,
    text exactly as it is (no formula guard prefix: the cell is a string), a list or object
    as its JSON text, anything else as it is."""
    if name.endswith("_at") and isinstance(value, int) and not isinstance(value, bool):
        return datetime.datetime(1970, 1, 1) + datetime.timedelta(milliseconds=value)
    if isinstance(value, (list, dict)):
        return csv_cell(value)
    return value


def assert_csv_is_the_json(client, url, *, headers, **params) -> list[dict]:
    """`format=csv` and `Accept: text/csv` both export the rows of the JSON walk with the same
    filters, in the same order, and so do `format=xlsx` and its Accept type (typed cells);
    returns those JSON items."""
    items = walk(client, url, headers=headers, **params)
    by_format = client.get(url, query_string={**params, "format": "csv"}, headers=headers)
    by_accept = client.get(url, query_string=params, headers={**headers, "Accept": "text/csv"})
    expected = [{name: csv_cell(value) for name, value in item.items()} for item in items]
    assert csv_rows(by_format) == expected
    assert csv_rows(by_accept) == expected
    as_xlsx = client.get(url, query_string={**params, "format": "xlsx"}, headers=headers)
    xlsx_by_accept = client.get(url, query_string=params,
                                headers={**headers, "Accept": XLSX_MIMETYPE})
    typed = [{name: xlsx_value(name, value) for name, value in item.items()} for item in items]
    assert xlsx_rows(as_xlsx) == typed
    assert xlsx_rows(xlsx_by_accept) == typed
    return items


def assert_unknown_sort_is_422(client, url, *, headers, field: str) -> None:
    response = client.get(url, query_string={"sort": field}, headers=headers)
    assert response.status_code == 422 and "sort" in response.json["error"]["details"]
