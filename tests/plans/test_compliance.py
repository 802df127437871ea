"""How a rep kept to the plan (plans/compliance.py): call rate, plan adherence, unplanned
visits, skips with reasons, planned distance and route efficiency; in the rep's day and the
team overview."""
from datetime import date

import pytest

from fieldsales.extensions import db
from fieldsales.geo import geodesic_m
from fieldsales.plans import compliance
from fieldsales.plans.models import PlannedVisit
from tests.factories import at, uid

DAY = "2026-03-10"
SPOTS = [(52.0, 4.0), (52.0, 4.1), (52.1, 4.1), (52.1, 4.0)]


@pytest.fixture
def day(world, team):
    """rep's plan of DAY: stop 1 done at 09:00, stop 2 done earlier (08:00, out of order),
    stop 3 skipped, stop 4 missed; an unplanned visit that day and one the day before; rep2
    planned one stop and did it."""
    customers = [world.customer(id=uid("c"), rep=team.rep, lat=lat, lon=lon)
                 for lat, lon in SPOTS]
    plan = [world.planned_visit(id=uid("pv"), rep=team.rep, customer=c, day=DAY, sequence=n,
                                status=status, skip_reason=reason)
            for n, (c, status, reason) in enumerate(
                zip(customers, ("done", "done", "skipped", "missed"),
                    (None, None, "Closed today", None), strict=True), start=1)]
    for stop, hour in ((0, 9), (1, 8)):
        visit = world.visit(id=uid("v"), rep=team.rep, customer=customers[stop],
                            at=at(DAY, hour), planned_visit_id=plan[stop])
        with world.app.app_context():
            db.session.get(PlannedVisit, plan[stop]).visit_id = visit
            db.session.commit()
    world.visit(id=uid("v"), rep=team.rep, customer=customers[3], at=at(DAY, 15))
    world.visit(id=uid("v"), rep=team.rep, customer=customers[3], at=at("2026-03-09", 15))
    other = world.customer(id=uid("c"), rep=team.rep2)
    done = uid("pv")
    visit = world.visit(id=uid("v"), rep=team.rep2, customer=other, at=at(DAY, 10),
                        planned_visit_id=done)
    world.planned_visit(id=done, rep=team.rep2, customer=other, day=DAY, status="done",
                        visit_id=visit)
    planned_m = sum(geodesic_m(*a, *b) for a, b in zip(SPOTS, SPOTS[1:], strict=False))
    return {"plan": plan, "planned_m": planned_m}


def test_a_reps_day_in_figures(app, team, day):
    with app.app_context():
        figures = compliance.summarize(team=None, rep_ids=[team.rep.id, team.rep2.id],
                                       first=date.fromisoformat(DAY),
                                       last=date.fromisoformat(DAY))
    mine = figures[team.rep.id]
    assert {k: mine[k] for k in ("planned", "done", "missed", "skipped", "open", "call_rate",
                                 "plan_adherence", "unplanned_visits")} == {
        "planned": 4, "done": 2, "missed": 1, "skipped": 1, "open": 0, "call_rate": 0.5,
        "plan_adherence": 0.25,  # stop 2 was done before stop 1: one in order
        "unplanned_visits": 1}
    assert mine["skips"] == [{"planned_visit_id": day["plan"][2], "customer_id":
                              day["plan"][2].customer_id, "planned_date": DAY,
                              "skip_reason": "Closed today"}]
    assert mine["planned_distance_m"] == pytest.approx(day["planned_m"], abs=0.1)
    assert figures[team.rep2.id]["call_rate"] == 1.0
    assert figures[team.rep2.id]["plan_adherence"] == 1.0
    total = compliance.combine(list(figures.values()))
    assert (total["planned"], total["done"], total["call_rate"], total["plan_adherence"]) == (
        5, 3, 0.6, 0.4)


def test_a_rep_without_a_plan_has_no_rates(app, team):
    with app.app_context():
        figures = compliance.summarize(team=None, rep_ids=[team.rep.id],
                                       first=date.fromisoformat(DAY),
                                       last=date.fromisoformat(DAY))[team.rep.id]
    assert (figures["planned"], figures["call_rate"], figures["plan_adherence"],
            figures["skips"], figures["planned_distance_m"]) == (0, None, None, [], 0.0)


def test_route_efficiency_is_planned_over_travelled_distance():
    assert compliance.route_efficiency(planned_m=1000, travelled_m=1250) == 0.8
    assert compliance.route_efficiency(planned_m=1000, travelled_m=0) is None
    assert compliance.route_efficiency(planned_m=0, travelled_m=900) is None


def test_the_reps_day_and_the_team_overview_show_the_plan(client, team, day):
    report = client.get(f"/api/v1/reps/{team.rep.id}/activity", query_string={"date": DAY},
                        headers=team.headers["manager"])
    assert report.status_code == 200, report.json
    plan = report.json["plan"]
    assert (plan["planned"], plan["done"], plan["call_rate"], plan["unplanned_visits"]) == (
        4, 2, 0.5, 1)
    assert plan["route_efficiency"] is None  # no pings: nothing travelled
    overview = client.get(f"/api/v1/teams/{team.rep.team_id}/overview",
                          query_string={"period": "day", "date": DAY},
                          headers=team.headers["manager"])
    assert overview.status_code == 200, overview.json
    by_rep = {row["rep"]["id"]: row["plan"] for row in overview.json["reps"]}
    assert by_rep[team.rep.id]["skips"][0]["skip_reason"] == "Closed today"
    assert overview.json["team_total"]["plan"]["call_rate"] == 0.6


def test_call_rate_and_plan_adherence_are_productivity_components(world, team, day):
    from fieldsales.scoring.models import RepScore
    from fieldsales.scoring.sql import day_start, week_start

    world.run("productivity", now=at(DAY, 20))

    def scores(rep, period, start):
        row = world.one(RepScore, RepScore.rep_id == rep.id, RepScore.period == period,
                        RepScore.period_start == start)
        return (row.plan_visits, row.plan_visits_done, row.plan_visits_in_order,
                row.call_rate, row.plan_adherence, row.c_plan_adherence)

    # rep: 4 stops, 2 done, of those 1 in planned order; rep2: its one stop done.
    for period, start in (("day", day_start(at(DAY))), ("week", week_start(at(DAY)))):
        assert scores(team.rep, period, start) == (4, 2, 1, 0.5, 0.25, 0.25)
        assert scores(team.rep2, period, start) == (1, 1, 1, 1.0, 1.0, 1.0)
    # The day before had no plan: the component does not apply, its weight goes elsewhere.
    assert scores(team.rep, "day", day_start(at("2026-03-09")))[3:] == (None, None, None)
