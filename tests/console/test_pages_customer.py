"""A customer's own page: edit it as PATCH /customers/<id> does (the same schema and
service); bad input by its field with what was typed kept."""
import pytest

from tests.factories import uid


def _form(**changes):
    base = {"name": "Corner Shop", "address": "1 Main St", "latitude": "52.1",
            "longitude": "4.3", "geofence_radius_m": "80", "kind": "account", "segment": "key",
            "phone": "+31 20 000", "visit_cadence_days": "7", "opens_at": "08:30",
            "closes_at": "17:00"}
    return {**base, **changes}


def test_a_manager_edits_a_customer_as_the_api_sees_it(client, visitor, team, world):
    customer = world.customer(id=uid("c"), rep=team.rep, name="Old name")
    manager = visitor(team.manager)
    page = manager.get(f"/customers/{customer}/edit")
    assert page.status_code == 200 and 'value="Old name"' in page.text
    assert f"/customers/{customer}/edit" in manager.get("/customers").text
    saved = manager.post(f"/customers/{customer}/edit", _form())
    assert saved.status_code == 302
    api = client.get(f"/api/v1/customers/{customer}", headers=team.headers["manager"]).json
    assert {k: api[k] for k in ("name", "address", "latitude", "longitude", "segment",
                                "visit_cadence_days", "opens_at", "closes_at", "kind")} == {
        "name": "Corner Shop", "address": "1 Main St", "latitude": 52.1, "longitude": 4.3,
        "segment": "key", "visit_cadence_days": 7, "opens_at": "08:30", "closes_at": "17:00",
        "kind": "account"}
    # An empty optional field clears it.
    manager.post(f"/customers/{customer}/edit", _form(visit_cadence_days="", opens_at=""))
    api = client.get(f"/api/v1/customers/{customer}", headers=team.headers["manager"]).json
    assert (api["visit_cadence_days"], api["opens_at"]) == (None, None)


@pytest.mark.parametrize("field, typed", [
    ("latitude", "200"), ("longitude", "east"), ("geofence_radius_m", "-5"),
    ("visit_cadence_days", "0"), ("opens_at", "25:00"), ("closes_at", "07:00"),
    ("kind", "alien"),
])
def test_bad_input_is_shown_next_to_its_field_and_nothing_is_saved(client, visitor, team,
                                                                   world, field, typed):
    customer = world.customer(id=uid("c"), rep=team.rep, name="Kept name")
    response = visitor(team.manager).post(f"/customers/{customer}/edit",
                                          _form(**{field: typed}))
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.text
    if field != "kind":
        assert f'value="{typed}"' in response.text
    assert 'value="Corner Shop"' in response.text  # what was typed elsewhere is kept
    assert client.get(f"/api/v1/customers/{customer}",
                      headers=team.headers["manager"]).json["name"] == "Kept name"


def test_another_teams_customer_is_404_and_reps_may_not_edit(visitor, team, world):
    customer = world.customer(id=uid("c"), rep=team.rep)
    assert visitor(team.other_manager).get(f"/customers/{customer}/edit").status_code == 404
    assert visitor(team.rep).get(f"/customers/{customer}/edit").status_code == 403


def _new(**changes):
    base = {"name": "New Corner", "address": "2 High St", "latitude": "52.2",
            "longitude": "4.4", "kind": "account", "segment": "key"}
    return {**base, **changes}


def test_a_manager_creates_a_customer_as_the_api_would(client, visitor, team):
    manager = visitor(team.manager)
    listing = manager.get("/customers")
    assert 'href="/customers/new"' in listing.text
    form = manager.get("/customers/new")
    assert form.status_code == 200 and 'name="assigned_rep_id"' in form.text
    assert f'value="{team.rep.id}"' in form.text  # the manager's reps to choose from
    assert f'value="{team.other_rep.id}"' not in form.text
    made = manager.post("/customers/new", _new(assigned_rep_id=team.rep.id))
    assert made.status_code == 302 and "q=New+Corner" in made.location
    assert "New Corner: created." in manager.get(made.location).text
    api = client.get("/api/v1/customers", headers=team.headers["manager"],
                     query_string={"q": "New Corner"}).json["items"]
    assert [{k: c[k] for k in ("name", "address", "latitude", "longitude", "kind", "segment",
                               "assigned_rep_id", "team_id", "geofence_radius_m")}
            for c in api] == [{
                "name": "New Corner", "address": "2 High St", "latitude": 52.2,
                "longitude": 4.4, "kind": "account", "segment": "key",
                "assigned_rep_id": team.rep.id, "team_id": team.manager.team_id,
                "geofence_radius_m": 100}]
    # Nobody assigned and no segment: still the manager's team's, as POST /customers.
    manager.post("/customers/new", _new(name="Unassigned", segment="", assigned_rep_id=""))
    api = client.get("/api/v1/customers", headers=team.headers["manager"],
                     query_string={"q": "Unassigned"}).json["items"]
    assert [(c["assigned_rep_id"], c["segment"], c["team_id"]) for c in api] == [
        (None, None, team.manager.team_id)]


@pytest.mark.parametrize("field, typed", [
    ("name", ""), ("latitude", "200"), ("longitude", "east"), ("latitude", ""),
    ("kind", "alien"), ("segment", "x" * 51), ("assigned_rep_id", "no-such-rep"),
])
def test_a_new_customer_with_bad_input_shows_it_by_its_field(client, visitor, team, field,
                                                             typed):
    response = visitor(team.manager).post("/customers/new", _new(**{field: typed}))
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.text
    if field not in ("kind", "assigned_rep_id") and typed:
        assert f'value="{typed}"' in response.text
    if field != "name":
        assert 'value="New Corner"' in response.text  # what was typed elsewhere is kept
    assert client.get("/api/v1/customers", headers=team.headers["manager"],
                      query_string={"q": "New Corner"}).json["items"] == []


def test_a_manager_cannot_give_a_new_customer_to_another_teams_rep(client, visitor, team):
    response = visitor(team.manager).post("/customers/new",
                                          _new(assigned_rep_id=team.other_rep.id))
    assert response.status_code == 422
    assert 'id="assigned_rep_id-error"' in response.text and "in your team" in response.text
    assert client.get("/api/v1/customers", headers=team.headers["admin"],
                      query_string={"q": "New Corner"}).json["items"] == []


def test_creating_a_customer_without_the_csrf_token_is_refused(client, visitor, team):
    response = visitor(team.manager).post("/customers/new", _new(), csrf=False)
    assert response.status_code == 400
    assert client.get("/api/v1/customers", headers=team.headers["admin"],
                      query_string={"q": "New Corner"}).json["items"] == []


def test_an_admin_creates_a_customer_in_the_reps_team(client, visitor, team):
    visitor(team.admin).post("/customers/new", _new(assigned_rep_id=team.other_rep.id))
    api = client.get("/api/v1/customers", headers=team.headers["admin"],
                     query_string={"q": "New Corner"}).json["items"]
    assert [c["team_id"] for c in api] == [team.other_rep.team_id]
