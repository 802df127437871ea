"""Hostile inputs schemathesis does not try by itself, on the REST endpoints and the sync push.

Huge and negative numbers, NaN and Infinity literals, 1 MB strings, JSON nested 10,000 deep,
bodies that are not UTF-8, ids with path characters, SQL and script fragments in text, and
spreadsheet formulas in CSV exports. Whatever arrives, the answer is a 4xx with the JSON error
shape, or (on the sync push) a quarantine entry that names the record: never a 5xx, never a
record silently dropped or silently changed. Text is stored verbatim and returned as-is in
JSON; in CSV a cell never starts with a character that makes a spreadsheet run a formula.
"""
import csv
import io
import json
import re

import pytest

from fieldsales.common import now_ms
from fieldsales.sync.models import QuarantinedRecord

MB = 1024 * 1024
HUGE_NUMBERS = [10**30, -10**30, 2**63, -(2**63) - 1, 1e308, -1e308]
DEEP = {"array": "[" * 10_000 + "]" * 10_000,
        "object": '{"a":' * 10_000 + "1" + "}" * 10_000}
NOT_UTF8 = b'{"name": "caf\xe9 \xff\xfe", "latitude": 38.7, "longitude": -9.1}'
PATH_IDS = ["..", "../users", "..%2F..%2Fusers", "a%2Fb", "a b", "%20", "%C3%BCn%C3%AF",
            "%E2%9C%93", "%00", "x" * 300, "' OR '1'='1", "1;DROP TABLE customers"]
