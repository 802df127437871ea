"""The backlog list and its summary, on orders placed by hand relative to today.

Products: P1 price 10 stock 10; P2 price 20 stock 0 (lead time 14 days); P3 price 5 stock 5.
Open orders:
  O1 rep   at A, 40 days old, requested 20 days ago (late): P1 x 6            pending value 60
  O2 rep2  at B, 2 days old, requested in 10 days:          P1 x 8, P2 x 3    pending value 140
  O3 rep   at B, 10 days old, no requested date:            P3 x 5, 2 delivered -> 3, value 15
  O6 other_rep at X (other team), 1 day old:                P3 x 4            pending value 20
Not backlog: O4 (rep at A, 5 days old, delivered yesterday on time), O5 (cancelled).
The backlog job ranks O1 first (old, late, stock on hand), then O3, O2, O6. Stock handed out
in that order: P1 -> O1 6 of 6 (full), O2 4 of 8 (partial); P2 -> O2 none; P3 -> O3 3 of 3
(full), O6 2 of 4 (partial).
"""
import csv
import io

import pytest

from fieldsales.common import DAY_MS, now_ms
from fieldsales.extensions import db
from fieldsales.jobs.runner import run_job
from fieldsales.orders.models import Order, OrderLine


@pytest.fixture
def backlog_world(app, world, team):
    now = now_ms()
    ago = lambda days: now - days * DAY_MS  # noqa: E731
    a = world.customer(team=team.manager, rep=team.rep, name="A")
    b = world.customer(team=team.manager, rep=team.rep, name="B")
    x = world.customer(team=team.other_manager, rep=team.other_rep, name="X")
    p1 = world.product(sku="P1", price=10, stock=10)
    p2 = world.product(sku="P2", price=20, stock=0, lead_time_days=14)
    p3 = world.product(sku="P3", price=5, stock=5)
    ids = {"a": a, "b": b, "p1": p1, "p2": p2, "p3": p3, "ago": ago}
    ids["O1"] = world.order(rep=team.rep, customer=a, at=ago(40), lines=[(p1, 6, 10)],
                            requested_delivery_at=ago(20))
    ids["O2"] = world.order(rep=team.rep2, customer=b, at=ago(2),
                            lines=[(p1, 8, 10), (p2, 3, 20)], requested_delivery_at=ago(-10))
    ids["O3"] = world.order(rep=team.rep, customer=b, at=ago(10), lines=[(p3, 5, 5, 2)],
                            status="partially_delivered")
    ids["O4"] = world.order(rep=team.rep, customer=a, at=ago(5), lines=[(p1, 5, 10, 5)],
                            status="delivered", delivered_at=ago(1),
                            requested_delivery_at=ago(-3))
    ids["O5"] = world.order(rep=team.rep, customer=a, at=ago(3), lines=[(p1, 100, 10)],
                            status="cancelled")
    ids["O6"] = world.order(rep=team.other_rep, customer=x, at=ago(1), lines=[(p3, 4, 5)])
    with app.app_context():
        assert run_job("backlog").status == "ok"
    return ids


def listed(client, headers, query=""):
    response = client.get(f"/api/v1/backlog?{query}", headers=headers)
    assert response.status_code == 200, response.json
    return response.json["items"]


def names(items, ids):
    by_id = {v: k for k, v in ids.items() if isinstance(v, str)}
    return [by_id[item["id"]] for item in items]


def test_open_orders_in_priority_order_with_reasons_and_stock_per_line(
        client, team, backlog_world):
    items = listed(client, team.headers["procurement"])
    assert names(items, backlog_world) == ["O1", "O3", "O2", "O6"]
    assert [item["rank"] for item in items] == [1, 2, 3, 4]
    o1, o3, o2, o6 = items
    assert o1["reasons"] and any("past the requested delivery date" in r for r in o1["reasons"])
    assert o1["lateness_days"] == pytest.approx(20, abs=0.01)
    assert o1["age_days"] == pytest.approx(40, abs=0.01)
    assert o1["promised_dispatch_at"] is not None
    assert (o2["pending_quantity"], o2["pending_value"], o2["lateness_days"]) == (11, 140, 0)
    assert (o3["pending_quantity"], o3["pending_value"]) == (3, 15)

    def lines(order):
        return [(line["sku"], line["pending_quantity"], line["available_quantity"],
                 line["availability"]) for line in order["lines"]]

    assert lines(o1) == [("P1", 6, 6, "full")]
    assert lines(o2) == [("P1", 8, 4, "partial"), ("P2", 3, 0, "none")]
    assert lines(o3) == [("P3", 3, 3, "full")]
    assert lines(o6) == [("P3", 4, 2, "partial")]


def test_each_role_sees_its_own_orders(client, team, backlog_world):
    assert names(listed(client, team.headers["admin"]), backlog_world) == ["O1", "O3", "O2", "O6"]
    assert names(listed(client, team.headers["manager"]), backlog_world) == ["O1", "O3", "O2"]
    assert names(listed(client, team.headers["rep"]), backlog_world) == ["O1", "O3"]
    assert names(listed(client, team.headers["rep2"]), backlog_world) == ["O2"]
    assert names(listed(client, team.headers["other_manager"]), backlog_world) == ["O6"]


