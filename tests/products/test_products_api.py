"""Products REST: everyone reads, admins and procurement write; sku unique; prices are numbers;
the list (pages, sorts, CSV)."""
import pytest

from tests.list_checks import (
    assert_csv_is_the_json,
    assert_unknown_sort_is_422,
    assert_walk_in_order,
    walk,
)

URL = "/api/v1/products"


def body(**overrides):
    data = {"sku": "CAF-250", "name": "Cafe Delta 250 g", "unit": "pack", "unit_price": 12.5,
            "stock_on_hand": 40, "lead_time_days": 5}
    data.update(overrides)
    return data


@pytest.fixture
def create(client, team):
    def do(as_="procurement", **overrides):
        response = client.post(URL, json=body(**overrides), headers=team.headers[as_])
        assert response.status_code == 201, response.json
        return response.json
    return do


@pytest.mark.parametrize("role", ["admin", "procurement"])
def test_admin_and_procurement_create(client, team, role):
    response = client.post(URL, json=body(), headers=team.headers[role])
    assert response.status_code == 201
    product = response.json
    assert product["id"] and product["sku"] == "CAF-250" and product["deleted_at"] is None
    # A price is a JSON number, never a string.
    assert product["unit_price"] == 12.5 and isinstance(product["unit_price"], float)
    assert '"unit_price":"' not in response.get_data(as_text=True).replace(" ", "")
    fetched = client.get(f"{URL}/{product['id']}", headers=team.headers["rep"])
    assert fetched.json == product and isinstance(fetched.json["unit_price"], float)


@pytest.mark.parametrize("role", ["manager", "rep"])
def test_managers_and_reps_cannot_write(client, team, create, role):
    product_id = create()["id"]
    assert client.post(URL, json=body(sku="X1"), headers=team.headers[role]).status_code == 403
    assert client.patch(f"{URL}/{product_id}", json={"stock_on_hand": 1},
                        headers=team.headers[role]).status_code == 403
    assert client.delete(f"{URL}/{product_id}", headers=team.headers[role]).status_code == 403


def test_everyone_signed_in_reads(client, team, create):
    product_id = create()["id"]
    for role in team.headers:
        listing = client.get(URL, headers=team.headers[role])
        assert listing.status_code == 200
        assert [p["id"] for p in listing.json["items"]] == [product_id]
        assert client.get(f"{URL}/{product_id}", headers=team.headers[role]).status_code == 200
    assert client.get(URL).status_code == 401
    assert client.get(f"{URL}/{product_id}").status_code == 401
    assert client.post(URL, json=body(sku="NEW")).status_code == 401


def test_defaults_and_cent_rounding(client, team):
    response = client.post(URL, json={"sku": "A", "name": "Agua 1.5 l", "unit_price": 0.456},
                           headers=team.headers["admin"])
    assert response.status_code == 201
    assert response.json["unit"] == "each" and response.json["stock_on_hand"] == 0
    assert response.json["lead_time_days"] == 7 and response.json["unit_price"] == 0.46


def test_duplicate_sku_and_id_are_409(client, team, create):
    product = create(id="prod-1")
    response = client.post(URL, json=body(name="Other"), headers=team.headers["admin"])
    assert response.status_code == 409 and response.json["error"]["code"] == "duplicate_sku"
    assert "sku" in response.json["error"]["details"]
    response = client.post(URL, json=body(sku="OTHER", id="prod-1"), headers=team.headers["admin"])
    assert response.status_code == 409 and response.json["error"]["code"] == "duplicate_id"
    other = create(sku="OTHER")
    response = client.patch(f"{URL}/{other['id']}", json={"sku": product["sku"]},
                            headers=team.headers["procurement"])
    assert response.status_code == 409
    # Keeping one's own sku is not a clash.
    response = client.patch(f"{URL}/{product['id']}", json={"sku": product["sku"]},
                            headers=team.headers["procurement"])
    assert response.status_code == 200


def test_an_sku_taken_after_the_check_looked_is_still_409_not_500(
        client, team, create, monkeypatch):
    """Two concurrent updates to the same sku: the unique index decides, answered as 409."""
    from fieldsales.products import service

    product, other = create(), create(sku="OTHER")
    monkeypatch.setattr(service, "_check_sku_free", lambda sku, product_id=None: None)
    response = client.patch(f"{URL}/{other['id']}", json={"sku": product["sku"], "name": "X"},
                            headers=team.headers["procurement"])
    assert response.status_code == 409 and response.json["error"]["code"] == "duplicate_sku"
    assert "sku" in response.json["error"]["details"]
    unchanged = client.get(f"{URL}/{other['id']}", headers=team.headers["procurement"]).json
    assert (unchanged["sku"], unchanged["name"]) == ("OTHER", other["name"])


def test_a_new_product_refused_by_the_sku_index_answers_as_the_sku_check_does(
        client, team, create, monkeypatch):
    """A create names two unique keys (id and sku): the index's refusal is the one it names."""
    from fieldsales.products import service

    product = create()
    monkeypatch.setattr(service, "_check_sku_free", lambda sku, product_id=None: None)
    response = client.post(URL, json=body(name="Other"), headers=team.headers["admin"])
    assert response.status_code == 409 and response.json["error"]["code"] == "duplicate_sku"
    assert response.json["error"]["details"] == {
        "sku": ["Already in use (possibly by a removed product)."]}
    message = response.json["error"]["message"]
    assert message == f"A product with sku '{product['sku']}' already exists."


