"""Imports through the API: products, customers and deliveries as JSON batches, CSV and XLSX
files; idempotent, all or nothing, with a dry run and row errors by line."""
import csv
import io

import openpyxl
import pytest

from fieldsales.customers.models import Customer
from fieldsales.imports.models import ImportRun
from fieldsales.orders.models import Delivery, Order
from fieldsales.products.models import Product
from fieldsales.scoring.models import ProductDemand
from tests.factories import at

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PRODUCTS = "/api/v1/imports/products"
CUSTOMERS = "/api/v1/imports/customers"
DELIVERIES = "/api/v1/imports/deliveries"
PRODUCT_ROWS = [
    {"sku": "SOAP-1", "name": "Soap", "unit_price": 2.5, "stock_on_hand": 40, "lead_time_days": 3},
    {"sku": "OIL-5", "name": "Olive oil 5 l", "unit": "can", "unit_price": 31.9},
]


def as_csv(rows: list[dict]) -> str:
    columns = list(dict.fromkeys(name for row in rows for name in row))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    writer.writerows([row.get(name, "") for name in columns] for row in rows)
    return out.getvalue()


def as_xlsx(rows: list[dict]) -> bytes:
    columns = list(dict.fromkeys(name for row in rows for name in row))
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(columns)
    for row in rows:
        sheet.append([row.get(name) for name in columns])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def send(client, url, rows, *, how="json", headers, key=None, **query):
    headers = {**headers, **({"Idempotency-Key": key} if key else {})}
    if how == "json":
        return client.post(url, json={"rows": rows}, headers=headers, query_string=query)
    if how == "csv":
        return client.post(url, data=as_csv(rows), content_type="text/csv", headers=headers,
                           query_string=query)
    if how == "xlsx":
        return client.post(url, data=as_xlsx(rows), content_type=XLSX, headers=headers,
                           query_string=query)
    upload = (io.BytesIO(as_csv(rows).encode()), "products.csv") if how == "upload-csv" else (
        io.BytesIO(as_xlsx(rows)), "products.xlsx")
    return client.post(url, data={"file": upload}, content_type="multipart/form-data",
                       headers=headers, query_string=query)


def products(world) -> dict:
    return {p.sku: {k: getattr(p, k) for k in ("name", "unit", "unit_price", "stock_on_hand",
                                                 "lead_time_days")}
            for p in world.rows(Product)}


# --- products -----------------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["json", "csv", "xlsx", "upload-csv", "upload-xlsx"])
def test_products_are_upserted_by_sku_alike_from_json_csv_and_xlsx(client, team, world, how):
    world.product(sku="SOAP-1", name="Old soap", price=2.0, stock=5)
    response = send(client, PRODUCTS, PRODUCT_ROWS, how=how, headers=team.headers["procurement"])
    assert response.status_code == 200, response.json
    assert response.json | {"lines": None} == {
        "kind": "products", "dry_run": False, "applied": True, "rows": 2, "created": 1,
        "updated": 1, "unchanged": 0, "deliveries": 0, "lines": None, "lines_omitted": 0}
    first = 1 if how == "json" else 2  # a file's header is line 1; a batch counts from 1
    assert response.json["lines"] == [{"line": first, "key": "SOAP-1", "action": "updated"},
                                      {"line": first + 1, "key": "OIL-5", "action": "created"}]
    assert products(world) == {
        "SOAP-1": {"name": "Soap", "unit": "each", "unit_price": 2.5, "stock_on_hand": 40,
                   "lead_time_days": 3},
        "OIL-5": {"name": "Olive oil 5 l", "unit": "can", "unit_price": 31.9,
                  "stock_on_hand": 0, "lead_time_days": 7}}


def test_a_row_that_changes_nothing_is_unchanged_and_not_restamped(client, team, world):
    world.product(sku="SOAP-1", name="Soap", price=2.5, stock=40, lead_time_days=3)
    before = world.one(Product, Product.sku == "SOAP-1").changed_seq
    response = send(client, PRODUCTS, PRODUCT_ROWS[:1], headers=team.headers["admin"])
    assert response.json["unchanged"] == 1 and response.json["lines"][0]["action"] == "unchanged"
    assert world.one(Product, Product.sku == "SOAP-1").changed_seq == before


def test_a_dry_run_reports_what_would_change_and_changes_nothing(client, team, world):
    world.product(sku="SOAP-1", name="Old soap", price=2.0, stock=5)
    before = products(world)
    response = send(client, PRODUCTS, PRODUCT_ROWS, how="csv", headers=team.headers["admin"],
                    dry_run="true")
    assert response.status_code == 200
    assert (response.json["dry_run"], response.json["applied"]) == (True, False)
    assert (response.json["created"], response.json["updated"]) == (1, 1)
    assert products(world) == before


