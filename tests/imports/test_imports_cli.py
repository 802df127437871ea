"""`flask import KIND FILE [--dry-run]`: the API's imports from a file on the server."""
import json

from fieldsales.customers.models import Customer
from fieldsales.products.models import Product
from tests.imports.test_imports_api import PRODUCT_ROWS, as_csv, as_xlsx


def invoke(app, *args):
    return app.test_cli_runner().invoke(args=["import", *map(str, args)])


def test_a_dry_run_from_the_cli_reports_and_writes_nothing(app, world, tmp_path):
    path = tmp_path / "erp.csv"
    path.write_text(as_csv(PRODUCT_ROWS))
    result = invoke(app, "products", path, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Would import 2 products rows: 2 created, 0 updated, 0 unchanged." in result.output
    assert "rows checked" not in result.stderr  # progress only on long runs
    assert world.rows(Product) == []


def test_the_cli_imports_an_xlsx_then_the_same_file_changes_nothing(app, world, tmp_path):
    path = tmp_path / "erp.xlsx"
    path.write_bytes(as_xlsx(PRODUCT_ROWS))
    assert "2 created" in invoke(app, "products", path).output
    assert {p.sku for p in world.rows(Product)} == {"SOAP-1", "OIL-5"}
    assert "2 unchanged" in invoke(app, "products", path).output


def test_the_cli_names_each_bad_line_and_imports_nothing(app, world, tmp_path):
    path = tmp_path / "erp.json"
    path.write_text(json.dumps({"rows": [PRODUCT_ROWS[0], {"sku": "X", "name": "No price"}]}))
    result = invoke(app, "products", path)
    assert result.exit_code == 1
    assert "line 2: unit_price: Missing data for required field." in result.stderr
    assert "nothing was imported" in result.stderr
    assert world.rows(Product) == []


def test_the_cli_acts_with_the_scope_of_the_user_named(app, team, world, tmp_path):
    path = tmp_path / "crm.csv"
    path.write_text(as_csv([{"external_id": "C1", "name": "Shop", "latitude": 1, "longitude": 2,
                             "assigned_rep_email": team.other_rep.email}]))
    refused = invoke(app, "customers", path, "--as", team.manager.email)
    assert refused.exit_code == 1 and "assigned_rep_email" in refused.stderr
    assert invoke(app, "customers", path).exit_code == 0  # the operator: admin's scope
    assert world.one(Customer, Customer.external_id == "C1").team_id == team.other_rep.team_id
    assert invoke(app, "products", path, "--as", team.manager.email).exit_code == 1


def test_a_long_cli_import_shows_its_progress(app, world, tmp_path):
    path = tmp_path / "big.csv"
    path.write_text(as_csv([{"sku": f"S{n}", "name": f"P{n}", "unit_price": 1}
                            for n in range(10_000)]))
    result = invoke(app, "products", path)
    assert result.exit_code == 0 and "10,000 rows checked" in result.stderr
    assert len(world.rows(Product)) == 10_000
