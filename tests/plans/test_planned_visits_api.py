"""Planned visits REST: managers add, move, lock and remove their reps' stops; everyone lists
what their scope allows (pages, sorts, CSV); removals reach the rep's version-2 phone."""
from datetime import date, timedelta

import pytest

from fieldsales.common import now_ms
from fieldsales.extensions import db
from fieldsales.plans.models import PlannedVisit
from fieldsales.users.models import Team
from tests.factories import Phone, local_day, uid
from tests.factories import ids as pulled_ids
from tests.list_checks import (
    assert_csv_is_the_json,
    assert_unknown_sort_is_422,
    assert_walk_in_order,
    walk,
)

URL = "/api/v1/planned-visits"


def _day(offset: int = 0) -> str:
    return (date.fromisoformat(local_day(now_ms())) + timedelta(days=offset)).isoformat()


@pytest.fixture
def customers(world, team):
    """The rep's customer, a teammate's (rep2), and another team's."""
    return {"mine": world.customer(id=uid("c"), rep=team.rep),
            "teammate": world.customer(id=uid("c"), rep=team.rep2),
            "other": world.customer(id=uid("c"), rep=team.other_rep)}


@pytest.fixture
def create(client, team, customers):
    def do(as_="manager", expect=201, **overrides):
        data = {"rep_id": team.rep.id, "customer_id": customers["mine"],
                "planned_date": _day(1), **overrides}
        response = client.post(URL, json=data, headers=team.headers[as_])
        assert response.status_code == expect, response.json
        return response.json
    return do


def test_a_manager_adds_a_manual_locked_stop_to_their_reps_day(client, team, create,
                                                               customers):
    planned = create(sequence=3, planned_arrival_at=1_900_000_000_000, planned_duration_s=1200)
    assert {k: planned[k] for k in ("rep_id", "customer_id", "planned_date", "sequence",
                                    "planned_arrival_at", "planned_duration_s", "reason",
                                    "status", "skip_reason", "visit_id", "locked",
                                    "created_by_id", "deleted_at")} == {
        "rep_id": team.rep.id, "customer_id": customers["mine"], "planned_date": _day(1),
        "sequence": 3, "planned_arrival_at": 1_900_000_000_000, "planned_duration_s": 1200,
        "reason": "manual", "status": "planned", "skip_reason": None, "visit_id": None,
        "locked": True, "created_by_id": team.manager.id, "deleted_at": None}
    assert client.get(f"{URL}/{planned['id']}", headers=team.headers["rep"]).json == planned


def test_a_stop_may_be_planned_up_to_14_days_ahead(create):
    assert create(planned_date=_day(14))["planned_date"] == _day(14)


def test_without_a_sequence_a_stop_comes_after_the_days_last(create):
    assert create(sequence=4)["sequence"] == 4
    assert create()["sequence"] == 5
    assert create(planned_date=_day(2))["sequence"] == 1


def test_an_admin_may_plan_any_rep_with_a_client_id_once(create, team, customers):
    planned = create(as_="admin", id="pv-1", rep_id=team.other_rep.id,
                     customer_id=customers["other"], locked=False)
    assert planned["id"] == "pv-1" and planned["locked"] is False
    again = create(as_="admin", id="pv-1", rep_id=team.other_rep.id,
                   customer_id=customers["other"], expect=409)
    assert again["error"]["code"] == "duplicate_id"


@pytest.mark.parametrize("overrides, field", [
    ({"rep_id": "other_rep"}, "rep_id"),  # another team's rep
    ({"rep_id": "no-such-rep"}, "rep_id"),
    ({"customer_id": "other"}, "customer_id"),  # another team's customer
    ({"customer_id": "teammate"}, "customer_id"),  # visible, but not the rep's
    ({"customer_id": "no-such-customer"}, "customer_id"),
    ({"planned_date": "yesterday"}, "planned_date"),
    ({"planned_date": "in 15 days"}, "planned_date"),  # beyond what the phone holds
    ({"planned_date": "2026-02-30"}, "planned_date"),
    ({"sequence": 0}, "sequence"),
    ({"sequence": "1"}, "sequence"),
    ({"planned_duration_s": -1}, "planned_duration_s"),
    ({"locked": "yes"}, "locked"),
    ({"reason": "cadence"}, "reason"),  # a manager's stop is manual
])
def test_a_stop_the_manager_may_not_plan_is_422_naming_the_field(create, team, customers,
                                                                 overrides, field):
    resolved = {**overrides}
    if overrides.get("rep_id") == "other_rep":
        resolved["rep_id"] = team.other_rep.id
    if overrides.get("customer_id") in customers:
        resolved["customer_id"] = customers[overrides["customer_id"]]
    if overrides.get("planned_date") == "yesterday":
        resolved["planned_date"] = _day(-1)
    if overrides.get("planned_date") == "in 15 days":
        resolved["planned_date"] = _day(15)
    body = create(expect=422, **resolved)
    assert field in body["error"]["details"]


def test_the_day_is_the_reps_local_day(app, create, team):
    zone = "Pacific/Kiritimati"  # UTC+14
    with app.app_context():
        db.session.get(Team, team.rep.team_id).time_zone = zone
        db.session.commit()
    today = local_day(now_ms(), zone)
    yesterday = (date.fromisoformat(today) - timedelta(days=1)).isoformat()
    assert create(planned_date=today)["planned_date"] == today
    assert "planned_date" in create(planned_date=yesterday, expect=422)["error"]["details"]