@pytest.mark.parametrize("how", ["json", "csv", "xlsx"])
def test_invalid_rows_are_reported_by_line_and_nothing_is_applied(client, team, world, how):
    world.product(sku="SOAP-1", name="Old soap", price=2.0, stock=5)
    before = products(world)
    rows = [PRODUCT_ROWS[0], {"sku": "NEW-1", "name": "No price"},
            {"sku": "NEW-2", "name": "Bad", "unit_price": "cheap"}, PRODUCT_ROWS[1],
            {"sku": "NEW-3", "name": "Negative", "unit_price": 1, "stock_on_hand": -4}]
    response = send(client, PRODUCTS, rows, how=how, headers=team.headers["admin"])
    assert response.status_code == 422 and response.json["error"]["code"] == "invalid_rows"
    errors = response.json["error"]["details"]["rows"]
    first = 1 if how == "json" else 2  # a file's header is line 1
    assert set(errors) == {str(first + 1), str(first + 2), str(first + 4)}
    assert "unit_price" in errors[str(first + 1)] and "unit_price" in errors[str(first + 2)]
    assert "stock_on_hand" in errors[str(first + 4)]
    assert "nothing was imported" in response.json["error"]["message"]
    assert products(world) == before


def test_stock_from_the_erp_reaches_the_demand_job_at_its_next_run(client, team, world):
    world.product(sku="SOAP-1", name="Soap", price=2.5, stock=5)
    send(client, PRODUCTS, [{"sku": "SOAP-1", "stock_on_hand": 123}],
         headers=team.headers["procurement"])
    world.run("demand", now=at("2026-11-30", 12))
    demand = world.one(ProductDemand, ProductDemand.is_latest.is_(True))
    assert demand.stock_on_hand == 123


def test_a_repeated_sku_later_in_the_file_updates_what_the_earlier_row_wrote(client, team,
                                                                           world):
    rows = [{"sku": "A", "name": "First", "unit_price": 1}, {"sku": "A", "unit_price": 2}]
    response = send(client, PRODUCTS, rows, how="csv", headers=team.headers["admin"])
    assert [line["action"] for line in response.json["lines"]] == ["created", "updated"]
    assert products(world)["A"]["unit_price"] == 2 and products(world)["A"]["name"] == "First"


# --- idempotency --------------------------------------------------------------------------------

def test_the_same_key_and_body_answer_the_first_answer_and_apply_once(client, team, world):
    headers = team.headers["procurement"]
    first = send(client, PRODUCTS, PRODUCT_ROWS, headers=headers, key="erp-2026-12-02")
    again = send(client, PRODUCTS, PRODUCT_ROWS, headers=headers, key="erp-2026-12-02")
    assert again.status_code == 200 and again.get_data() == first.get_data()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert first.json["created"] == 2  # the second answer says so too: nothing ran again
    assert len(world.rows(ImportRun)) == 1


def test_the_same_key_with_another_body_is_422(client, team, world):
    headers = team.headers["admin"]
    send(client, PRODUCTS, PRODUCT_ROWS, headers=headers, key="k-1")
    other = send(client, PRODUCTS, PRODUCT_ROWS[:1], headers=headers, key="k-1")
    assert other.status_code == 422
    assert other.json["error"]["code"] == "idempotency_key_reused"
    assert "Idempotency-Key" in other.json["error"]["details"]
    as_dry_run = send(client, PRODUCTS, PRODUCT_ROWS, headers=headers, key="k-1", dry_run="true")
    assert as_dry_run.status_code == 422  # a dry run is another request


def test_a_refused_import_answers_its_refusal_again_for_the_same_key(client, team, world):
    rows = [{"sku": "X", "name": "No price"}]
    first = send(client, PRODUCTS, rows, headers=team.headers["admin"], key="bad-1")
    again = send(client, PRODUCTS, rows, headers=team.headers["admin"], key="bad-1")
    assert first.status_code == again.status_code == 422 and first.json == again.json
    assert products(world) == {}


def test_keys_belong_to_their_caller(client, team, world):
    send(client, PRODUCTS, PRODUCT_ROWS, headers=team.headers["admin"], key="shared")
    mine = send(client, PRODUCTS, PRODUCT_ROWS, headers=team.headers["procurement"], key="shared")
    assert mine.status_code == 200 and "Idempotent-Replayed" not in mine.headers
    assert mine.json["unchanged"] == 2


def test_a_key_that_is_not_printable_ascii_is_422(client, team):
    response = send(client, PRODUCTS, PRODUCT_ROWS, headers=team.headers["admin"],
                    key="has space")
    assert response.status_code == 422 and "Idempotency-Key" in str(response.json)


# --- bad bodies ---------------------------------------------------------------------------------

