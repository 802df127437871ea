"""Customers REST: role rules, validation, reassignment, soft removal, the list (pages, sorts,
CSV)."""
import pytest

from fieldsales.customers.models import Customer
from fieldsales.extensions import db
from tests.factories import Phone
from tests.factories import ids as pulled_ids
from tests.list_checks import (
    assert_csv_is_the_json,
    assert_unknown_sort_is_422,
    assert_walk_in_order,
    walk,
)

URL = "/api/v1/customers"


def body(**overrides):
    data = {"name": "Mercearia Alfama", "address": "Rua dos Remedios 12, Lisboa",
            "latitude": 38.7114, "longitude": -9.1300, "geofence_radius_m": 80,
            "segment": "grocery", "phone": "+351 21 000 0000", "kind": "prospect"}
    data.update(overrides)
    return data


@pytest.fixture
def create(client, team):
    def do(as_="admin", **overrides):
        response = client.post(URL, json=body(**overrides), headers=team.headers[as_])
        assert response.status_code == 201, response.json
        return response.json
    return do


# --- create ---------------------------------------------------------------------------------

def test_admin_creates_a_customer_in_the_assigned_reps_team(client, team):
    response = client.post(URL, json=body(assigned_rep_id=team.rep.id),
                           headers=team.headers["admin"])
    assert response.status_code == 201
    customer = response.json
    assert customer["id"] and customer["team_id"] == team.rep.team_id
    assert customer["assigned_rep_id"] == team.rep.id
    assert customer["latitude"] == 38.7114 and customer["geofence_radius_m"] == 80
    assert customer["kind"] == "prospect" and customer["deleted_at"] is None
    fetched = client.get(f"{URL}/{customer['id']}", headers=team.headers["admin"])
    assert fetched.json == customer


def test_defaults_apply_when_optional_fields_are_left_out(client, team):
    response = client.post(URL, json={"name": "Kiosk", "latitude": 38.7, "longitude": -9.1},
                           headers=team.headers["manager"])
    assert response.status_code == 201
    assert response.json["kind"] == "prospect" and response.json["geofence_radius_m"] == 100
    assert response.json["assigned_rep_id"] is None
    assert response.json["team_id"] == team.manager.team_id


def test_manager_creates_in_their_own_team(client, team):
    response = client.post(URL, json=body(assigned_rep_id=team.rep2.id),
                           headers=team.headers["manager"])
    assert response.status_code == 201
    assert response.json["team_id"] == team.manager.team_id


def test_manager_cannot_assign_another_teams_rep(client, team):
    response = client.post(URL, json=body(assigned_rep_id=team.other_rep.id),
                           headers=team.headers["manager"])
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"
    assert "assigned_rep_id" in response.json["error"]["details"]
    assert client.get(URL, headers=team.headers["admin"]).json["items"] == []


def test_manager_cannot_place_a_customer_in_another_team(client, team):
    response = client.post(URL, json=body(team_id=team.other_manager.team_id),
                           headers=team.headers["manager"])
    assert response.status_code == 422
    assert "team_id" in response.json["error"]["details"]


@pytest.mark.parametrize("rep_id", ["nobody", "MANAGER"])
def test_assigned_rep_must_be_an_existing_rep(client, team, rep_id):
    rep_id = team.manager.id if rep_id == "MANAGER" else rep_id
    response = client.post(URL, json=body(assigned_rep_id=rep_id), headers=team.headers["admin"])
    assert response.status_code == 422
    assert "assigned_rep_id" in response.json["error"]["details"]


def test_admin_team_must_match_the_assigned_rep(client, team):
    response = client.post(URL, json=body(assigned_rep_id=team.rep.id,
                                          team_id=team.other_manager.team_id),
                           headers=team.headers["admin"])
    assert response.status_code == 422 and "team_id" in response.json["error"]["details"]
    response = client.post(URL, json=body(team_id="no-such-team"), headers=team.headers["admin"])
    assert response.status_code == 422 and "team_id" in response.json["error"]["details"]


def test_client_made_id_is_kept_and_a_duplicate_is_409(client, team, create):
    assert create(id="cust-0001.a_b")["id"] == "cust-0001.a_b"
    response = client.post(URL, json=body(id="cust-0001.a_b"), headers=team.headers["admin"])
    assert response.status_code == 409
    assert response.json["error"]["code"] == "duplicate_id"


