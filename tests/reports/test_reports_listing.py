"""The one list behaviour: keyset pages, allow-listed sorts, clear cursor errors, safe CSV
and typed, safe XLSX."""
import base64
import datetime
import io
import itertools
import json
import zipfile

import pytest

from fieldsales.listing import csv_cell
from fieldsales.targets.models import Target
from tests.factories import at
from tests.list_checks import xlsx_rows, xlsx_sheet

DAYS = (f"2024-01-{day:02d}" for day in itertools.count(1))


@pytest.fixture
def add_target(world, team):
    days = (f"2024-{month:02d}-{day:02d}" for month in range(1, 13) for day in range(1, 29))

    def add(goal):
        day = next(days)
        return world.add(Target, team_id=team.manager.team_id, metric="visits", period="day",
                         period_start=at(day), period_end=at(day) + 86_400_000, goal=goal)

    return add


@pytest.mark.parametrize("sort", ["goal", "-goal", "period_start", "-created_at"])
def test_a_walk_loses_and_repeats_nothing_while_rows_are_added(client, team, add_target, sort):
    original = {add_target(goal) for goal in [3, 1, 2, 3, 3, 5, 4, 1, 2, 2, 5, 4, 3, 1]}
    seen, keys, cursor = [], [], None
    field = sort.lstrip("-")
    while True:
        query = {"sort": sort, "limit": 4, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/targets", query_string=query, headers=team.headers["manager"])
        assert page.status_code == 200, page.json
        seen += [item["id"] for item in page.json["items"]]
        keys += [(item[field] if field != "period_start" else item["starts_at"], item["id"])
                 for item in page.json["items"]]
        # Rows arrive meanwhile, sorting both before and after the cursor.
        add_target(0.5)
        add_target(9)
        cursor = page.json["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)), "a row was repeated"
    assert original <= set(seen), "a row was lost"
    values = [key[0] for key in keys]
    assert values == sorted(values, reverse=sort.startswith("-"))
    for (v1, id1), (v2, id2) in itertools.pairwise(keys):
        if v1 == v2:
            assert id1 < id2, "ties break on the id"


def test_cursors_belong_to_one_list_and_one_sort(client, team, add_target):
    for goal in range(5):
        add_target(goal + 1)
    page = client.get("/api/v1/targets?sort=goal&limit=2", headers=team.headers["manager"]).json
    other_sort = client.get(f"/api/v1/targets?sort=-goal&cursor={page['next_cursor']}",
                            headers=team.headers["manager"])
    assert other_sort.status_code == 400
    assert other_sort.json["error"]["code"] == "invalid_cursor"
    garbage = client.get("/api/v1/targets?cursor=not-a-cursor!!", headers=team.headers["manager"])
    assert garbage.status_code == 400 and garbage.json["error"]["code"] == "invalid_cursor"
    elsewhere = client.get(f"/api/v1/backlog?cursor={page['next_cursor']}",
                           headers=team.headers["manager"])
    assert elsewhere.status_code == 400 and "another list" in elsewhere.json["error"]["message"]


@pytest.mark.parametrize("value, last_id", [
    ("abc", "x"), (None, "x"), ([1, 2], "x"), ({"a": 1}, "x"), (10 ** 30, "x"), (1, [1]),
])
def test_a_cursor_made_by_hand_is_refused_whatever_it_holds(client, team, add_target, value,
                                                           last_id):
    add_target(1)
    forged = base64.urlsafe_b64encode(
        json.dumps(["targets", "-goal", value, last_id]).encode()).decode().rstrip("=")
    response = client.get("/api/v1/targets", query_string={"sort": "-goal", "cursor": forged},
                          headers=team.headers["manager"])
    assert response.status_code == 400 and response.json["error"]["code"] == "invalid_cursor"


def test_only_allow_listed_fields_sort(client, team):
    response = client.get("/api/v1/targets?sort=team_id", headers=team.headers["manager"])
    assert response.status_code == 422
    assert "sort" in response.json["error"]["details"]
    unknown = client.get("/api/v1/targets?colour=red", headers=team.headers["manager"])
    assert unknown.status_code == 422


@pytest.mark.parametrize("raw, cell", [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
    ("+1 555", "'+1 555"),
    ("-2", "'-2"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"),
    ("\rx", "'\rx"),
    ("Plain name", "Plain name"),
    (None, ""),
    (True, "true"),
    (2.5, "2.5"),
    (-2.5, "-2.5"),  # a number is no formula: it stays a number in the spreadsheet
    (-3, "-3"),
    ({"a": 1}, '{"a":1}'),
])
def test_csv_cells_never_run_as_formulas(raw, cell):
    assert csv_cell(raw) == cell


def test_an_explicit_format_wins_over_the_accept_header(client, team, add_target):
    add_target(1)
    headers = {**team.headers["manager"], "Accept": "text/csv"}
    as_json = client.get("/api/v1/targets?format=json", headers=headers)
    assert as_json.mimetype == "application/json" and len(as_json.json["items"]) == 1
    assert client.get("/api/v1/targets", headers=headers).mimetype == "text/csv"


@pytest.mark.parametrize("value, last_id", [
    ({"x": 1}, "x"), ([1, 2], "x"), (10 ** 30, "x"), (1, [1]), (1, 10 ** 30), (1, None),
])
def test_a_cursor_signed_with_the_key_but_holding_odd_values_is_refused(
        app, client, team, add_target, value, last_id):
    """A forger who knows the key (a default or leaked one) still gets 400, never a 500."""
    from itsdangerous import URLSafeSerializer

    add_target(1)
    forged = URLSafeSerializer(app.config["SECRET_KEY"], salt="fieldsales.list-cursor").dumps(
        ["targets", "-goal", value, last_id])
    response = client.get("/api/v1/targets", query_string={"sort": "-goal", "cursor": forged},
                          headers=team.headers["manager"])
    assert response.status_code == 400 and response.json["error"]["code"] == "invalid_cursor"


# --- XLSX -------------------------------------------------------------------------------------

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_an_xlsx_export_has_typed_cells_numbers_utc_times_and_days(client, team, add_target):
    target = add_target(2.5)
    sheet = xlsx_sheet(client.get("/api/v1/targets?format=xlsx", headers=team.headers["manager"]))
    header, row = list(sheet.iter_rows())
    cells = {name.value: cell for name, cell in zip(header, row, strict=True)}
    assert cells["goal"].value == 2.5 and cells["goal"].data_type == "n"
    assert cells["actual"].data_type == "n"
    # An epoch-ms time is an Excel date-time in UTC; a documented day is an Excel date.
    starts = cells["starts_at"]
    assert starts.is_date and starts.value == datetime.datetime(2024, 1, 1)
    assert starts.number_format == "yyyy-mm-dd hh:mm:ss.000"
    assert cells["period_start"].is_date and cells["period_start"].value.date() == \
        datetime.date(2024, 1, 1)
    assert cells["id"].value == target and cells["id"].data_type == "s"
    assert cells["rep_id"].value is None  # a team-wide target: an empty cell, not "None"


def test_an_xlsx_export_holds_only_the_callers_scope(client, team, world):
    mine = world.customer(rep=team.rep, name="Mine")
    world.customer(rep=team.other_rep, name="Another team's")
    rows = xlsx_rows(client.get("/api/v1/customers?format=xlsx",
                                headers=team.headers["manager"]))
    assert [row["id"] for row in rows] == [mine]
    everyone = xlsx_rows(client.get("/api/v1/customers?format=xlsx",
                                    headers=team.headers["admin"]))
    assert len(everyone) == 2


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)",
                                  " =1+1", "\t=1"])
