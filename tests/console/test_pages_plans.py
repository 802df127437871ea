"""The plans page: a rep's planned visits of a day on the map, numbered in order, and the
managers' edits through the same service as /api/v1/planned-visits (plans/editing.py)."""
from datetime import date, timedelta

import pytest

from fieldsales.common import now_ms
from tests.console.test_pages import map_data
from tests.factories import local_day, uid

API = "/api/v1/planned-visits"


def _day(offset: int = 0) -> str:
    return (date.fromisoformat(local_day(now_ms())) + timedelta(days=offset)).isoformat()


@pytest.fixture
def plan(world, team):
    """Three stops of the manager's rep tomorrow (the third skipped), and a customer of the
    rep's not in the plan."""
    names = ("Alpha Foods", "Beta Mart", "Gamma Deli", "Delta Shop")
    customers = [world.customer(id=uid("c"), rep=team.rep, name=name) for name in names]
    day = _day(1)
    stops = [world.planned_visit(id=uid("p"), rep=team.rep, customer=customers[i], day=day,
                                 sequence=i + 1) for i in range(2)]
    stops.append(world.planned_visit(id=uid("p"), rep=team.rep, customer=customers[2],
                                     day=day, sequence=3, status="skipped",
                                     skip_reason="Shop closed"))
    return {"day": day, "customers": customers, "stops": stops}


def _order(client, team, day) -> list[str]:
    items = client.get(API, headers=team.headers["manager"],
                       query_string={"rep_id": team.rep.id, "planned_date": day}).json["items"]
    return [item["id"] for item in items]


def _page(person, team, day):
    return person.get(f"/plans?rep={team.rep.id}&date={day}")


def test_the_plan_shows_numbered_stops_in_order_with_status_on_the_map(client, visitor, team,
                                                                      plan):
    client.patch(f"/api/v1/users/{team.rep.id}", headers=team.headers["admin"],
                 json={"start_latitude": 52.5, "start_longitude": 13.4})
    page = _page(visitor(team.manager), team, plan["day"])
    assert page.status_code == 200
    text = page.text
    assert text.index("Alpha Foods") < text.index("Beta Mart") < text.index("Gamma Deli")
    assert "skipped: Shop closed" in text
    data = map_data(text)["plan"]
    assert data["start"] == {"latitude": 52.5, "longitude": 13.4}
    assert [(s["number"], s["status"]) for s in data["stops"]] == [
        (1, "planned"), (2, "planned"), (3, "skipped")]
    assert data["stops"][0]["label"] == "1. Alpha Foods (planned)"
    # The customer not yet in the plan can be added.
    assert f'<option value="{plan["customers"][3]}">Delta Shop</option>' in text


def test_today_and_the_reps_day_link_to_the_plan(visitor, team):
    manager = visitor(team.manager)
    assert f"/plans?team={team.manager.team_id}&amp;rep={team.rep.id}" in manager.get(
        "/today").text
    assert f"/plans?rep={team.rep.id}" in manager.get(f"/reps/{team.rep.id}/day").text


def test_moving_stops_up_and_down_reorders_the_day_as_the_api_sees_it(client, visitor, team,
                                                                      plan):
    manager = visitor(team.manager)
    first, second, _ = plan["stops"]
    form = f"/plans?rep={team.rep.id}&date={plan['day']}"
    response = manager.post(f"/plans/{second}/change", {"action": "up"}, form_on=form)
    assert response.status_code == 302
    assert _order(client, team, plan["day"])[:2] == [second, first]
    manager.post(f"/plans/{second}/change", {"action": "down"}, form_on=form)
    assert _order(client, team, plan["day"])[:2] == [first, second]
    # The first stop cannot go further up; the page says so.
    refused = manager.post(f"/plans/{first}/change", {"action": "up"}, form_on=form)
    assert refused.status_code == 422 and "already the first of its day" in refused.text


def test_lock_unlock_and_move_to_another_day(client, visitor, team, plan):
    manager = visitor(team.manager)
    first = plan["stops"][0]
    form = f"/plans?rep={team.rep.id}&date={plan['day']}"
    manager.post(f"/plans/{first}/change", {"action": "lock"}, form_on=form)
    assert client.get(f"{API}/{first}", headers=team.headers["manager"]).json["locked"] is True
    manager.post(f"/plans/{first}/change", {"action": "unlock"}, form_on=form)
    assert client.get(f"{API}/{first}", headers=team.headers["manager"]).json["locked"] is False
    moved = manager.post(f"/plans/{first}/change", {"action": "move",
                                                    "planned_date": _day(2)}, form_on=form)
    assert moved.status_code == 302
    assert client.get(f"{API}/{first}",
                      headers=team.headers["manager"]).json["planned_date"] == _day(2)