FRAGMENTS = ["Robert'); DROP TABLE customers;--", "' OR '1'='1' --", "<script>alert(1)</script>",
             '"><img src=x onerror=alert(1)>', "=HYPERLINK(\"http://evil.example\",\"open\")",
             "+SUM(1,2)", "-2+3", "@SUM(A1:A2)", "\t=1+1", "{{7*7}} ${jndi:ldap://x/a}",
             "a\\b\\\\c \"quoted\" \u202eRTL \U0001F600"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")


def not_json(constant: str):
    raise AssertionError(f"{constant} is not JSON")


def refused(response) -> dict:
    """A 4xx answer with the one JSON error shape."""
    assert 400 <= response.status_code < 500, (response.status_code, response.get_data()[:300])
    body = response.get_json(silent=True)
    assert isinstance(body, dict) and set(body["error"]) == {"code", "message", "details"}, body
    return body


def stored_exactly_or_refused(response, field: str, value) -> None:
    """Either the value is kept as sent (and answered back), or the request is a 4xx."""
    if response.status_code in (200, 201):
        assert response.json[field] == value, (field, response.json[field], value)
    else:
        refused(response)


@pytest.fixture
def world(client, team):
    """A customer of team.rep, a product and a task, made by the admin."""
    admin = team.headers["admin"]
    customer = client.post("/api/v1/customers", headers=admin, json=customer_body(team)).json
    product = client.post("/api/v1/products", headers=admin,
                          json={"sku": "H-1", "name": "Hostile soap", "unit_price": 2.5}).json
    task = client.post("/api/v1/tasks", headers=admin, json={
        "assigned_rep_id": team.rep.id, "customer_id": customer["id"], "title": "Check"}).json
    return {"customer": customer, "product": product, "task": task}


def customer_body(team, **overrides):
    body = {"name": "Mercearia", "latitude": 38.7, "longitude": -9.1, "geofence_radius_m": 100,
            "assigned_rep_id": team.rep.id}
    return {**body, **overrides}


# Where the REST API takes a body: (method, url template, valid body, numeric and text fields).
def endpoints(team, world):
    task_url = f"/api/v1/tasks/{world['task']['id']}"
    return [
        ("POST", "/api/v1/customers", customer_body(team),
         ["latitude", "longitude", "geofence_radius_m", "visit_cadence_days"],
         ["name", "address", "segment", "phone"]),
        ("PATCH", f"/api/v1/customers/{world['customer']['id']}", {},
         ["latitude", "geofence_radius_m"], ["name", "address"]),
        ("POST", "/api/v1/products", {"sku": "H-2", "name": "Soap", "unit_price": 1.0},
         ["unit_price", "stock_on_hand", "lead_time_days"], ["sku", "name", "unit"]),
        ("POST", "/api/v1/tasks", {"assigned_rep_id": team.rep.id, "title": "T",
                                   "customer_id": world["customer"]["id"]},
         ["due_at", "latitude"], ["title", "description"]),
        ("PATCH", task_url, {}, ["due_at"], ["title", "description", "completion_note"]),
    ]


def send(client, method, url, headers, **kwargs):
    return client.open(url, method=method, headers=headers, **kwargs)


# --- numbers ---------------------------------------------------------------------------------


def test_huge_and_negative_numbers_are_kept_exactly_or_refused(client, team, world):
    admin = team.headers["admin"]
    for method, url, body, numbers, _texts in endpoints(team, world):
        for field in numbers:
            for value in [*HUGE_NUMBERS, -1, -0.000001]:
                response = send(client, method, url, admin, json={**body, field: value})
                assert response.status_code < 500, (method, url, field, value, response.json)
                stored_exactly_or_refused(response, field, value)
                if response.status_code == 201 and "sku" in body:  # a product: next sku
                    body = {**body, "sku": body["sku"] + "x"}


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_nan_and_infinity_literals_are_refused(client, team, world, literal):
    admin = team.headers["admin"]
    for method, url, body, numbers, _texts in endpoints(team, world):
        text = json.dumps({**body, numbers[0]: "LITERAL"}).replace('"LITERAL"', literal)
        response = send(client, method, url, {**admin, "Content-Type": "application/json"},
                        data=text)
        refused(response)


# --- strings, nesting, encodings --------------------------------------------------------------


def test_megabyte_strings_are_kept_exactly_or_refused(client, team, world):
    admin = team.headers["admin"]
    big = "é" * MB
    for method, url, body, _numbers, texts in endpoints(team, world):
        for field in texts:
            response = send(client, method, url, admin, json={**body, field: big})
            assert response.status_code < 500, (method, url, field, response.status_code)
            stored_exactly_or_refused(response, field, big)


@pytest.mark.parametrize("shape", sorted(DEEP))
def test_deeply_nested_json_is_refused(client, team, world, shape):
    for method, url, _body, _numbers, _texts in endpoints(team, world):
        response = send(client, method, url,
                        {**team.headers["admin"], "Content-Type": "application/json"},
                        data=DEEP[shape])
        refused(response)
    response = client.post("/api/v1/auth/token", data=DEEP[shape],
                           headers={"Content-Type": "application/json"})
    refused(response)


def test_bodies_that_are_not_utf8_are_refused(client, team, world):
    for method, url, _body, _numbers, _texts in endpoints(team, world):
        response = send(client, method, url,
                        {**team.headers["admin"], "Content-Type": "application/json"},
                        data=NOT_UTF8)
        refused(response)
    refused(client.post("/api/v1/auth/token", data=NOT_UTF8,
                        headers={"Content-Type": "application/json"}))


def test_query_strings_that_are_not_utf8_do_not_break_listings(client, team, world):
    for url in ("/api/v1/customers?q=%FF%FE", "/api/v1/products?q=%C0%AF",
                "/api/v1/tasks?status=%FF", "/api/v1/customers?q=%00"):
        response = client.get(url, headers=team.headers["admin"])
        assert response.status_code < 500, (url, response.json)
        if response.status_code != 200:
            refused(response)


# --- ids with path characters ---------------------------------------------------------------


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-05", "1970-01-01", "2100-01-01"])
def test_days_out_of_range_are_refused_everywhere(client, team, day):
    manager = team.headers["manager"]
    for url in [f"/api/v1/teams/{team.manager.team_id}/overview?period=month&date={day}",
                f"/api/v1/reps/{team.rep.id}/activity?date={day}",
                f"/api/v1/feedback/summary?to={day}", f"/api/v1/backlog/summary?to={day}",
                f"/api/v1/backlog/summary?from={day}", f"/api/v1/targets?active_on={day}"]:
        assert "Must be a day from" in str(refused(client.get(url, headers=manager))), url
    for period in ("day", "week", "month", "quarter"):
        body = {"metric": "visits", "period": period, "period_start": day, "goal": 5}
        answer = refused(client.post("/api/v1/targets", headers=manager, json=body))
        assert "period_start" in answer["error"]["details"], period


@pytest.mark.parametrize("collection", ["customers", "products", "tasks", "users"])
def test_ids_with_path_characters_find_nothing(client, team, world, collection):
    admin = team.headers["admin"]
    for raw in PATH_IDS:
        for method in ("GET", "PATCH", "DELETE"):
            response = send(client, method, f"/api/v1/{collection}/{raw}", admin, json={})
            assert response.status_code in (400, 404, 405, 422), (method, raw, response.json)
            refused(response)
    # Nothing was removed or changed on the way.
    assert client.get(f"/api/v1/customers/{world['customer']['id']}",
                      headers=admin).status_code == 200


@pytest.mark.parametrize("bad_id", ["../x", "a/b", "a b", "ünï", "", "x" * 65, "a;b", "%2F"])
def test_client_made_ids_with_path_characters_are_refused(client, team, bad_id):
    response = client.post("/api/v1/customers", headers=team.headers["admin"],
                           json=customer_body(team, id=bad_id))
    body = refused(response)
    assert "id" in json.dumps(body["error"]["details"])


# --- SQL and script fragments ----------------------------------------------------------------


def test_sql_and_script_fragments_are_stored_verbatim_and_returned_as_is(client, team):
    admin = team.headers["admin"]
    made = []
    for text in FRAGMENTS:
        response = client.post("/api/v1/customers", headers=admin,
                               json=customer_body(team, name=text[:200], address=text,
                                                  segment=text[:50]))
        assert response.status_code == 201, (text, response.json)
        assert response.headers["Content-Type"].startswith("application/json")
        made.append((response.json["id"], text))
    for customer_id, text in made:
        got = client.get(f"/api/v1/customers/{customer_id}", headers=admin).json
        assert (got["name"], got["address"], got["segment"]) == (text[:200], text, text[:50])
    listing = client.get("/api/v1/customers?limit=1000", headers=admin).json
    assert {c["id"] for c in listing["items"]} >= {i for i, _ in made}
    # A search with SQL in it is a search for that text.
    found = client.get("/api/v1/customers", headers=admin,
                       query_string={"q": "' OR '1'='1"}).json["items"]
    assert [c["name"] for c in found] == ["' OR '1'='1' --"]


def test_a_nul_character_in_any_rest_text_is_refused_naming_the_field(client, team, world):
    """SQLite would store it and PostgreSQL refuses it: the API refuses it on both (422)."""
    admin = team.headers["admin"]
    for method, url, body, _numbers, texts in endpoints(team, world):
        for field in texts:
            response = send(client, method, url, admin, json={**body, field: "a\x00b"})
            error = refused(response)["error"]
            assert response.status_code == 422, (method, url, field, response.status_code)
            assert field in error["details"], (method, url, field, error)
    search = client.get("/api/v1/customers", headers=admin, query_string={"q": "a\x00b"})
    assert search.status_code == 422 and "q" in refused(search)["error"]["details"]
    assert client.post("/api/v1/auth/token", json={"email": "a\x00@example.com",
                                                   "password": "x"}).status_code == 422
    names = [c["name"] for c in client.get("/api/v1/customers?limit=1000",
                                           headers=admin).json["items"]]
    assert not any("\x00" in name for name in names)


# --- CSV exports --------------------------------------------------------------------------------


def csv_routes(client) -> list[str]:
    """GET routes without path parameters whose 200 answer is documented as text/csv."""
    spec = client.get("/api/v1/openapi.json").json
    return [path for path, item in spec["paths"].items()
            if "{" not in path and "text/csv" in
            item.get("get", {}).get("responses", {}).get("200", {}).get("content", {})]


def test_csv_exports_never_start_a_cell_with_a_formula(client, team, world):
    admin = team.headers["admin"]
    for text in FRAGMENTS:  # formulas in every text a report may show
        client.post("/api/v1/customers", headers=admin,
                    json=customer_body(team, name=text[:200], segment=text[:50], address=text))
        client.post("/api/v1/tasks", headers=admin, json={
            "assigned_rep_id": team.rep.id, "customer_id": world["customer"]["id"],
            "title": text[:200], "description": text})
    push(client, team, {"orders": {"created": [{
        "id": f"hostileorder{n}", "customer_id": world["customer"]["id"], "ordered_at": 1.7e12,
        "notes": text} for n, text in enumerate(FRAGMENTS)]}, "order_lines": {"created": [{
            "id": f"hostileline{n}", "order_id": f"hostileorder{n}",
            "product_id": world["product"]["id"], "quantity": 1, "unit_price": 2.5}
            for n in range(len(FRAGMENTS))]}})
    routes = csv_routes(client)
    assert routes, "no CSV export documented"
    cells = []
    for path in routes:
        response = client.get(path, headers=admin, query_string={"format": "csv"})
        assert response.status_code in (200, 422), (path, response.status_code)
        if response.status_code != 200:
            continue  # a report that needs a filter first
        assert response.mimetype == "text/csv"
        rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
        cells += [(path, cell) for row in rows[1:] for cell in row]
    # A negative number is a number to a spreadsheet, not a formula: numbers stay numbers.
    starting_with_formula = [(path, cell) for path, cell in cells
                             if cell.startswith(FORMULA_START) and not NUMBER.fullmatch(cell)]
    assert starting_with_formula == []
    # The hostile texts did reach some export, escaped (so the check above was not vacuous).
    assert any(cell.startswith("'") and cell[1:].startswith(FORMULA_START)
               for _path, cell in cells), routes


# --- the sync push ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", [" =1+1", "  +SUM(1,2)", "\n-2+3", "\r\n@SUM(A1:A2)",
                                  " \t=HYPERLINK(\"http://evil.example\")", "\u00a0=1"])
