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