@pytest.mark.parametrize("typed, message", [
    ("", "Pick the day to move the stop to."),
    ("tomorrow", "Not a valid date."),
    ("2020-01-01", "Must be from the rep"),
    ("2099-01-01", "Must be from the rep"),
])
def test_a_bad_day_is_shown_next_to_the_field_with_what_was_typed(client, visitor, team, plan,
                                                                   typed, message):
    first = plan["stops"][0]
    response = visitor(team.manager).post(
        f"/plans/{first}/change", {"action": "move", "planned_date": typed,
                                   "back_date": plan["day"]},
        form_on=f"/plans?rep={team.rep.id}&date={plan['day']}")
    assert response.status_code == 422
    assert 'id="planned_date-error"' in response.text and message in response.text
    assert f'id="planned_date-{first}" name="planned_date" type="date" value="{typed}"' in (
        response.text)
    assert client.get(f"{API}/{first}",
                      headers=team.headers["manager"]).json["planned_date"] == plan["day"]


def test_a_stop_no_longer_planned_does_not_move_and_an_unknown_action_is_refused(visitor,
                                                                                team, plan):
    manager = visitor(team.manager)
    skipped = plan["stops"][2]
    form = f"/plans?rep={team.rep.id}&date={plan['day']}"
    refused = manager.post(f"/plans/{skipped}/change", {"action": "move",
                                                        "planned_date": _day(2)}, form_on=form)
    assert refused.status_code == 422 and "This planned visit is skipped" in refused.text
    odd = manager.post(f"/plans/{skipped}/change", {"action": "teleport"}, form_on=form)
    assert odd.status_code == 422 and "The action must be one of" in odd.text
    assert "Gamma Deli" in odd.text and "skipped: Shop closed" in odd.text


def test_remove_a_stop_but_never_a_done_one(client, visitor, team, world, plan):
    manager = visitor(team.manager)
    form = f"/plans?rep={team.rep.id}&date={plan['day']}"
    first = plan["stops"][0]
    assert manager.post(f"/plans/{first}/remove", form_on=form).status_code == 302
    assert first not in _order(client, team, plan["day"])
    done = world.planned_visit(id=uid("p"), rep=team.rep, customer=plan["customers"][3],
                               day=plan["day"], sequence=9, status="done")
    refused = manager.post(f"/plans/{done}/remove", form_on=form)
    assert refused.status_code == 409 and "This planned visit is done" in refused.text
    assert done in _order(client, team, plan["day"])


def test_add_a_customer_to_the_day_after_its_last_stop(client, visitor, team, plan):
    delta = plan["customers"][3]
    response = visitor(team.manager).post("/plans/add", {
        "rep_id": team.rep.id, "customer_id": delta, "planned_date": plan["day"]},
        form_on=f"/plans?rep={team.rep.id}&date={plan['day']}")
    assert response.status_code == 302
    items = client.get(API, headers=team.headers["manager"], query_string={
        "rep_id": team.rep.id, "planned_date": plan["day"]}).json["items"]
    assert (items[-1]["customer_id"], items[-1]["sequence"], items[-1]["reason"],
            items[-1]["locked"]) == (delta, 4, "manual", True)


def test_bad_input_on_the_add_form_is_shown_next_to_its_field(visitor, team, world, plan):
    manager = visitor(team.manager)
    form = f"/plans?rep={team.rep.id}&date={plan['day']}"
    missing = manager.post("/plans/add", {"rep_id": team.rep.id, "planned_date": plan["day"]},
                           form_on=form)
    assert missing.status_code == 422
    assert 'id="customer_id-error"' in missing.text
    teammates = world.customer(id=uid("c"), rep=team.rep2)
    wrong = manager.post("/plans/add", {"rep_id": team.rep.id, "customer_id": teammates,
                                        "planned_date": "2020-01-01"}, form_on=form)
    assert wrong.status_code == 422
    assert "This customer is not assigned to the rep." in wrong.text
    assert 'value="2020-01-01"' in wrong.text


def test_another_teams_stop_is_404_and_a_post_without_the_token_is_refused(visitor, team,
                                                                          plan):
    first = plan["stops"][0]
    other = visitor(team.other_manager)
    assert other.post(f"/plans/{first}/remove", form_on="/plans").status_code == 404
    assert other.get(f"/plans?rep={team.rep.id}").status_code == 404
    manager = visitor(team.manager)
    assert manager.post(f"/plans/{first}/remove", csrf=False).status_code == 400


def test_the_reps_day_shows_how_the_plan_was_kept(client, visitor, team, world):
    """The compliance the report computes (plans/compliance.py), as GET /reps/<id>/activity."""
    today = _day(0)
    shop = world.customer(id=uid("c"), rep=team.rep, name="Omega Store")
    world.planned_visit(id=uid("p"), rep=team.rep, customer=shop, day=today, sequence=1,
                        status="skipped", skip_reason="Owner away")
    world.planned_visit(id=uid("p"), rep=team.rep, customer=shop, day=today, sequence=2,
                        status="missed")
    api = client.get(f"/api/v1/reps/{team.rep.id}/activity", headers=team.headers["manager"],
                     query_string={"date": today}).json["plan"]
    page = visitor(team.manager).get(f"/reps/{team.rep.id}/day?date={today}").text
    assert f"<strong>{api['done']}</strong> of {api['planned']} planned visits done" in page
    assert "<strong>1</strong> missed · <strong>1</strong> skipped" in page
    assert "Skipped Omega Store: Owner away" in page
    assert f"/plans?rep={team.rep.id}&amp;date={today}" in page
    assert "See and change the plan" not in visitor(team.rep).get("/me").text
