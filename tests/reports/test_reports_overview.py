"""Team overview: score rows set by hand (the productivity job's own tests check the formula),
then one run of the real job to check the wiring.

Week rows (Monday 2024-03-04): rep 80 (c_visits 1.0, 10 visits, 3 orders worth 300),
rep2 60 (c_visits 0.5, 6 visits, 1 order worth 50); rep3 has none; other_rep (other team) 99.
Day row 2024-03-05: rep 70. Month March 2024 = the weeks starting 03-04 and 03-11:
rep 80 and 60 -> 70 with 10 + 4 visits; the week of 02-26 (starts in February) is left out.
Targets of the week 03-04: rep visits goal 4 against 2 real visits -> 0.5;
the team's orders goal 4 against 1 real order -> 0.25.
"""
import pytest

from fieldsales.jobs.runner import run_job
from fieldsales.scoring.models import RepScore
from fieldsales.targets.models import Target
from tests.factories import at

INT_FIELDS = ("visits", "verified_visits", "unverified_visits", "tasks_due", "tasks_done",
              "tasks_done_on_time", "planned_visits", "visits_with_order", "orders_taken",
              "repeat_orders", "upsell_orders", "prospects_visited", "prospects_converted",
              "accounts_assigned", "accounts_visited", "pings", "flagged_pings")
FLOAT_FIELDS = ("time_on_site_s", "selling_time_s", "non_selling_time_s", "order_value",
                "travel_distance_m", "base_score", "suspect_penalty", "score")


def score_row(world, rep, period, day, score, **fields):
    values = {name: 0 for name in INT_FIELDS} | {name: 0.0 for name in FLOAT_FIELDS}
    values.update(rep_id=rep.id, period=period, period_start=at(day), selling_style="farmer",
                  score=score, base_score=score, computed_at=at("2024-04-01"), **fields)
    return world.add(RepScore, **values)


@pytest.fixture
def scored(world, team, make_user):
    rep3 = make_user("rep", manager=team.manager, name="Rep three")
    score_row(world, team.rep, "week", "2024-03-04", 80, c_visits=1.0, visits=10,
              orders_taken=3, order_value=300.0, call_rate=0.5)
    score_row(world, team.rep2, "week", "2024-03-04", 60, c_visits=0.5, visits=6,
              orders_taken=1, order_value=50.0)
    score_row(world, team.other_rep, "week", "2024-03-04", 99)
    score_row(world, team.rep, "day", "2024-03-05", 70)
    score_row(world, team.rep, "week", "2024-03-11", 60, visits=4, c_visits=0.5)
    score_row(world, team.rep, "week", "2024-02-26", 10, visits=100)
    customer = world.customer(team=team.manager, rep=team.rep)
    world.visit(rep=team.rep, customer=customer, at=at("2024-03-05", 9))
    world.visit(rep=team.rep, customer=customer, at=at("2024-03-06", 9))
    world.order(rep=team.rep2, customer=customer, at=at("2024-03-06", 9), lines=[])
    week = {"period": "week", "period_start": at("2024-03-04"), "period_end": at("2024-03-11"),
            "team_id": team.manager.team_id}
    world.add(Target, rep_id=team.rep.id, metric="visits", goal=4, **week)
    world.add(Target, rep_id=None, metric="orders", goal=4, **week)
    return rep3