@pytest.mark.parametrize("role", ["rep", "procurement"])
def test_reps_and_procurement_cannot_create(client, team, role):
    response = client.post(URL, json=body(), headers=team.headers[role])
    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"


def test_no_token_is_401(client, team, create):
    customer = create()
    assert client.get(URL).status_code == 401
    assert client.post(URL, json=body()).status_code == 401
    assert client.get(f"{URL}/{customer['id']}").status_code == 401
    assert client.patch(f"{URL}/{customer['id']}", json={"name": "X"}).status_code == 401
    assert client.delete(f"{URL}/{customer['id']}").status_code == 401


@pytest.mark.parametrize("field, value", [
    ("latitude", 90.5), ("longitude", -181), ("latitude", "north"), ("kind", "vip"),
    ("name", ""), ("name", "x" * 201), ("segment", "s" * 51), ("geofence_radius_m", 0),
    ("id", "has space"), ("id", "x" * 65), ("assigned_rep_id", "bad/id"),
    ("visit_cadence_days", 1.5), ("colour", "red"),
])
def test_invalid_fields_are_422_naming_the_field(client, team, field, value):
    response = client.post(URL, json=body(**{field: value}), headers=team.headers["admin"])
    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "validation_error"
    assert field in error["details"]
    assert field in error["message"]


@pytest.mark.parametrize("field", ["name", "latitude", "longitude"])
def test_required_fields(client, team, field):
    data = body()
    del data[field]
    response = client.post(URL, json=data, headers=team.headers["admin"])
    assert response.status_code == 422 and field in response.json["error"]["details"]


# --- read -------------------------------------------------------------------------------------

def test_who_reads_what(client, team, create):
    mine = create(assigned_rep_id=team.rep.id)["id"]
    teammates = create(assigned_rep_id=team.rep2.id)["id"]
    other = create(assigned_rep_id=team.other_rep.id)["id"]

    def ids(role):
        response = client.get(URL, headers=team.headers[role])
        assert response.status_code == 200
        return {c["id"] for c in response.json["items"]}

    assert ids("admin") == ids("procurement") == {mine, teammates, other}
    assert ids("manager") == {mine, teammates}
    assert ids("other_manager") == {other}
    assert ids("rep") == {mine}
    assert ids("other_rep") == {other}

    for role, allowed in [("rep", {mine}), ("manager", {mine, teammates}),
                          ("other_manager", {other}), ("procurement", {mine, teammates, other})]:
        for customer_id in (mine, teammates, other):
            status = client.get(f"{URL}/{customer_id}", headers=team.headers[role]).status_code
            assert status == (200 if customer_id in allowed else 404), (role, customer_id)


def test_a_rep_filtering_for_another_rep_sees_nothing(client, team, create):
    create(assigned_rep_id=team.rep2.id)
    response = client.get(URL, query_string={"assigned_rep_id": team.rep2.id},
                          headers=team.headers["rep"])
    assert response.status_code == 200 and response.json["items"] == []


def test_filters(client, team, create):
    a = create(name="Farmacia Central", kind="account", segment="pharmacy",
               assigned_rep_id=team.rep.id)["id"]
    b = create(name="Cafe 100% Bom", kind="prospect", segment="horeca",
               assigned_rep_id=team.rep2.id)["id"]
    c = create(name="central kiosk", kind="prospect", segment="kiosk")["id"]

    def ids(**query):
        response = client.get(URL, query_string=query, headers=team.headers["admin"])
        assert response.status_code == 200, response.json
        return {item["id"] for item in response.json["items"]}

    assert ids(kind="prospect") == {b, c}
    assert ids(segment="pharmacy") == {a}
    assert ids(q="CENTRAL") == {a, c}
    assert ids(q="100%") == {b}
    assert ids(q="%") == {b}
    assert ids(assigned_rep_id=team.rep2.id) == {b}
    assert ids(kind="account", q="kiosk") == set()