def test_a_manager_moves_a_stop_and_locks_or_unlocks_it(client, team, create):
    planned = create()
    response = client.patch(f"{URL}/{planned['id']}", headers=team.headers["manager"], json={
        "planned_date": _day(3), "sequence": 2, "planned_arrival_at": None, "locked": False})
    assert response.status_code == 200, response.json
    assert [response.json[k] for k in ("planned_date", "sequence", "locked", "reason")] == [
        _day(3), 2, False, "manual"]
    back = client.patch(f"{URL}/{planned['id']}", headers=team.headers["manager"],
                        json={"planned_date": _day(-1)})
    assert back.status_code == 422 and "planned_date" in back.json["error"]["details"]
    for field in ("status", "rep_id", "customer_id", "reason", "visit_id"):
        odd = client.patch(f"{URL}/{planned['id']}", headers=team.headers["manager"],
                           json={field: "done"})
        assert odd.status_code == 422 and field in odd.json["error"]["details"]


@pytest.mark.parametrize("status", ["done", "missed", "skipped"])
def test_a_stop_no_longer_planned_does_not_move_but_may_be_unlocked(app, client, team, create,
                                                                     status):
    planned = create()
    with app.app_context():
        db.session.get(PlannedVisit, planned["id"]).status = status
        db.session.commit()
    url = f"{URL}/{planned['id']}"
    moved = client.patch(url, headers=team.headers["manager"], json={"sequence": 9})
    assert moved.status_code == 409 and moved.json["error"]["code"] == "planned_visit_closed"
    unlocked = client.patch(url, headers=team.headers["manager"], json={"locked": False})
    assert unlocked.status_code == 200 and unlocked.json["locked"] is False


def test_a_removal_is_soft_and_reaches_the_reps_version_2_pull_as_deleted(client, team,
                                                                         create):
    planned = create()
    phone = Phone(client, team.headers["rep"])
    assert pulled_ids(phone.pull(schema_version=2), "planned_visits", "created") == {
        planned["id"]}
    response = client.delete(f"{URL}/{planned['id']}", headers=team.headers["manager"])
    assert response.status_code == 204
    assert client.get(f"{URL}/{planned['id']}", headers=team.headers["manager"]).status_code \
        == 404
    assert phone.pull(schema_version=2)["changes"]["planned_visits"]["deleted"] == [
        planned["id"]]


def test_a_done_stop_is_not_removed(app, client, team, create):
    planned = create()
    with app.app_context():
        db.session.get(PlannedVisit, planned["id"]).status = "done"
        db.session.commit()
    response = client.delete(f"{URL}/{planned['id']}", headers=team.headers["manager"])
    assert response.status_code == 409 and response.json["error"]["code"] == "planned_visit_closed"


def test_another_teams_stop_is_not_found_for_a_manager_and_a_rep_sees_only_theirs(
        client, team, create, customers):
    mine = create()
    other = create(as_="admin", rep_id=team.other_rep.id, customer_id=customers["other"])
    for method in ("get", "patch", "delete"):
        response = getattr(client, method)(f"{URL}/{other['id']}",
                                           headers=team.headers["manager"], json={})
        assert response.status_code == 404
    assert client.get(f"{URL}/{other['id']}", headers=team.headers["rep"]).status_code == 404
    assert client.get(f"{URL}/{mine['id']}", headers=team.headers["rep2"]).status_code == 404


@pytest.fixture
def plans(world, team, customers):
    """Six stops: four of rep over three days, one of rep2, one of other_rep."""
    made = {}
    for key, rep, customer, offset, sequence in (
            ("a", team.rep, customers["mine"], 1, 2), ("b", team.rep, customers["mine"], 1, 1),
            ("c", team.rep, customers["mine"], 2, 1), ("d", team.rep, customers["mine"], 0, 3),
            ("e", team.rep2, customers["teammate"], 1, 1),
            ("f", team.other_rep, customers["other"], 1, 1)):
        made[key] = world.planned_visit(id=uid("pv"), rep=rep, customer=customer,
                                        day=_day(offset), sequence=sequence)
    return made


def test_the_list_by_rep_and_day_or_range_in_the_callers_scope(client, team, plans):
    def listed(as_, **params):
        response = client.get(URL, query_string=params, headers=team.headers[as_])
        assert response.status_code == 200, response.json
        return [item["id"] for item in response.json["items"]]

    p = plans
    assert listed("manager", rep_id=team.rep.id, planned_date=_day(1)) == [p["b"], p["a"]]
    assert listed("manager", rep_id=team.rep.id, date_from=_day(1), date_to=_day(2)) == [
        p["b"], p["a"], p["c"]]
    assert set(listed("manager")) == {p[k] for k in "abcde"}
    assert set(listed("rep")) == {p[k] for k in "abcd"}
    assert listed("rep", rep_id=team.rep2.id) == []
    assert set(listed("admin")) == set(p.values())
    assert listed("other_manager") == [p["f"]]
    assert client.get(URL, headers=team.headers["procurement"]).status_code == 403


@pytest.mark.parametrize("sort, key", [
    ("route", lambda v: (v["planned_date"], v["sequence"])),
    ("-route", lambda v: (v["planned_date"], v["sequence"])),
    ("sequence", lambda v: v["sequence"]),
    ("planned_date", lambda v: v["planned_date"]),
    ("-status", lambda v: v["status"]),
])
def test_a_walk_in_each_sort_loses_and_repeats_nothing(client, team, plans, sort, key):
    items = walk(client, URL, headers=team.headers["admin"], sort=sort, limit=2)
    assert_walk_in_order(items, ids=set(plans.values()), sort=sort, key=key)


def test_the_csv_export_is_the_json_pages(client, team, plans):
    rows = assert_csv_is_the_json(client, URL, headers=team.headers["manager"],
                                  rep_id=team.rep.id)
    assert len(rows) == 4
    assert_unknown_sort_is_422(client, URL, headers=team.headers["manager"], field="rep_id")
