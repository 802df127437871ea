"""Who looked (locations/access.py): every view of a rep's positions by someone else is logged,
and the rep reads the log; a rep's own looks are not logged."""
import pytest

from tests.factories import at

DAY = "2026-11-10"
VIEWS = "/api/v1/users/me/position-views"


@pytest.fixture
def day_out(world, team):
    shop = world.customer(rep=team.rep, name="Shop")
    world.ping(rep=team.rep, at=at(DAY, 9))
    world.task(rep=team.rep, customer=shop, completed_at=at(DAY, 10), latitude=52.0,
               longitude=4.0)
    world.task(rep=team.rep2, completed_at=at(DAY, 10))  # no coordinates: nothing to see
    return shop


def views(client, team, who="rep"):
    response = client.get(VIEWS, headers=team.headers[who])
    assert response.status_code == 200, response.json
    return [(v["what"], v["viewer"]["id"], v["detail"]) for v in response.json["items"]]


def test_a_managers_look_at_a_reps_day_is_logged_for_the_rep(client, team, day_out):
    client.get(f"/api/v1/reps/{team.rep.id}/activity", query_string={"date": DAY},
               headers=team.headers["manager"])

    assert views(client, team) == [("activity", team.manager.id, DAY)]
    assert views(client, team, "rep2") == []


def test_a_day_with_no_position_shown_is_not_a_look_at_positions(client, team, day_out):
    client.get(f"/api/v1/reps/{team.rep.id}/activity", query_string={"date": "2026-11-01"},
               headers=team.headers["manager"])

    assert views(client, team) == []


def test_the_team_map_logs_each_rep_whose_position_it_shows(client, world, team):
    from fieldsales.common import now_ms
    world.ping(rep=team.rep, at=now_ms() - 60_000)

    client.get(f"/api/v1/teams/{team.rep.team_id}/today", headers=team.headers["admin"])

    assert [(what, viewer) for what, viewer, _ in views(client, team)] == [
        ("team_map", team.admin.id)]
    assert views(client, team, "rep2") == []  # no position of theirs was shown


def test_tasks_with_coordinates_log_their_reps_in_lists_exports_and_one_by_one(
        client, world, team, day_out):
    client.get("/api/v1/tasks", headers=team.headers["manager"])
    client.get("/api/v1/tasks", query_string={"format": "csv"},
               headers=team.headers["manager"])
    task_id = client.get("/api/v1/tasks", headers=team.headers["rep"]).json["items"][0]["id"]
    client.get(f"/api/v1/tasks/{task_id}", headers=team.headers["admin"])

    assert views(client, team) == [("tasks", team.admin.id, None),
                                   ("tasks", team.manager.id, None),
                                   ("tasks", team.manager.id, None)]
    assert views(client, team, "rep2") == []


def test_a_reps_own_looks_are_not_logged(client, team, day_out):
    client.get(f"/api/v1/reps/{team.rep.id}/activity", query_string={"date": DAY},
               headers=team.headers["rep"])
    client.get("/api/v1/tasks", headers=team.headers["rep"])

    assert views(client, team) == []