def test_bodies_that_are_no_import_are_refused_naming_the_problem(client, team):
    admin = team.headers["admin"]
    assert client.post(PRODUCTS, json={"rows": []}, headers=admin).status_code == 422
    assert client.post(PRODUCTS, json=[1], headers=admin).status_code == 422
    not_xlsx = client.post(PRODUCTS, data=b"PK\x03\x04junk", content_type=XLSX, headers=admin)
    assert not_xlsx.status_code == 422 and "file" in not_xlsx.json["error"]["details"]
    not_utf8 = client.post(PRODUCTS, data=b"sku,name\n\xff\xfe,x\n", content_type="text/csv",
                           headers=admin)
    assert not_utf8.status_code == 422 and "file" in not_utf8.json["error"]["details"]
    empty = client.post(PRODUCTS, data=b"", content_type="text/csv", headers=admin)
    assert empty.status_code == 422
    other = client.post(PRODUCTS, data=b"x", content_type="text/plain", headers=admin)
    assert other.status_code == 415
    no_file = client.post(PRODUCTS, data={"other": "x"}, content_type="multipart/form-data",
                          headers=admin)
    assert no_file.status_code == 422 and "file" in no_file.json["error"]["details"]


def test_an_unknown_column_is_a_row_error_naming_it(client, team, world):
    response = send(client, PRODUCTS, [{"sku": "A", "name": "A", "unit_price": 1, "colour": "red"}],
                    how="csv", headers=team.headers["admin"])
    assert response.json["error"]["details"]["rows"]["2"] == {"colour": ["Unknown field."]}


# --- customers ----------------------------------------------------------------------------------

def crm_rows(team):
    return [{"external_id": "CRM-1", "name": "Mercearia Alfama", "address": "Rua 12, Lisboa",
             "latitude": 38.71, "longitude": -9.13, "segment": "grocery", "kind": "account",
             "assigned_rep_email": team.rep.email},
            {"external_id": "CRM-2", "name": "Cafe Bica", "latitude": 38.72, "longitude": -9.14}]


@pytest.mark.parametrize("how", ["json", "csv", "xlsx"])
def test_customers_from_a_crm_are_upserted_by_external_id(client, team, world, how):
    response = send(client, CUSTOMERS, crm_rows(team), how=how, headers=team.headers["manager"])
    assert response.status_code == 200, response.json
    assert response.json["created"] == 2
    alfama = world.one(Customer, Customer.external_id == "CRM-1")
    assert (alfama.assigned_rep_id, alfama.team_id, alfama.kind, alfama.latitude) == (
        team.rep.id, team.rep.team_id, "account", 38.71)
    bica = world.one(Customer, Customer.external_id == "CRM-2")
    assert (bica.assigned_rep_id, bica.team_id, bica.kind) == (None, team.manager.team_id,
                                                               "prospect")
    moved = send(client, CUSTOMERS, [{"external_id": "CRM-1", "assigned_rep_email":
                                      team.rep2.email, "segment": "cafe"}],
                 how=how, headers=team.headers["manager"])
    assert moved.json["updated"] == 1
    alfama = world.one(Customer, Customer.external_id == "CRM-1")
    assert (alfama.assigned_rep_id, alfama.segment, alfama.name) == (team.rep2.id, "cafe",
                                                                    "Mercearia Alfama")


def test_a_customer_moved_by_an_import_leaves_the_old_reps_phone(client, team, world):
    from tests.factories import Phone
    send(client, CUSTOMERS, crm_rows(team)[:1], headers=team.headers["admin"])
    phone = Phone(client, team.headers["rep"])
    phone.pull(last_pulled_at=None)
    send(client, CUSTOMERS, [{"external_id": "CRM-1", "assigned_rep_email": team.rep2.email}],
         headers=team.headers["admin"])
    customer = world.one(Customer, Customer.external_id == "CRM-1")
    pulled = phone.pull()
    assert customer.id in pulled["changes"]["customers"]["deleted"]


def test_a_manager_imports_only_for_their_own_team(client, team, world):
    send(client, CUSTOMERS, [{"external_id": "THEIRS", "name": "Other team's", "latitude": 1,
                              "longitude": 1}], headers=team.headers["other_manager"])
    rows = [{"external_id": "MINE", "name": "Mine", "latitude": 1, "longitude": 1,
             "assigned_rep_email": team.other_rep.email},
            {"external_id": "THEIRS", "name": "Taken over"}]
    response = send(client, CUSTOMERS, rows, headers=team.headers["manager"])
    assert response.status_code == 422
    errors = response.json["error"]["details"]["rows"]
    assert "assigned_rep_email" in errors["1"] and "external_id" in errors["2"]
    assert world.one(Customer, Customer.external_id == "THEIRS").name == "Other team's"
    assert world.rows(Customer, Customer.external_id == "MINE") == []


