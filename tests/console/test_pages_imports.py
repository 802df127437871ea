"""The imports page: a CSV or XLSX file through the same service as POST /imports/<kind>
(all or nothing, a dry run), its report as the API answers it, and the recent runs."""
import io

from openpyxl import Workbook

from tests.factories import uid


def _file(text: str, name: str = "rows.csv"):
    return (io.BytesIO(text.encode()), name)


def _products(client, team):
    items = client.get("/api/v1/products", headers=team.headers["admin"],
                       query_string={"limit": 200}).json["items"]
    return {item["sku"]: item for item in items}


def test_a_dry_run_reports_and_writes_nothing_then_the_import_applies(client, visitor, team):
    admin = visitor(team.admin)
    sku = uid("SKU")
    csv = f"sku,name,unit_price,stock_on_hand\n{sku},Olive oil 1l,7.5,40\n"
    dry = admin.post("/imports", {"kind": "products", "dry_run": "true", "file": _file(csv)},
                     form_on="/imports")
    assert dry.status_code == 200, dry.text
    assert "Dry run: nothing written" in dry.text and "<strong>1</strong> created" in dry.text
    assert sku not in _products(client, team)
    done = admin.post("/imports", {"kind": "products", "file": _file(csv)}, form_on="/imports")
    assert done.status_code == 200 and "Imported" in done.text
    assert _products(client, team)[sku]["stock_on_hand"] == 40
    # The applied run is in the list, with what it did.
    assert "applied: 1 created, 0 updated, 0 unchanged" in admin.get("/imports").text


def test_an_xlsx_file_imports_as_a_csv_does(client, visitor, team):
    book = Workbook()
    sheet = book.active
    sku = uid("SKU")
    sheet.append(["sku", "name", "unit_price"])
    sheet.append([sku, "Rice 5kg", 12.25])
    data = io.BytesIO()
    book.save(data)
    data.seek(0)
    response = visitor(team.procurement).post(
        "/imports", {"kind": "products", "file": (data, "stock.xlsx")}, form_on="/imports")
    assert response.status_code == 200, response.text
    assert _products(client, team)[sku]["unit_price"] == 12.25


def test_invalid_rows_are_listed_by_line_and_nothing_is_imported(client, visitor, team):
    good, bad = uid("SKU"), uid("SKU")
    csv = f"sku,name,unit_price\n{good},Fine,1.0\n{bad},Broken,lots\n"
    response = visitor(team.admin).post("/imports", {"kind": "products", "file": _file(csv)},
                                        form_on="/imports")
    assert response.status_code == 422
    assert "Nothing was imported" in response.text
    assert "1 of 2 rows are invalid (lines 3)" in response.text
    assert '<td class="num" data-label="Line">3</td><td data-label="Field">unit_price</td>' in (
        response.text)
    assert good not in _products(client, team)


def test_bad_input_is_shown_next_to_its_field(visitor, team):
    admin = visitor(team.admin)
    missing = admin.post("/imports", {"kind": "products"}, form_on="/imports")
    assert missing.status_code == 422 and 'id="file-error"' in missing.text
    assert "Choose a .csv or .xlsx file." in missing.text
    wrong = admin.post("/imports", {"kind": "products", "file": _file("x", "notes.txt")},
                       form_on="/imports")
    assert wrong.status_code == 422 and "Only .csv and .xlsx files" in wrong.text
    garbage = admin.post("/imports", {"kind": "products", "file": _file("not a zip", "a.xlsx")},
                         form_on="/imports")
    assert garbage.status_code == 422 and 'id="file-error"' in garbage.text
    assert garbage.text.count("class=\"error\" id=\"file-error\"") == 1
    # The kind kept what was chosen.
    assert '<option value="products" selected>' in garbage.text


def test_each_role_imports_only_the_kinds_its_api_allows(visitor, team):
    manager, procurement = visitor(team.manager), visitor(team.procurement)
    page = manager.get("/imports").text
    assert '<option value="customers"' in page and '<option value="products"' not in page
    refused = manager.post("/imports", {"kind": "products", "file": _file("sku\nA\n")},
                           form_on="/imports")
    assert refused.status_code == 422 and 'id="kind-error"' in refused.text
    assert "Choose one of: customers." in refused.text
    page = procurement.get("/imports").text
    assert '<option value="deliveries"' in page and '<option value="customers"' not in page


def test_a_post_without_the_token_is_refused(visitor, team):
    response = visitor(team.admin).post("/imports", {"kind": "products",
                                                     "file": _file("sku\n")}, csrf=False)
    assert response.status_code == 400