@pytest.mark.parametrize("query, expected", [
    ("customer_id={b}", ["O3", "O2"]),
    ("rep_id={rep}", ["O1", "O3"]),
    ("product_id={p2}", ["O2"]),
    ("product_id={p3}", ["O3"]),
    ("min_age_days=5", ["O1", "O3"]),
    ("late_only=true", ["O1"]),
    ("late_only=false", ["O3", "O2"]),
    ("sort=ordered_at", ["O1", "O3", "O2"]),
    ("sort=-pending_value", ["O2", "O1", "O3"]),
])
def test_filters_and_sorts(client, team, backlog_world, query, expected):
    query = query.format(rep=team.rep.id, **backlog_world)
    assert names(listed(client, team.headers["manager"], query), backlog_world) == expected


def test_live_changes_show_at_once_and_unranked_orders_come_last(
        app, client, team, world, backlog_world):
    late = world.order(rep=team.rep, customer=backlog_world["a"], at=now_ms(),
                       lines=[(backlog_world["p1"], 1, 10)])
    with app.app_context():
        order = db.session.get(Order, backlog_world["O1"])
        order.status, order.delivered_at = "delivered", now_ms()
        for line in db.session.query(OrderLine).filter_by(order_id=order.id):
            line.delivered_quantity = line.quantity
        db.session.commit()
    items = listed(client, team.headers["manager"])
    assert names(items, {**backlog_world, "new": late}) == ["O3", "O2", "new"]
    assert items[-1]["rank"] is None and items[-1]["reasons"] == []
    # P1's stock now goes to O2 first (8 of 10), leaving 2 for the new order.
    assert items[-1]["lines"][0]["available_quantity"] == 1


def test_pages_and_csv_equal_the_full_list(client, team, backlog_world):
    full = listed(client, team.headers["admin"])
    page = client.get("/api/v1/backlog?limit=3", headers=team.headers["admin"]).json
    rest = listed(client, team.headers["admin"], f"limit=3&cursor={page['next_cursor']}")
    assert [i["id"] for i in page["items"] + rest] == [i["id"] for i in full]
    response = client.get("/api/v1/backlog", headers={**team.headers["admin"],
                                                      "Accept": "text/csv"})
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [row["id"] for row in rows] == [i["id"] for i in full]
    assert [float(row["pending_value"]) for row in rows] == [i["pending_value"] for i in full]
    assert rows[0]["lines"].startswith("[{")


def test_summary_figures_and_trend(client, team, backlog_world):
    response = client.get("/api/v1/backlog/summary", headers=team.headers["manager"])
    assert response.status_code == 200, response.json
    body = response.json
    now, before = body["current"], body["previous"]
    assert (now["backlog_orders"], now["backlog_quantity"], now["backlog_value"]) == (3, 20, 215)
    assert {b["bucket"]: b["orders"] for b in now["age_buckets"]} == {
        "0-7": 1, "8-30": 1, "31-90": 1, "90+": 0}
    assert (now["orders_taken"], now["backlog_ratio"]) == (3, 1.0)
    assert now["delivered_orders"] == 1 and now["on_time_share"] == 1.0
    assert now["average_lead_time_days"] == pytest.approx(4, abs=0.01)
    assert (before["backlog_orders"], before["backlog_value"], before["orders_taken"]) == (1, 60, 1)
    assert before["average_lead_time_days"] is None
    assert body["trend"]["backlog_value"] == {"current": 215, "previous": 60, "change": 155,
                                              "direction": "up"}
    assert body["trend"]["backlog_ratio"]["direction"] == "flat"
    assert body["trend"]["average_lead_time_days"]["change"] is None


def test_a_past_periods_backlog_is_what_stood_open_at_its_end(client, team, world,
                                                              backlog_world):
    ago = backlog_world["ago"]
    soap = world.product(sku="SOAP", price=2, stock=5)
    shipped_late = world.order(rep=team.rep, customer=backlog_world["a"], at=ago(45),
                               lines=[(soap, 5, 2)])
    with client.application.app_context():
        line = db.session.scalar(db.select(OrderLine.id).where(OrderLine.order_id == shipped_late))
    delivered = client.post(f"/api/v1/orders/{shipped_late}/deliveries",
                            headers=team.headers["procurement"],
                            json={"delivered_at": ago(10), "lines": [{"order_line_id": line,
                                                                      "quantity": 5}]})
    assert delivered.status_code == 201, delivered.json

    body = client.get("/api/v1/backlog/summary", headers=team.headers["manager"]).json
    # 30 days ago it was open (delivered 10 days ago) and 15 days old; O1 was then 10 days old.
    before = body["previous"]
    assert (before["backlog_orders"], before["backlog_value"]) == (2, 60 + 10)
    assert {b["bucket"]: b["orders"] for b in before["age_buckets"]} == {
        "0-7": 0, "8-30": 2, "31-90": 0, "90+": 0}
    assert before["backlog_ratio"] == 2 / 2  # O1 and the soap order were taken then
    # Today it is delivered: not backlog now, and its lead time counts in this period.
    now = body["current"]
    assert (now["backlog_orders"], now["backlog_value"]) == (3, 215)
    assert now["delivered_orders"] == 2


def test_summary_scope(client, team, backlog_world):
    def summary(role, query=""):
        return client.get(f"/api/v1/backlog/summary?{query}", headers=team.headers[role])

    assert summary("rep").json["current"]["backlog_orders"] == 2
    assert summary("admin").json["current"]["backlog_orders"] == 4
    assert summary("procurement", f"team_id={team.other_manager.team_id}").json[
        "current"]["backlog_orders"] == 1
    assert summary("manager", f"rep_id={team.rep2.id}").json["current"]["backlog_orders"] == 1
    assert summary("manager", f"team_id={team.other_manager.team_id}").status_code == 404
    assert summary("manager", f"rep_id={team.other_rep.id}").status_code == 404
    assert summary("rep", f"rep_id={team.rep2.id}").status_code == 404