def test_roles_outside_an_import_are_refused(client, team):
    assert send(client, CUSTOMERS, crm_rows(team), headers=team.headers["procurement"]) \
        .status_code == 403
    assert send(client, PRODUCTS, PRODUCT_ROWS, headers=team.headers["manager"]).status_code == 403
    assert send(client, DELIVERIES, [], headers=team.headers["rep"]).status_code == 403


# --- deliveries ---------------------------------------------------------------------------------

@pytest.fixture
def open_order(world, team):
    product = world.product(sku="SOAP-1", price=2.0, stock=100)
    customer = world.customer(rep=team.rep)
    order = world.order(rep=team.rep, customer=customer, at=at("2026-11-02", 10),
                        lines=[(product, 10, 2.0), (product, 5, 2.0)])
    return order, [line.id for line in order.lines]


@pytest.mark.parametrize("how", ["json", "csv", "xlsx"])
def test_deliveries_from_a_wms_are_recorded_as_the_delivery_route_records_them(
        client, team, world, open_order, how):
    order, (first, second) = open_order
    rows = [{"order_id": order, "order_line_id": first, "quantity": 4,
             "delivered_at": at("2026-11-03")},
            {"order_id": order, "order_line_id": second, "quantity": 5,
             "delivered_at": at("2026-11-03")},
            {"order_id": order, "order_line_id": first, "quantity": 6,
             "delivered_at": at("2026-11-04")}]
    response = send(client, DELIVERIES, rows, how=how, headers=team.headers["procurement"])
    assert response.status_code == 200, response.json
    assert response.json["deliveries"] == 2
    assert world.one(Order, Order.id == order).status == "delivered"
    assert world.one(Product, Product.sku == "SOAP-1").stock_on_hand == 85
    assert len(world.rows(Delivery)) == 2


def test_an_over_delivery_fails_its_rows_and_nothing_is_delivered(client, team, world,
                                                                  open_order):
    order, (first, second) = open_order
    rows = [{"order_id": order, "order_line_id": second, "quantity": 5},
            {"order_id": order, "order_line_id": first, "quantity": 4, "delivered_at": 1},
            {"order_id": "nosuchorder", "order_line_id": first, "quantity": 1}]
    response = send(client, DELIVERIES, rows, headers=team.headers["admin"])
    assert response.status_code == 422
    errors = response.json["error"]["details"]["rows"]
    assert set(errors) == {"2", "3"} and errors["3"] == {"order_id": ["No such order."]}
    assert world.rows(Delivery) == []
    assert world.one(Product, Product.sku == "SOAP-1").stock_on_hand == 100


def test_json_csv_and_xlsx_of_the_same_rows_report_the_same_changes(client, team, world):
    world.product(sku="SOAP-1", name="Old soap", price=2.0, stock=5)
    answers = {how: send(client, PRODUCTS, PRODUCT_ROWS, how=how, headers=team.headers["admin"],
                         dry_run="true").json for how in ("json", "csv", "xlsx")}
    for answer in answers.values():
        for line in answer["lines"]:
            line.pop("line")
    assert answers["json"] == answers["csv"] == answers["xlsx"]


def test_a_repeated_delivery_import_with_its_key_delivers_once(client, team, world, open_order):
    order, (first, _second) = open_order
    rows = [{"order_id": order, "order_line_id": first, "quantity": 4}]
    answers = [send(client, DELIVERIES, rows, how="csv", headers=team.headers["procurement"],
                    key="wms-batch-77") for _ in range(2)]
    assert answers[0].json == answers[1].json and answers[0].json["deliveries"] == 1
    assert len(world.rows(Delivery)) == 1
    assert world.one(Product, Product.sku == "SOAP-1").stock_on_hand == 96


@pytest.mark.parametrize("format_", ["csv", "xlsx"])
def test_an_export_of_the_products_list_imports_back_unchanged(client, team, world, format_):
    world.product(sku="SOAP-1", name="Soap", price=2.5, stock=40)
    world.product(sku="OIL-5", name="Oil", price=31.9, stock=0)
    admin = team.headers["admin"]
    export = client.get(f"/api/v1/products?format={format_}", headers=admin)
    mimetype = "text/csv" if format_ == "csv" else XLSX
    response = client.post(PRODUCTS, data=export.get_data(), content_type=mimetype, headers=admin)
    assert response.status_code == 200, response.json
    assert response.json["unchanged"] == 2


def test_an_id_that_is_not_the_skus_product_is_a_row_error(client, team, world):
    world.product(sku="SOAP-1", name="Soap", price=2.5)
    other = world.product(sku="OIL-5", name="Oil", price=31.9)
    response = send(client, PRODUCTS, [{"id": other, "sku": "SOAP-1", "unit_price": 3}],
                    headers=team.headers["admin"])
    assert "id" in response.json["error"]["details"]["rows"]["1"]