def test_unknown_or_bad_query_parameters_are_422(client, team):
    response = client.get(URL, query_string={"colour": "red"}, headers=team.headers["admin"])
    assert response.status_code == 422 and "colour" in response.json["error"]["details"]
    response = client.get(URL, query_string={"kind": "vip"}, headers=team.headers["admin"])
    assert response.status_code == 422 and "kind" in response.json["error"]["details"]
    response = client.get(URL, query_string={"limit": 0}, headers=team.headers["admin"])
    assert response.status_code == 422 and "limit" in response.json["error"]["details"]


def test_pagination_walks_the_whole_list_once(client, team, create):
    created = {create(name=f"Shop {n}", assigned_rep_id=team.rep.id)["id"] for n in range(23)}
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 5, **({"cursor": cursor} if cursor else {})}
        page = client.get(URL, query_string=query, headers=team.headers["rep"]).json
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 5
    assert len(seen) == len(set(seen)) == 23 and set(seen) == created


@pytest.mark.parametrize("sort, key", [
    ("name", lambda c: c["name"].lower()),
    ("-segment", lambda c: c["segment"] or ""),
    ("kind", lambda c: c["kind"]),
    ("-id", lambda c: c["id"]),
])
def test_a_walk_in_another_sort_loses_and_repeats_nothing(client, team, create, sort, key):
    rows = [("delta", "grocery", "account"), ("Alfa", None, "prospect"),
            ("charlie", "cafe", "account"), ("bravo", "grocery", "prospect"),
            ("alfa", None, "account"), ("Echo", "bakery", "prospect"), ("bravo", "cafe", "account")]
    created = [create(name=name, segment=segment, kind=kind, assigned_rep_id=team.rep.id)["id"]
               for name, segment, kind in rows]
    create(as_="other_manager", name="Another team's")
    items = walk(client, URL, headers=team.headers["manager"], sort=sort)
    assert_walk_in_order(items, ids=created, sort=sort, key=key)


def test_the_csv_export_is_every_row_of_the_json_pages_in_the_callers_scope(client, team,
                                                                             create):
    mine = {create(name=name, segment="cafe", assigned_rep_id=team.rep.id)["id"]
            for name in ("=HYPERLINK(1)", "Adega", "Bica")}
    create(name="A grocery", segment="grocery", assigned_rep_id=team.rep.id)
    create(as_="other_manager", name="Another team's cafe", segment="cafe")
    items = assert_csv_is_the_json(client, URL, headers=team.headers["manager"],
                                   segment="cafe", sort="-name")
    assert {c["id"] for c in items} == mine
    everyone = assert_csv_is_the_json(client, URL, headers=team.headers["admin"])
    assert len(everyone) == 5


def test_only_allow_listed_fields_sort_customers(client, team):
    assert_unknown_sort_is_422(client, URL, headers=team.headers["admin"], field="phone")


# --- update -----------------------------------------------------------------------------------

def test_manager_patches_their_teams_customer(client, team, create):
    customer = create(assigned_rep_id=team.rep.id)
    response = client.patch(f"{URL}/{customer['id']}",
                            json={"name": "Mercearia Nova", "kind": "account", "phone": None},
                            headers=team.headers["manager"])
    assert response.status_code == 200
    assert response.json["name"] == "Mercearia Nova" and response.json["kind"] == "account"
    assert response.json["phone"] is None and response.json["latitude"] == customer["latitude"]


def test_patch_refusals(client, team, create):
    customer_id = create(assigned_rep_id=team.rep.id)["id"]
    path = f"{URL}/{customer_id}"
    other_manager = team.headers["other_manager"]
    assert client.patch(path, json={"name": "X"}, headers=other_manager).status_code == 404
    for role in ("rep", "procurement"):
        assert client.patch(path, json={"name": "X"}, headers=team.headers[role]).status_code == 403
        assert client.delete(path, headers=team.headers[role]).status_code == 403
    response = client.patch(path, json={"name": None}, headers=team.headers["admin"])
    assert response.status_code == 422 and "name" in response.json["error"]["details"]
    response = client.patch(path, json={"id": "new-id"}, headers=team.headers["admin"])
    assert response.status_code == 422 and "id" in response.json["error"]["details"]
    assert client.get(path, headers=team.headers["admin"]).json["name"] == "Mercearia Alfama"


