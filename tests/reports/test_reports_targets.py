"""Targets: managers set them for their team, everyone in scope reads attainment and pace.

The world: the week of Monday 2024-03-04 (long past, so attainment is final and pace equals
attainment). Counted by hand:
- rep visits in the week: A (verified), B (unverified), C (verified) -> 3 visits, 2 verified;
  a removed visit, a visit on Sunday before and one on the next Monday do not count.
  New prospects visited (verified visits only): C (A had ordered before the week, B's visit
  is unverified; C counts though it orders during the week) -> 1.
- rep2 visits B (verified) -> team: 4 visits, 3 verified, new prospects B and C -> 2.
- orders: rep at C 2x10 + 1x5 = 25; rep's cancelled order of 100 does not count;
  rep2 at A 3x10 = 30 -> rep 1 order / 25, team 2 orders / 55.
- tasks done in the week: rep 2 (one more done the week before, one still open), rep2 1.
- other_rep (another team) has 2 visits in the week that never count.
"""
import csv
import io
from datetime import UTC

import pytest

from tests.factories import at

WEEK = "2024-03-04"


@pytest.fixture
def past_week(world, team):
    a = world.customer(team=team.manager, rep=team.rep, name="A")
    b = world.customer(team=team.manager, rep=team.rep, name="B", kind="prospect")
    c = world.customer(team=team.manager, rep=team.rep, name="C", kind="prospect")
    product = world.product(sku="P1")
    world.order(rep=team.rep, customer=a, at=at("2024-02-01", 10), lines=[(product, 1, 10)],
                status="delivered")
    world.visit(rep=team.rep, customer=a, at=at(WEEK, 9))
    world.visit(rep=team.rep, customer=b, at=at("2024-03-05", 9), verified=False)
    world.visit(rep=team.rep, customer=c, at=at("2024-03-06", 9))
    world.visit(rep=team.rep, customer=c, at=at("2024-03-06", 11), deleted_at=1)
    world.visit(rep=team.rep, customer=a, at=at("2024-03-03", 23))
    world.visit(rep=team.rep, customer=a, at=at("2024-03-11", 0))
    world.visit(rep=team.rep2, customer=b, at=at("2024-03-07", 9))
    other = world.customer(team=team.other_manager, rep=team.other_rep, name="O")
    world.visit(rep=team.other_rep, customer=other, at=at("2024-03-07", 9))
    world.visit(rep=team.other_rep, customer=other, at=at("2024-03-08", 9))
    world.order(rep=team.rep, customer=c, at=at("2024-03-06", 9, 20),
                lines=[(product, 2, 10), (product, 1, 5)])
    world.order(rep=team.rep, customer=a, at=at("2024-03-06", 12), lines=[(product, 10, 10)],
                status="cancelled")
    world.order(rep=team.rep2, customer=a, at=at("2024-03-08", 12), lines=[(product, 3, 10)])
    world.task(rep=team.rep, completed_at=at(WEEK, 15))
    world.task(rep=team.rep, completed_at=at("2024-03-10", 23, 59), category="admin")
    world.task(rep=team.rep, completed_at=at("2024-03-01", 15))
    world.task(rep=team.rep, status="open")
    world.task(rep=team.rep2, completed_at=at("2024-03-09", 10))


def create(client, headers, **body):
    body = {"period": "week", "period_start": WEEK, **body}
    return client.post("/api/v1/targets", json=body, headers=headers)


@pytest.mark.parametrize("metric, owner, goal, actual", [
    ("visits", "rep", 6, 3),
    ("verified_visits", "rep", 4, 2),
    ("new_prospects_visited", "rep", 4, 1),
    ("orders", "rep", 2, 1),
    ("order_value", "rep", 50, 25),
    ("tasks_done", "rep", 4, 2),
    ("visits", "team", 8, 4),
    ("verified_visits", "team", 4, 3),
    ("new_prospects_visited", "team", 4, 2),
    ("orders", "team", 4, 2),
    ("order_value", "team", 110, 55),
    ("tasks_done", "team", 6, 3),
])
def test_attainment_counts_the_period_for_the_rep_or_the_whole_team(
        client, team, past_week, metric, owner, goal, actual):
    body = {"metric": metric, "goal": goal}
    if owner == "rep":
        body["rep_id"] = team.rep.id
    response = create(client, team.headers["manager"], **body)
    assert response.status_code == 201, response.json
    target = response.json
    assert target["team_id"] == team.manager.team_id
    assert target["actual"] == actual
    assert target["attainment"] == pytest.approx(actual / goal)
    # The week is over: the projection is what happened.
    assert target["elapsed_share"] == 1
    assert target["projected"] == actual and target["pace"] == pytest.approx(actual / goal)
    assert target["period_start"] == WEEK
    assert target["ends_at"] - target["starts_at"] == 7 * 86_400_000