def test_xlsx_text_is_a_string_cell_never_a_formula(client, team, world, text):
    world.customer(rep=team.rep, name=text)
    response = client.get("/api/v1/customers?format=xlsx", headers=team.headers["manager"])
    header, row = list(xlsx_sheet(response).iter_rows())
    cell = row[[c.value for c in header].index("name")]
    assert cell.data_type == "s" and cell.value == text
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as book:
        sheet_xml = book.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml  # no formula anywhere


def test_xlsx_drops_characters_a_workbook_cannot_hold(client, team, world):
    world.customer(rep=team.rep, name="Bell\x07 and\x1b escape")
    rows = xlsx_rows(client.get("/api/v1/customers?format=xlsx",
                                headers=team.headers["manager"]))
    assert rows[0]["name"] == "Bell and escape"


def test_an_xlsx_export_beyond_one_chunk_holds_every_row_in_list_order(app, client, team):
    from fieldsales.extensions import db
    from fieldsales.listing import CSV_CHUNK
    from fieldsales.products.models import Product

    count = CSV_CHUNK * 2 + 7
    with app.app_context():
        db.session.execute(Product.__table__.insert(), [
            {"id": f"p{n:05d}", "sku": f"S{n:05d}", "name": f"Product {n}", "unit": "each",
             "unit_price": n / 4, "stock_on_hand": n, "lead_time_days": 7, "created_seq": 0,
             "changed_seq": 0, "received_at": 0} for n in range(count)])
        db.session.commit()
    response = client.get("/api/v1/products", query_string={"sort": "-unit_price"},
                          headers={**team.headers["admin"], "Accept": XLSX})
    assert response.headers["Content-Disposition"] == 'attachment; filename="products.xlsx"'
    rows = xlsx_rows(response)
    assert len(rows) == count
    assert [row["unit_price"] for row in rows] == sorted((n / 4 for n in range(count)),
                                                         reverse=True)
    assert rows[0]["stock_on_hand"] == count - 1


def test_a_bad_sort_in_an_xlsx_export_is_an_error_answer(client, team):
    response = client.get("/api/v1/targets?format=xlsx&sort=nope",
                          headers=team.headers["manager"])
    assert response.status_code == 422 and "sort" in response.json["error"]["details"]