def test_reassigning_moves_the_customer_between_reps(client, team, create):
    customer_id = create(as_="manager", assigned_rep_id=team.rep.id)["id"]
    old_phone, new_phone = Phone(client, team.headers["rep"]), Phone(client, team.headers["rep2"])
    old_phone.pull(), new_phone.pull()
    response = client.patch(f"{URL}/{customer_id}", json={"assigned_rep_id": team.rep2.id},
                            headers=team.headers["manager"])
    assert response.status_code == 200 and response.json["assigned_rep_id"] == team.rep2.id
    assert client.get(f"{URL}/{customer_id}", headers=team.headers["rep"]).status_code == 404
    assert client.get(f"{URL}/{customer_id}", headers=team.headers["rep2"]).status_code == 200
    assert pulled_ids(old_phone.pull(), "customers", "deleted") == {customer_id}
    assert pulled_ids(new_phone.pull(), "customers", "created") == {customer_id}


def test_manager_cannot_reassign_to_another_teams_rep(client, team, create):
    customer_id = create(assigned_rep_id=team.rep.id)["id"]
    response = client.patch(f"{URL}/{customer_id}", json={"assigned_rep_id": team.other_rep.id},
                            headers=team.headers["manager"])
    assert response.status_code == 422
    assert "assigned_rep_id" in response.json["error"]["details"]
    customer = client.get(f"{URL}/{customer_id}", headers=team.headers["admin"]).json
    assert customer["assigned_rep_id"] == team.rep.id


def test_admin_reassigning_across_teams_moves_the_customer_to_the_new_team(client, team, create):
    customer_id = create(assigned_rep_id=team.rep.id)["id"]
    response = client.patch(f"{URL}/{customer_id}", json={"assigned_rep_id": team.other_rep.id},
                            headers=team.headers["admin"])
    assert response.status_code == 200
    assert response.json["team_id"] == team.other_manager.team_id
    assert client.get(f"{URL}/{customer_id}", headers=team.headers["manager"]).status_code == 404
    assert client.get(f"{URL}/{customer_id}",
                      headers=team.headers["other_manager"]).status_code == 200


def test_admin_cannot_move_the_team_away_from_its_rep(client, team, create):
    customer_id = create(assigned_rep_id=team.rep.id)["id"]
    response = client.patch(f"{URL}/{customer_id}", json={"team_id": team.other_manager.team_id},
                            headers=team.headers["admin"])
    assert response.status_code == 422 and "team_id" in response.json["error"]["details"]


def test_unassigning_records_the_lost_access(client, team, create):
    customer_id = create(assigned_rep_id=team.rep.id)["id"]
    phone = Phone(client, team.headers["rep"])
    phone.pull()
    response = client.patch(f"{URL}/{customer_id}", json={"assigned_rep_id": None},
                            headers=team.headers["manager"])
    assert response.status_code == 200 and response.json["team_id"] == team.manager.team_id
    assert pulled_ids(phone.pull(), "customers", "deleted") == {customer_id}


# --- delete -----------------------------------------------------------------------------------

def test_delete_is_a_soft_removal(app, client, team, create):
    customer_id = create(assigned_rep_id=team.rep.id)["id"]
    with app.app_context():
        before = db.session.get(Customer, customer_id).changed_seq
    assert client.delete(f"{URL}/{customer_id}",
                         headers=team.headers["other_manager"]).status_code == 404
    response = client.delete(f"{URL}/{customer_id}", headers=team.headers["manager"])
    assert response.status_code == 204
    for role in ("admin", "manager", "rep", "procurement"):
        assert client.get(f"{URL}/{customer_id}", headers=team.headers[role]).status_code == 404
        assert client.get(URL, headers=team.headers[role]).json["items"] == []
    assert client.patch(f"{URL}/{customer_id}", json={"name": "X"},
                        headers=team.headers["admin"]).status_code == 404
    assert client.delete(f"{URL}/{customer_id}", headers=team.headers["admin"]).status_code == 404
    with app.app_context():
        row = db.session.get(Customer, customer_id)
        assert row.deleted_at is not None and row.changed_seq > before
    # The id stays taken by the tombstone.
    assert client.post(URL, json=body(id=customer_id),
                       headers=team.headers["admin"]).status_code == 409


def test_odd_ids_in_the_path_are_404(client, team):
    for customer_id in ("x" * 300, "no-such", "%25"):
        response = client.get(f"{URL}/{customer_id}", headers=team.headers["admin"])
        assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