def test_pace_projects_the_current_period_and_is_null_before_it_starts(
        client, team, world, time_machine):
    from datetime import datetime, timedelta

    from fieldsales.targets.periods import utc_today
    # At noon, half of the day is gone (minutes after midnight, 2 visits would project to
    # hundreds, and the rounded share would carry the projection away from 2 / share).
    time_machine.move_to(datetime(2026, 3, 4, 12, tzinfo=UTC))
    customer = world.customer(team=team.manager, rep=team.rep)
    today = utc_today()
    world.visit(rep=team.rep, customer=customer, at=at(today.isoformat(), 0, 0, 1))
    world.visit(rep=team.rep, customer=customer, at=at(today.isoformat(), 0, 0, 2))
    now = create(client, team.headers["manager"], rep_id=team.rep.id, metric="visits", goal=4,
                 period="day", period_start=today.isoformat()).json
    assert now["actual"] == 2 and now["attainment"] == 0.5
    assert 0 < now["elapsed_share"] <= 1
    # Figures are rounded: projected to 2 decimals, shares to 4.
    assert now["projected"] == pytest.approx(2 / now["elapsed_share"], rel=1e-3, abs=0.01)
    assert now["pace"] == pytest.approx(now["projected"] / 4, rel=1e-3, abs=0.005)
    later = create(client, team.headers["manager"], rep_id=team.rep.id, metric="visits", goal=4,
                   period="day", period_start=(today + timedelta(days=2)).isoformat()).json
    assert later["actual"] == 0 and later["elapsed_share"] == 0
    assert later["projected"] is None and later["pace"] is None


def test_periods_must_start_on_their_first_day(client, team):
    for period, start, aligned in [("week", "2024-03-06", "2024-03-04"),
                                   ("month", "2024-03-04", "2024-03-01"),
                                   ("quarter", "2024-05-01", "2024-04-01")]:
        response = create(client, team.headers["manager"], metric="visits", goal=1,
                          period=period, period_start=start)
        assert response.status_code == 422
        assert aligned in response.json["error"]["details"]["period_start"][0]
    quarter = create(client, team.headers["manager"], metric="visits", goal=1, period="quarter",
                     period_start="2024-10-01").json
    assert quarter["ends_at"] - quarter["starts_at"] == 92 * 86_400_000


def test_one_target_per_owner_metric_and_period(client, team):
    assert create(client, team.headers["manager"], metric="visits", goal=5).status_code == 201
    again = create(client, team.headers["manager"], metric="visits", goal=6)
    assert again.status_code == 409 and again.json["error"]["code"] == "duplicate_target"
    for_rep = create(client, team.headers["manager"], metric="visits", goal=6, rep_id=team.rep.id)
    assert for_rep.status_code == 201


def test_managers_set_targets_for_their_own_team_only(client, team):
    assert create(client, team.headers["manager"], metric="visits", goal=1,
                  rep_id=team.other_rep.id).status_code == 422
    assert create(client, team.headers["manager"], metric="visits", goal=1,
                  team_id=team.other_manager.team_id).status_code == 403
    assert create(client, team.headers["rep"], metric="visits", goal=1).status_code == 403
    assert create(client, team.headers["procurement"], metric="visits", goal=1).status_code == 403
    admin = create(client, team.headers["admin"], metric="visits", goal=1, rep_id=team.other_rep.id)
    assert admin.status_code == 201 and admin.json["team_id"] == team.other_manager.team_id
    assert create(client, team.headers["admin"], metric="visits", goal=2).status_code == 422


