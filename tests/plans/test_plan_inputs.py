"""Journey plan inputs: a customer's cadence and opening hours, a rep's start point (REST,
strict), the cadence rule, and phones on sync schema 1 seeing the same customer columns."""
import pytest

from fieldsales.customers import visiting
from fieldsales.customers.models import Customer
from fieldsales.extensions import db
from fieldsales.users.models import Team
from tests.factories import Phone

CUSTOMERS = "/api/v1/customers"


def customer_body(**overrides):
    return {"name": "Padaria", "latitude": 38.71, "longitude": -9.13, **overrides}


class TestCustomerInputs:
    def test_cadence_and_opening_hours_are_stored_and_answered(self, client, team):
        made = client.post(CUSTOMERS, json=customer_body(
            visit_cadence_days=7, opens_at="08:30", closes_at="13:00"),
            headers=team.headers["manager"])
        assert made.status_code == 201, made.json
        assert (made.json["visit_cadence_days"], made.json["opens_at"],
                made.json["closes_at"]) == (7, "08:30", "13:00")
        changed = client.patch(f"{CUSTOMERS}/{made.json['id']}",
                               json={"closes_at": "24:00", "visit_cadence_days": None},
                               headers=team.headers["manager"])
        assert changed.status_code == 200
        assert changed.json["closes_at"] == "24:00" and changed.json["visit_cadence_days"] is None

    @pytest.mark.parametrize("field, value", [
        ("opens_at", "8:30"), ("opens_at", "25:00"), ("closes_at", "12:60"),
        ("opens_at", 830), ("closes_at", "noon"), ("visit_cadence_days", 0),
        ("visit_cadence_days", 366),
    ])
    def test_bad_values_are_422_naming_the_field(self, client, team, field, value):
        response = client.post(CUSTOMERS, json=customer_body(**{field: value}),
                               headers=team.headers["admin"])
        assert response.status_code == 422
        assert field in response.json["error"]["details"]

    def test_closing_before_opening_is_422_on_create_and_against_the_stored_hours(
            self, client, team):
        response = client.post(CUSTOMERS, json=customer_body(opens_at="14:00",
                                                              closes_at="09:00"),
                               headers=team.headers["admin"])
        assert response.status_code == 422 and "closes_at" in response.json["error"]["details"]
        made = client.post(CUSTOMERS, json=customer_body(opens_at="09:00", closes_at="12:00"),
                           headers=team.headers["admin"]).json
        response = client.patch(f"{CUSTOMERS}/{made['id']}", json={"opens_at": "12:30"},
                                headers=team.headers["admin"])
        assert response.status_code == 422 and "opens_at" in response.json["error"]["details"]


class TestRepStartPoint:
    def test_admin_sets_and_clears_a_reps_start_point(self, client, team):
        url = f"/api/v1/users/{team.rep.id}"
        response = client.patch(url, json={"start_latitude": 38.7, "start_longitude": -9.2},
                                headers=team.headers["admin"])
        assert response.status_code == 200
        assert (response.json["start_latitude"], response.json["start_longitude"]) == (38.7, -9.2)
        response = client.patch(url, json={"start_latitude": None, "start_longitude": None},
                                headers=team.headers["admin"])
        assert response.json["start_latitude"] is None

    def test_a_new_rep_may_come_with_a_start_point(self, client, team):
        response = client.post("/api/v1/users", json={
            "email": "new.rep@example.com", "password": "long enough", "name": "New Rep",
            "role": "rep", "manager_id": team.manager.id, "start_latitude": 38.7,
            "start_longitude": -9.1}, headers=team.headers["admin"])
        assert response.status_code == 201 and response.json["start_longitude"] == -9.1

    @pytest.mark.parametrize("changes, field", [
        ({"start_latitude": 38.7}, "start_longitude"),
        ({"start_longitude": -9.1}, "start_latitude"),
        ({"start_latitude": 91, "start_longitude": 0}, "start_latitude"),
        ({"start_latitude": 0, "start_longitude": "west"}, "start_longitude"),
        ({"start_latitude": None, "start_longitude": 3.0}, "start_latitude"),
    ])
    def test_half_or_bad_start_points_are_422_naming_the_field(self, client, team, changes,
                                                               field):
        response = client.patch(f"/api/v1/users/{team.rep.id}", json=changes,
                                headers=team.headers["admin"])
        assert response.status_code == 422
        assert field in response.json["error"]["details"]

    def test_only_reps_have_a_start_point(self, client, team):
        response = client.patch(f"/api/v1/users/{team.manager.id}",
                                json={"start_latitude": 1.0, "start_longitude": 2.0},
                                headers=team.headers["admin"])
        assert response.status_code == 422
        assert "start_latitude" in response.json["error"]["details"]


class TestCadenceRule:
    def test_own_then_kind_and_segment_then_kind_then_team(self, app, world, team,
                                                           monkeypatch):
        monkeypatch.setitem(app.config, "VISIT_CADENCE_DAYS",
                            {"account:key": 7, "prospect": 30})
        made = {
            "own": world.customer(rep=team.rep, visit_cadence_days=3, segment="Key"),
            "segment": world.customer(rep=team.rep, segment="KEY"),
            "kind": world.customer(rep=team.rep, kind="prospect", segment="key"),
            "team": world.customer(rep=team.rep, segment="grocery"),
        }
        with app.app_context():
            db.session.get(Team, team.rep.team_id).visit_cadence_days = 10
            db.session.commit()
            found = dict(db.session.execute(
                db.select(Customer.id, visiting.cadence_days(
                    team_cadence=Team.visit_cadence_days))
                .join(Team, Team.id == Customer.team_id)).tuples().all())
        assert {name: found[row] for name, row in made.items()} == {
            "own": 3, "segment": 7, "kind": 30, "team": 10}


def test_phones_on_schema_1_pull_the_same_customer_columns(client, team, world):
    world.customer(rep=team.rep, opens_at="09:00", closes_at="17:00")
    pulled = Phone(client, team.headers["rep"]).pull(schema_version=1)
    (row,) = pulled["changes"]["customers"]["created"]
    assert set(row) == {"id", "name", "address", "latitude", "longitude", "geofence_radius_m",
                        "segment", "phone", "kind"}