def overview(client, headers, team_id, query="period=week&date=2024-03-06"):
    response = client.get(f"/api/v1/teams/{team_id}/overview?{query}", headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def test_week_overview_per_rep_leaderboard_and_team_total(client, team, scored):
    body = overview(client, team.headers["manager"], team.manager.team_id)
    assert body["start_ms"] == at("2024-03-04") and body["end_ms"] == at("2024-03-11")
    reps = {r["rep"]["id"]: r for r in body["reps"]}
    assert set(reps) == {team.rep.id, team.rep2.id, scored.id}
    mine = reps[team.rep.id]
    assert (mine["score"], mine["rank"], mine["components"]["c_visits"]) == (80, 1, 1.0)
    assert mine["components"]["c_coverage"] is None
    assert mine["figures"]["orders_taken"] == 3 and mine["rates"]["call_rate"] == 0.5
    assert mine["targets"] == [{"id": mine["targets"][0]["id"], "metric": "visits", "goal": 4,
                                "actual": 2, "attainment": 0.5, "pace": 0.5}]
    assert (reps[team.rep2.id]["score"], reps[team.rep2.id]["rank"]) == (60, 2)
    assert (reps[scored.id]["score"], reps[scored.id]["rank"]) == (None, None)
    assert [(e["rank"], e["rep_id"], e["score"]) for e in body["leaderboard"]] == [
        (1, team.rep.id, 80), (2, team.rep2.id, 60)]
    total = body["team_total"]
    assert (total["reps"], total["reps_scored"], total["score"]) == (3, 2, 70)
    assert total["components"]["c_visits"] == 0.75
    assert total["figures"]["visits"] == 16 and total["figures"]["order_value"] == 350
    assert [(t["metric"], t["attainment"]) for t in total["targets"]] == [("orders", 0.25)]
    assert body["computed_at"] == at("2024-04-01")


def test_day_and_month_periods(client, team, scored):
    day = overview(client, team.headers["manager"], team.manager.team_id,
                   "period=day&date=2024-03-05")
    assert [(e["rep_id"], e["score"]) for e in day["leaderboard"]] == [(team.rep.id, 70)]
    month = overview(client, team.headers["manager"], team.manager.team_id,
                     "period=month&date=2024-03-20")
    mine = next(r for r in month["reps"] if r["rep"]["id"] == team.rep.id)
    assert mine["score"] == 70 and mine["figures"]["visits"] == 14
    assert mine["components"]["c_visits"] == 0.75
    empty = overview(client, team.headers["manager"], team.manager.team_id,
                     "period=week&date=2023-01-04")
    assert empty["leaderboard"] == [] and empty["computed_at"] is None


def test_only_the_teams_manager_or_an_admin(client, team, scored):
    assert overview(client, team.headers["admin"], team.manager.team_id)["team_total"]["reps"] == 3
    theirs = overview(client, team.headers["other_manager"], team.other_manager.team_id)
    assert [e["score"] for e in theirs["leaderboard"]] == [99]
    url = f"/api/v1/teams/{team.manager.team_id}/overview"
    assert client.get(url, headers=team.headers["other_manager"]).status_code == 404
    nope = client.get("/api/v1/teams/nope/overview", headers=team.headers["admin"])
    assert nope.status_code == 404
    for role in ("rep", "procurement"):
        assert client.get(url, headers=team.headers[role]).status_code == 403
    assert client.get(f"{url}?period=year", headers=team.headers["manager"]).status_code == 422


def test_with_the_real_productivity_job(app, client, team, world):
    customer = world.customer(team=team.manager, rep=team.rep)
    for hour in (9, 11, 14):
        world.visit(rep=team.rep, customer=customer, at=at("2024-03-05", hour),
                    outcome="order")
    world.task(rep=team.rep, completed_at=at("2024-03-05", 16), due_at=at("2024-03-05", 17))
    with app.app_context():
        assert run_job("productivity", now=at("2024-03-05", 22)).status == "ok"
    body = overview(client, team.headers["manager"], team.manager.team_id,
                    "period=day&date=2024-03-05")
    ranks = [e["rep_id"] for e in body["leaderboard"]]
    assert ranks[0] == team.rep.id and team.rep2.id in ranks
    mine = body["reps"][[r["rep"]["id"] for r in body["reps"]].index(team.rep.id)]
    assert mine["figures"]["verified_visits"] == 3 and mine["score"] > 0
    assert body["computed_at"] is not None