def test_each_role_reads_only_the_targets_in_its_scope(client, team):
    team_wide = create(client, team.headers["manager"], metric="visits", goal=10).json["id"]
    mine = create(client, team.headers["manager"], metric="visits", goal=5,
                  rep_id=team.rep.id).json["id"]
    rep2s = create(client, team.headers["manager"], metric="visits", goal=5,
                   rep_id=team.rep2.id).json["id"]
    other = create(client, team.headers["other_manager"], metric="visits", goal=5).json["id"]

    def ids(role, query=""):
        response = client.get(f"/api/v1/targets{query}", headers=team.headers[role])
        assert response.status_code == 200, response.json
        return {item["id"] for item in response.json["items"]}

    assert ids("admin") == {team_wide, mine, rep2s, other}
    assert ids("manager") == {team_wide, mine, rep2s}
    assert ids("rep") == {team_wide, mine}
    assert ids("other_manager") == {other}
    assert ids("manager", f"?rep_id={team.rep.id}") == {mine}
    assert ids("manager", "?team_wide=true") == {team_wide}
    assert ids("admin", f"?team_id={team.other_manager.team_id}") == {other}
    assert ids("manager", "?active_on=2024-03-10") == {team_wide, mine, rep2s}
    assert ids("manager", "?active_on=2024-03-11") == set()
    assert client.get("/api/v1/targets", headers=team.headers["procurement"]).status_code == 403
    assert client.get(f"/api/v1/targets/{other}",
                      headers=team.headers["manager"]).status_code == 404
    assert client.get(f"/api/v1/targets/{rep2s}", headers=team.headers["rep"]).status_code == 404
    assert client.get(f"/api/v1/targets/{mine}", headers=team.headers["rep"]).status_code == 200
    assert client.patch(f"/api/v1/targets/{other}", json={"goal": 1},
                        headers=team.headers["manager"]).status_code == 404
    assert client.delete(f"/api/v1/targets/{other}",
                         headers=team.headers["manager"]).status_code == 404


def test_patch_changes_the_goal_and_delete_removes(client, team, past_week):
    target = create(client, team.headers["manager"], metric="visits", goal=6,
                    rep_id=team.rep.id).json
    changed = client.patch(f"/api/v1/targets/{target['id']}", json={"goal": 3},
                           headers=team.headers["manager"])
    assert changed.status_code == 200 and changed.json["attainment"] == 1.0
    moved = client.patch(f"/api/v1/targets/{target['id']}",
                         json={"period": "month", "period_start": "2024-03-01"},
                         headers=team.headers["manager"])
    # March also holds the visit of Monday 2024-03-11 and Sunday 2024-03-03.
    assert moved.status_code == 200 and moved.json["actual"] == 5
    assert client.patch(f"/api/v1/targets/{target['id']}", json={"rep_id": team.rep2.id},
                        headers=team.headers["manager"]).status_code == 422
    assert client.delete(f"/api/v1/targets/{target['id']}",
                         headers=team.headers["manager"]).status_code == 204
    assert client.get(f"/api/v1/targets/{target['id']}",
                      headers=team.headers["manager"]).status_code == 404


def test_csv_export_equals_the_json_list(client, team, past_week):
    for metric, goal in [("visits", 6), ("order_value", 100), ("tasks_done", 3)]:
        create(client, team.headers["manager"], metric=metric, goal=goal, rep_id=team.rep.id)
    listed = client.get("/api/v1/targets?sort=goal&limit=2", headers=team.headers["manager"]).json
    items = listed["items"] + client.get(
        f"/api/v1/targets?sort=goal&limit=2&cursor={listed['next_cursor']}",
        headers=team.headers["manager"]).json["items"]
    for request in [{"query_string": {"sort": "goal", "format": "csv"}},
                    {"query_string": {"sort": "goal"}, "headers": {"Accept": "text/csv"}}]:
        headers = {**team.headers["manager"], **request.get("headers", {})}
        response = client.get("/api/v1/targets", query_string=request["query_string"],
                              headers=headers)
        assert response.status_code == 200 and response.mimetype == "text/csv"
        rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
        assert [row["id"] for row in rows] == [item["id"] for item in items]
        assert [float(row["actual"]) for row in rows] == [item["actual"] for item in items]
        assert [row["metric"] for row in rows] == ["tasks_done", "visits", "order_value"]
        assert set(rows[0]) == set(items[0])
