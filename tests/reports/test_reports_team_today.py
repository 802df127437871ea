"""Where a team is now (reports/team_today.py), at a fixed instant: Tuesday 2024-03-05 at
11:00 UTC, inside the team's working hours (06-20 UTC)."""
import pytest

from fieldsales.common import DAY_MS, HOUR_MS, now_ms
from fieldsales.extensions import db
from fieldsales.reports import team_today
from fieldsales.users.models import Team
from fieldsales.visits.models import Visit
from tests.factories import at, working_hours

NOW = at("2024-03-05", 11)


@pytest.fixture(autouse=True)
def daytime(app, team):
    working_hours(app, team.manager.team_id, start="06:00", end="20:00")


def today(app, team, now=NOW):
    with app.app_context():
        report = team_today.get(viewer=team.manager,
                                team=db.session.get(Team, team.manager.team_id), now=now)
    return {row["rep"]["id"]: row for row in report["reps"]}, report["counts"]


def test_each_rep_has_a_status_from_their_newest_on_duty_ping_and_open_visit(
        app, team, world, make_user):
    rep3 = make_user("rep", manager=team.manager)
    rep4 = make_user("rep", manager=team.manager)
    shop = world.customer(rep=team.rep, name="Shop")
    world.ping(rep=team.rep, at=at("2024-03-05", 10, 40))
    world.add(Visit, rep_id=team.rep.id, customer_id=shop,
              check_in_at=at("2024-03-05", 10, 45), check_in_latitude=52.0,
              check_in_longitude=4.0)  # checked in, not out: on the visit now
    world.ping(rep=team.rep2, at=at("2024-03-05", 10, 58), speed_mps=12.0, lat=52.1)
    world.ping(rep=rep3, at=at("2024-03-05", 10, 30))  # 30 min ago: silent
    world.ping(rep=rep3, at=at("2024-03-05", 10, 59), flags="inaccurate")  # never a position
    world.ping(rep=rep4, at=at("2024-03-05", 10, 55), speed_mps=0.2)
    world.ping(rep=team.other_rep, at=at("2024-03-05", 10, 59))  # another team
    rows, counts = today(app, team)
    assert set(rows) == {team.rep.id, team.rep2.id, rep3.id, rep4.id}
    assert rows[team.rep.id]["status"] == "on_visit"
    assert rows[team.rep.id]["customer"] == {"id": shop, "name": "Shop"}
    assert rows[team.rep.id]["since"] == at("2024-03-05", 10, 45)
    assert rows[team.rep2.id]["status"] == "travelling"
    assert rows[team.rep2.id]["position"]["latitude"] == 52.1
    assert (rows[rep3.id]["status"], rows[rep3.id]["silent_minutes"]) == ("silent", 30)
    assert rows[rep3.id]["position"]["recorded_at"] == at("2024-03-05", 10, 30)
    assert rows[rep4.id]["status"] == "idle"
    assert counts == {"on_visit": 1, "travelling": 1, "idle": 1, "silent": 1, "off_duty": 0}


def test_off_duty_shows_the_last_working_hours_position_and_never_one_outside_them(
        app, team, world):
    world.ping(rep=team.rep, at=at("2024-03-04", 17))  # yesterday, on duty
    world.ping(rep=team.rep, at=at("2024-03-04", 21))  # yesterday evening: private
    world.ping(rep=team.rep2, at=at("2024-03-05", 5))  # before work today: private
    rows, counts = today(app, team)
    assert rows[team.rep.id]["status"] == "off_duty"
    assert rows[team.rep.id]["position"]["recorded_at"] == at("2024-03-04", 17)
    assert (rows[team.rep2.id]["status"], rows[team.rep2.id]["position"]) == ("off_duty", None)
    # After hours everybody is off duty, wherever their last on-duty ping was.
    world.ping(rep=team.rep2, at=at("2024-03-05", 19, 50))
    rows, _ = today(app, team, now=at("2024-03-05", 20, 30))
    assert rows[team.rep2.id]["status"] == "off_duty"
    assert rows[team.rep2.id]["position"]["recorded_at"] == at("2024-03-05", 19, 50)


def test_positions_older_than_the_look_back_are_not_shown(app, team, world):
    world.ping(rep=team.rep, at=at("2024-02-20", 12))
    rows, _ = today(app, team)
    assert rows[team.rep.id]["position"] is None



def test_the_api_answers_the_same_for_the_managers_team_only(client, team, world):
    world.ping(rep=team.rep, at=now_ms() - now_ms() % DAY_MS - 12 * HOUR_MS)
    path = f"/api/v1/teams/{team.manager.team_id}/today"
    body = client.get(path, headers=team.headers["manager"]).json
    assert {r["rep"]["id"] for r in body["reps"]} == {team.rep.id, team.rep2.id}
    mine = next(r for r in body["reps"] if r["rep"]["id"] == team.rep.id)
    assert mine["position"]["latitude"] == 52.0 and mine["status"] in team_today.STATUSES
    assert sum(body["counts"].values()) == 2
    assert client.get(path, headers=team.headers["other_manager"]).status_code == 404
    assert client.get(path, headers=team.headers["rep"]).status_code == 403
