"""Demand list: latest demand rows set by hand (the demand job's tests check the forecast),
then one run of the real job.

Latest week 2024-03-04 rows: P1 rising demand, 10 days of cover; P2 stock short of the backlog,
3 days of cover; P3 unflagged, 1 day of cover; P4 has no row yet (stock 7).
Order: flagged first by days of cover (P2, P1), then P3, then P4.
P1's history: 5, 10, 15, 20 ordered and 1, 0, 2, 3 requested over the four weeks up to
03-04 (and 100 five weeks back, outside the four) -> 50 ordered, 6 requested.
"""
import csv
import io

import pytest

from fieldsales.jobs.runner import run_job
from fieldsales.scoring.models import ProductDemand
from tests.factories import at

WEEKS = ["2024-02-05", "2024-02-12", "2024-02-19", "2024-02-26", "2024-03-04"]


def demand_row(world, product, week, *, latest=False, ordered=0.0, requested=0.0, **snapshot):
    values = dict(product_id=product, week_start=at(week), ordered_quantity=ordered,
                  feedback_requested_quantity=requested, level=ordered, trend=0.0,
                  forecast=ordered, is_latest=latest, computed_at=at("2024-03-11"))
    if latest:
        values.update({"stock_on_hand": snapshot.pop("stock", 0.0), "backlog_quantity": 0.0,
                       "lead_time_days": 7, "reorder_suggestion": 0.0, **snapshot})
    return world.add(ProductDemand, **values)


@pytest.fixture
def products(world):
    ids = {sku: world.product(sku=sku, name=f"Widget {sku}", stock=7)
           for sku in ("P1", "P2", "P3", "P4")}
    for week, ordered, requested in zip(WEEKS, (100, 5, 10, 15, 20), (9, 1, 0, 2, 3), strict=True):
        demand_row(world, ids["P1"], week, latest=week == WEEKS[-1], ordered=ordered,
                   requested=requested, **({"rising_demand": True, "days_of_cover": 10.0,
                                            "stock": 28.0} if week == WEEKS[-1] else {}))
    demand_row(world, ids["P2"], WEEKS[-1], latest=True, ordered=7, stock_short_of_backlog=True,
               days_of_cover=3.0, reorder_suggestion=12.5)
    demand_row(world, ids["P3"], WEEKS[-1], latest=True, ordered=70, days_of_cover=1.0)
    return ids


def demand(client, headers, query=""):
    response = client.get(f"/api/v1/demand?{query}", headers=headers)
    assert response.status_code == 200, response.json
    return response.json["items"]


def test_flagged_first_then_fewest_days_of_cover(client, team, products):
    items = demand(client, team.headers["procurement"])
    assert [i["sku"] for i in items] == ["P2", "P1", "P3", "P4"]
    p2, p1, p3, p4 = items
    assert (p2["flagged"], p2["stock_short_of_backlog"], p2["reorder_suggestion"]) == (
        True, True, 12.5)
    assert (p1["flagged"], p1["rising_demand"], p1["days_of_cover"]) == (True, True, 10)
    assert (p1["ordered_quantity"], p1["forecast"], p1["stock_on_hand"]) == (20, 20, 28)
    assert (p1["ordered_4w"], p1["requested_4w"]) == (50, 6)
    assert p3["flagged"] is False
    assert p4["forecast"] is None and p4["stock_on_hand"] == 7 and p4["flagged"] is False


def test_filters_sorts_and_csv(client, team, products):
    headers = team.headers["manager"]
    assert [i["sku"] for i in demand(client, headers, "flagged=true")] == ["P2", "P1"]
    assert [i["sku"] for i in demand(client, headers, "flagged=false")] == ["P3", "P4"]
    assert [i["sku"] for i in demand(client, headers, "rising_demand=true")] == ["P1"]
    assert [i["sku"] for i in demand(client, headers, "q=p3")] == ["P3"]
    assert [i["sku"] for i in demand(client, headers, "sort=-forecast")] == [
        "P3", "P1", "P2", "P4"]
    items = demand(client, headers)
    rows = list(csv.DictReader(io.StringIO(client.get(
        "/api/v1/demand?format=csv", headers=headers).get_data(as_text=True))))
    assert [row["sku"] for row in rows] == [i["sku"] for i in items]
    assert [row["flagged"] for row in rows] == ["true", "true", "false", "false"]


def test_reps_do_not_see_demand(client, team, products):
    assert client.get("/api/v1/demand", headers=team.headers["rep"]).status_code == 403
    assert demand(client, team.headers["admin"])


def test_with_the_real_demand_job(app, client, team, world):
    customer = world.customer(team=team.manager, rep=team.rep)
    product = world.product(sku="REAL", stock=1)
    for week, quantity in zip(WEEKS, (2, 4, 8, 16, 32), strict=True):
        world.order(rep=team.rep, customer=customer, at=at(week, 10),
                    lines=[(product, quantity, 1)], status="delivered")
    with app.app_context():
        assert run_job("demand", now=at("2024-03-12", 12)).status == "ok"
    item = demand(client, team.headers["procurement"])[0]
    assert item["sku"] == "REAL" and item["ordered_quantity"] == 32
    assert item["rising_demand"] is True and item["flagged"] is True
    assert item["forecast"] > 16 and item["ordered_4w"] == 60


def test_a_products_weeks_are_its_history_oldest_first(client, team, products):
    response = client.get(f"/api/v1/demand/{products['P1']}/weeks",
                          headers=team.headers["procurement"])
    assert response.status_code == 200
    weeks = response.json["weeks"]
    assert [w["week_start"] for w in weeks] == [at(week) for week in WEEKS]
    assert [w["ordered_quantity"] for w in weeks] == [100, 5, 10, 15, 20]
    assert weeks[-1] == {"week_start": at("2024-03-04"), "ordered_quantity": 20, "level": 20,
                         "trend": 0, "forecast": 20}
    assert client.get(f"/api/v1/demand/{products['P4']}/weeks",
                      headers=team.headers["manager"]).json["weeks"] == []
    assert client.get("/api/v1/demand/no-such-product/weeks",
                      headers=team.headers["admin"]).status_code == 404