@pytest.mark.parametrize("field, value", [
    ("unit_price", -0.01), ("unit_price", "cheap"), ("unit_price", 10**12),
    ("unit_price", 999_999_999_999.999),  # rounds to 10**12 cents: past Numeric(14, 2)
    ("stock_on_hand", -1), ("lead_time_days", -1), ("lead_time_days", 2.5),
    ("sku", ""), ("sku", "s" * 65), ("name", "n" * 201), ("unit", ""), ("unit_price", True),
    ("id", "no spaces"), ("colour", "red"),
])
def test_invalid_fields_are_422_naming_the_field(client, team, field, value):
    response = client.post(URL, json=body(**{field: value}), headers=team.headers["admin"])
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"
    assert field in response.json["error"]["details"]


@pytest.mark.parametrize("field", ["sku", "name", "unit_price"])
def test_required_fields(client, team, field):
    data = body()
    del data[field]
    response = client.post(URL, json=data, headers=team.headers["admin"])
    assert response.status_code == 422 and field in response.json["error"]["details"]


def test_patch_moves_stock(client, team, create):
    product_id = create()["id"]
    response = client.patch(f"{URL}/{product_id}", json={"stock_on_hand": 12.5, "unit_price": 13},
                            headers=team.headers["procurement"])
    assert response.status_code == 200
    assert response.json["stock_on_hand"] == 12.5 and response.json["unit_price"] == 13
    seen = client.get(f"{URL}/{product_id}", headers=team.headers["rep"])
    assert seen.json["stock_on_hand"] == 12.5
    response = client.patch(f"{URL}/{product_id}", json={"stock_on_hand": -3},
                            headers=team.headers["procurement"])
    assert response.status_code == 422
    assert "stock_on_hand" in response.json["error"]["details"]
    assert client.patch(f"{URL}/nope", json={"stock_on_hand": 1},
                        headers=team.headers["admin"]).status_code == 404


def test_filters(client, team, create):
    coffee = create(sku="CAF-250", name="Cafe Delta 250 g")["id"]
    water = create(sku="AGU-150", name="Agua Luso 1.5 l")["id"]
    cafe_water = create(sku="CAF-AGU", name="Cafe gelado")["id"]

    def ids(**query):
        response = client.get(URL, query_string=query, headers=team.headers["rep"])
        assert response.status_code == 200, response.json
        return {p["id"] for p in response.json["items"]}

    assert ids(sku="AGU-150") == {water}
    assert ids(q="cafe") == {coffee, cafe_water}
    assert ids(q="agu") == {water, cafe_water}
    assert ids(sku="nothing") == set()
    response = client.get(URL, query_string={"unknown": 1}, headers=team.headers["rep"])
    assert response.status_code == 422


def test_delete_is_soft_and_the_sku_stays_taken(client, team, create):
    product_id = create()["id"]
    procurement = team.headers["procurement"]
    assert client.delete(f"{URL}/{product_id}", headers=procurement).status_code == 204
    assert client.get(f"{URL}/{product_id}", headers=team.headers["admin"]).status_code == 404
    assert client.get(URL, headers=team.headers["admin"]).json["items"] == []
    assert client.delete(f"{URL}/{product_id}", headers=team.headers["admin"]).status_code == 404
    response = client.post(URL, json=body(), headers=team.headers["admin"])
    assert response.status_code == 409


def test_pagination_walks_the_whole_list_once(client, team, create):
    created = {create(sku=f"SKU-{n:03}", id=f"p{n:03}x")["id"] for n in range(17)}
    seen, cursor = [], None
    while True:
        query = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        page = client.get(URL, query_string=query, headers=team.headers["rep"]).json
        assert len(page["items"]) <= 4
        seen += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 17 and set(seen) == created
    assert seen == sorted(seen)


@pytest.fixture
def catalogue(create):
    """Products with repeated prices and stock, so sorts have ties to break; one removed."""
    rows = [("Tea", 3.5, 10), ("coffee", 12.5, 0), ("Sugar", 3.5, 40), ("milk", 1.2, 10),
            ("Cocoa", 12.5, 5), ("water", 0.4, 120), ("Tea", 3.5, 10)]
    made = [create(sku=f"SKU-{n}", name=name, unit_price=price, stock_on_hand=stock)["id"]
            for n, (name, price, stock) in enumerate(rows)]
    removed = create(sku="GONE", name="Removed")["id"]
    return made, removed


@pytest.mark.parametrize("sort, key", [
    ("-unit_price", lambda p: p["unit_price"]),
    ("stock_on_hand", lambda p: p["stock_on_hand"]),
    ("name", lambda p: p["name"].lower()),
    ("-sku", lambda p: p["sku"]),
])
def test_a_walk_in_another_sort_loses_and_repeats_nothing(client, team, catalogue, sort, key):
    made, removed = catalogue
    client.delete(f"{URL}/{removed}", headers=team.headers["procurement"])
    items = walk(client, URL, headers=team.headers["rep"], sort=sort)
    assert_walk_in_order(items, ids=made, sort=sort, key=key)


def test_the_csv_export_is_every_row_of_the_json_pages(client, team, catalogue):
    made, removed = catalogue
    client.delete(f"{URL}/{removed}", headers=team.headers["procurement"])
    items = assert_csv_is_the_json(client, URL, headers=team.headers["rep"], q="t",
                                   sort="-unit_price")
    assert sorted(p["name"] for p in items) == ["Tea", "Tea", "water"]
    assert len(assert_csv_is_the_json(client, URL, headers=team.headers["manager"])) == 7


def test_only_allow_listed_fields_sort_products(client, team):
    assert_unknown_sort_is_422(client, URL, headers=team.headers["rep"], field="lead_time_days")