def test_csv_guards_formulas_behind_leading_whitespace(client, team, text):
    """A spreadsheet trims the blanks and still runs the formula."""
    admin = team.headers["admin"]
    assert client.post("/api/v1/customers", headers=admin,
                       json=customer_body(team, name=text, segment="-9")).status_code == 201
    response = client.get("/api/v1/customers", headers=admin, query_string={"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(row["name"], row["segment"], row["longitude"]) for row in rows] == [
        ("'" + text, "'-9", "-9.1")]  # text is guarded; a number stays a number


def push(client, team, changes: dict, *, raw: bytes | None = None, last_pulled_at="null"):
    data = raw if raw is not None else json.dumps(changes).encode()
    return client.post(f"/api/v1/sync?last_pulled_at={last_pulled_at}", data=data,
                       headers={**team.headers["rep"], "Content-Type": "text/plain;charset=UTF-8"})


def ping(record_id: str, **overrides) -> dict:
    return {"id": record_id, "recorded_at": 1_700_000_000_000, "latitude": 38.7,
            "longitude": -9.1, "accuracy_m": 5, "speed_mps": 1, "battery_pct": 50, **overrides}


def quarantined_ids(response) -> set:
    return {item["id"] for item in response.json["quarantined"]}


def test_push_quarantines_huge_and_negative_numbers_and_keeps_the_rest(client, team, ctx):
    bad = {f"huge{n}": ping(f"huge{n}", **{column: value})
           for n, (column, value) in enumerate(
               (c, v) for c in ("recorded_at", "latitude", "battery_pct", "accuracy_m")
               for v in HUGE_NUMBERS + [-1])}
    response = push(client, team, {"location_pings": {"created": [ping("good1"),
                                                                  *bad.values()]}})
    assert response.status_code == 200, response.json
    stored = response.json["accepted"]["location_pings"]
    held = quarantined_ids(response)
    # Every record is either stored or quarantined by name; the clean one is stored.
    assert "good1" not in held
    assert stored + len(held) == 1 + len(bad)
    from fieldsales.extensions import db
    from fieldsales.locations.models import LocationPing
    for record_id in set(bad) - held:  # accepted: then stored exactly as sent
        row = db.session.query(LocationPing).filter_by(id=record_id).one()  # key: id and time
        for column, value in bad[record_id].items():
            if column != "id":
                assert getattr(row, column) == value, (record_id, column)
    assert {"huge0", "huge1"} <= held  # recorded_at 1e30 and -1e30 are no times


def test_huge_quantities_from_a_phone_are_quarantined_and_every_report_stays_json(
        client, team, world):
    customer, product = world["customer"]["id"], world["product"]["id"]
    feedback = [{"id": f"hugefb{n}", "customer_id": customer, "recorded_at": now_ms() - 60_000,
                 "rating": 4, "category": "product", "product_id": product,
                 "requested_quantity": 1e308} for n in range(3)]
    orders = [{"id": "hugeorder", "customer_id": customer, "ordered_at": now_ms() - 60_000}]
    lines = [{"id": "hugeline", "order_id": "hugeorder", "product_id": product,
              "quantity": 1e308, "unit_price": 2.5}]
    response = push(client, team, {"feedback": {"created": feedback},
                                   "orders": {"created": orders},
                                   "order_lines": {"created": lines}})
    assert response.status_code == 200, response.json
    assert {f"hugefb{n}" for n in range(3)} | {"hugeline"} <= quarantined_ids(response)
    for path in ("/api/v1/feedback/summary", "/api/v1/backlog/summary", "/api/v1/backlog",
                 "/api/v1/demand"):
        answer = client.get(path, headers=team.headers["admin"])
        assert answer.status_code == 200, (path, answer.status_code)
        json.loads(answer.get_data(as_text=True), parse_constant=not_json)  # no Infinity, NaN


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_push_with_nan_or_infinity_is_refused_or_quarantined(client, team, literal):
    text = json.dumps({"location_pings": {"created": [ping("p1"), ping("p2", latitude=0)]}})
    text = text.replace('"latitude": 0', f'"latitude": {literal}')
    response = push(client, team, {}, raw=text.encode())
    if response.status_code == 200:
        assert quarantined_ids(response) == {"p2"}
        assert response.json["accepted"]["location_pings"] == 1
    else:
        refused(response)


def test_push_quarantines_megabyte_text_or_stores_it_whole(client, team, world, ctx):
    big = "ü" * MB
    visit = {"id": "bigvisit", "customer_id": world["customer"]["id"],
             "check_in_at": now_ms() - 3_600_000, "check_in_latitude": 38.7,
             "check_in_longitude": -9.1, "notes": big}
    response = push(client, team, {"visits": {"created": [visit]}})
    assert response.status_code == 200, response.get_data()[:300]
    if "bigvisit" not in quarantined_ids(response):
        pulled = client.get("/api/v1/sync?last_pulled_at=null",
                            headers=team.headers["rep"]).json["changes"]["visits"]["created"]
        assert [v["notes"] for v in pulled if v["id"] == "bigvisit"] == [big]
    else:
        from fieldsales.extensions import db
        row = db.session.query(QuarantinedRecord).filter_by(record_id="bigvisit").one()
        assert row.payload["notes"] == big  # kept whole


@pytest.mark.parametrize("shape", sorted(DEEP))
def test_push_of_deeply_nested_json_is_refused(client, team, shape):
    refused(push(client, team, {}, raw=DEEP[shape].encode()))
    nested = '{"visits": {"created": [{"id": "v1", "notes": ' + DEEP[shape] + "}]}}"
    response = push(client, team, {}, raw=nested.encode())
    if response.status_code == 200:  # parsed: then the record is quarantined, not dropped
        assert quarantined_ids(response) == {"v1"}
    else:
        refused(response)


def test_push_that_is_not_utf8_is_refused(client, team):
    refused(push(client, team, {}, raw=b'{"location_pings": {"created": [{"id": "\xff\xfe"}]}}'))


@pytest.mark.parametrize("bad_id", ["../x", "a/b", "a b", "ünï", "", "x" * 65, "a;b", "%2F",
                                    "' OR '1'='1", "\u0000", "a\nb"])
def test_push_quarantines_ids_with_path_characters(client, team, bad_id, ctx):
    response = push(client, team, {"location_pings": {"created": [ping(bad_id), ping("fine")]}})
    assert response.status_code == 200, response.json
    assert response.json["accepted"]["location_pings"] == 1
    assert [item["id"] for item in response.json["quarantined"]] == [bad_id]
    from fieldsales.extensions import db
    from fieldsales.locations.models import LocationPing
    assert db.session.query(LocationPing.id).filter_by(rep_id=team.rep.id).all() == [("fine",)]
    held = db.session.query(QuarantinedRecord).filter_by(user_id=team.rep.id).one()
    assert held.payload["id"] == bad_id  # kept whole, the id as sent


def test_push_stores_sql_and_script_fragments_verbatim(client, team, world):
    visits = [{"id": f"frag{n}", "customer_id": world["customer"]["id"],
               "check_in_at": now_ms() - 3_600_000 + n, "check_in_latitude": 38.7,
               "check_in_longitude": -9.1, "notes": text} for n, text in enumerate(FRAGMENTS)]
    response = push(client, team, {"visits": {"created": visits}})
    assert response.status_code == 200, response.json
    assert response.json["accepted"]["visits"] == len(FRAGMENTS)
    pulled = client.get("/api/v1/sync?last_pulled_at=null",
                        headers=team.headers["rep"]).json["changes"]["visits"]["created"]
    assert {v["id"]: v["notes"] for v in pulled} == {v["id"]: v["notes"] for v in visits}


def test_push_larger_than_the_limit_is_413(client, team, app):
    limit = app.config["MAX_CONTENT_LENGTH"]
    body = b'{"location_pings": {"created": [' + b" " * limit + b"]}}"
    response = push(client, team, {}, raw=body)
    assert response.status_code == 413
    refused(response)
