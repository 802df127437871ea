"""Orders over REST: who sees which, the list (pages, sorts, CSV), deliveries against pending
quantities, cancelling."""
import threading

import pytest
from sqlalchemy import select

from fieldsales.common import DAY_MS, new_id, now_ms
from fieldsales.customers.models import Customer
from fieldsales.extensions import db
from fieldsales.jobs.runner import run_job
from fieldsales.listing import NO_DATE
from fieldsales.orders.models import Order, OrderLine
from fieldsales.products.models import Product
from fieldsales.reports.backlog import backlog_health
from fieldsales.scoring.models import BacklogPriority
from tests.list_checks import (
    assert_csv_is_the_json,
    assert_unknown_sort_is_422,
    assert_walk_in_order,
    walk,
)


@pytest.fixture
def shop(app):
    """Makes products, customers and orders (committed); returns plain ids."""

    class Shop:
        def add(self, *rows):
            with app.app_context():
                for row in rows:
                    db.session.add(row)
                    db.session.flush()
                db.session.commit()

        def product(self, stock):
            pid = new_id()
            self.add(Product(id=pid, sku=f"SKU-{pid}", name="Paint", unit_price=10,
                             stock_on_hand=stock, lead_time_days=5))
            return pid

        def order(self, rep, lines, *, status="open", ordered_at=None, **extra):
            """lines: (product_id, quantity, unit_price); returns (order_id, [line ids])."""
            customer_id, order_id = new_id(), new_id()
            line_ids = [new_id() for _ in lines]
            self.add(Customer(id=customer_id, name="Shop", latitude=1.0, longitude=1.0,
                              kind="account", assigned_rep_id=rep.id, team_id=rep.team_id),
                     Order(id=order_id, rep_id=rep.id, customer_id=customer_id, status=status,
                           ordered_at=ordered_at or now_ms() - DAY_MS, **extra),
                     *[OrderLine(id=line_id, order_id=order_id, product_id=p, quantity=q,
                                 unit_price=price)
                       for line_id, (p, q, price) in zip(line_ids, lines, strict=True)])
            return order_id, line_ids

        def get(self, model, row_id):
            with app.app_context():
                row = db.session.get(model, row_id)
                db.session.expunge(row)
                return row

        def health(self):
            with app.app_context():
                return backlog_health(start_ms=now_ms() - 30 * DAY_MS, end_ms=now_ms() + 1)

    return Shop()


def deliver(client, team, order_id, lines, who="procurement", **extra):
    return client.post(f"/api/v1/orders/{order_id}/deliveries", headers=team.headers[who],
                       json={"lines": [{"order_line_id": i, "quantity": q} for i, q in lines],
                             **extra})


def test_deliveries_move_the_order_the_stock_and_the_backlog(client, team, shop, app):
    paint, brush = shop.product(10), shop.product(10)
    order_id, (paint_line, brush_line) = shop.order(team.rep, [(paint, 5, 10.0),
                                                               (brush, 2, 4.0)])
    before = shop.get(Order, order_id)
    assert shop.health()["backlog_value"] == 58

    first = deliver(client, team, order_id, [(paint_line, 3)])

    assert first.status_code == 201, first.json
    assert first.json["status"] == "partially_delivered" and first.json["delivered_at"] is None
    lines = {line["id"]: line for line in first.json["lines"]}
    paint_now = lines[paint_line]
    assert (paint_now["delivered_quantity"], paint_now["pending_quantity"]) == (3, 2)
    assert first.json["pending_value"] == 2 * 10 + 2 * 4
    assert [d["lines"] for d in first.json["deliveries"]] == [
        [{"order_line_id": paint_line, "quantity": 3}]]
    assert shop.get(Product, paint).stock_on_hand == 7
    assert shop.health()["backlog_value"] == 28
    stamped = shop.get(Order, order_id)
    assert stamped.changed_seq > before.changed_seq  # phones pull the new status
    assert shop.get(OrderLine, paint_line).changed_seq == stamped.changed_seq

    at = now_ms() - 60_000
    second = deliver(client, team, order_id, [(paint_line, 2), (brush_line, 2)], who="admin",
                     delivered_at=at)

    assert second.status_code == 201, second.json
    assert (second.json["status"], second.json["delivered_at"]) == ("delivered", at)
    assert len(second.json["deliveries"]) == 2 and second.json["pending_value"] == 0
    assert shop.get(Product, paint).stock_on_hand == 5
    assert shop.get(Product, brush).stock_on_hand == 8
    assert shop.health()["backlog_orders"] == 0
    with app.app_context():
        run_job("backlog")
        assert db.session.scalars(select(BacklogPriority)).all() == []


def test_over_delivery_is_refused_naming_the_line_and_nothing_changes(client, team, shop):
    paint = shop.product(10)
    order_id, (line,) = shop.order(team.rep, [(paint, 5, 10.0)])
    assert deliver(client, team, order_id, [(line, 4)]).status_code == 201

    refused = deliver(client, team, order_id, [(line, 2)])

    assert refused.status_code == 409
    error = refused.json["error"]
    assert error["code"] == "over_delivery" and line in error["message"]
    assert error["details"]["order_line_id"] == line and error["details"]["pending_quantity"] == 1
    assert shop.get(OrderLine, line).delivered_quantity == 4
    assert shop.get(Product, paint).stock_on_hand == 6
    assert shop.get(Order, order_id).status == "partially_delivered"


def test_more_than_the_stock_on_hand_is_refused(client, team, shop):
    paint = shop.product(2)
    order_id, (line,) = shop.order(team.rep, [(paint, 5, 10.0)])

    refused = deliver(client, team, order_id, [(line, 3)])

    assert refused.status_code == 409 and refused.json["error"]["code"] == "insufficient_stock"
    assert shop.get(OrderLine, line).delivered_quantity == 0


@pytest.mark.parametrize("body, field", [
    ({"lines": []}, "lines"),
    ({}, "lines"),
    ({"lines": [{"order_line_id": "x", "quantity": 0}]}, "quantity"),
    ({"lines": [{"order_line_id": "x", "quantity": -1}]}, "quantity"),
    ({"lines": [{"order_line_id": "x", "quantity": 1, "extra": 1}]}, "extra"),
    ({"lines": [{"order_line_id": "x", "quantity": 1}], "delivered_at": "soon"}, "delivered_at"),
])
def test_malformed_deliveries_are_422(client, team, shop, body, field):
    order_id, _ = shop.order(team.rep, [(shop.product(10), 5, 10.0)])
    response = client.post(f"/api/v1/orders/{order_id}/deliveries",
                           headers=team.headers["procurement"], json=body)
    assert response.status_code == 422 and field in response.json["error"]["message"]


def test_lines_must_be_this_orders_named_once_and_delivered_between_order_and_now(client, team,
                                                                                 shop):
    paint = shop.product(10)
    order_id, (line,) = shop.order(team.rep, [(paint, 5, 10.0)])
    _, (foreign,) = shop.order(team.rep, [(paint, 5, 10.0)])

    other = deliver(client, team, order_id, [(foreign, 1)])
    twice = deliver(client, team, order_id, [(line, 1), (line, 1)])
    future = deliver(client, team, order_id, [(line, 1)], delivered_at=now_ms() + DAY_MS)
    before_order = deliver(client, team, order_id, [(line, 1)], delivered_at=0)

    assert other.status_code == 422 and foreign in other.json["error"]["message"]
    assert other.json["error"]["details"] == {
        "lines": {"0": {"order_line_id": ["Not a line of this order."]}}}
    assert twice.status_code == 422 and "twice" in twice.json["error"]["message"]
    assert future.status_code == 422 and "delivered_at" in future.json["error"]["details"]
    assert before_order.json["error"]["details"] == {
        "delivered_at": ["Must not be before the order was taken."]}
    assert shop.get(OrderLine, line).delivered_quantity == 0


def test_only_procurement_and_admins_record_deliveries(client, team, shop):
    order_id, (line,) = shop.order(team.rep, [(shop.product(10), 5, 10.0)])
    for who in ("rep", "manager"):
        assert deliver(client, team, order_id, [(line, 1)], who=who).status_code == 403
    assert deliver(client, team, "no-such-order", [(line, 1)]).status_code == 404


def test_cancelled_and_delivered_orders_take_no_delivery(client, team, shop):
    paint = shop.product(10)
    cancelled, (c_line,) = shop.order(team.rep, [(paint, 5, 10.0)], status="cancelled")
    order_id, (line,) = shop.order(team.rep, [(paint, 1, 10.0)])
    assert deliver(client, team, order_id, [(line, 1)]).status_code == 201

    to_cancelled = deliver(client, team, cancelled, [(c_line, 1)])
    to_delivered = deliver(client, team, order_id, [(line, 1)])
    assert to_cancelled.status_code == to_delivered.status_code == 409
    assert to_cancelled.json["error"]["code"] == "order_cancelled"
    assert to_delivered.json["error"]["code"] == "order_delivered"


def test_orders_are_listed_by_role_and_filtered(client, team, shop):
    paint = shop.product(10)
    mine, _ = shop.order(team.rep, [(paint, 1, 1.0)])
    teammate, _ = shop.order(team.rep2, [(paint, 1, 1.0)], status="cancelled")
    other, _ = shop.order(team.other_rep, [(paint, 1, 1.0)])

    def ids(who, query=""):
        response = client.get(f"/api/v1/orders{query}", headers=team.headers[who])
        assert response.status_code == 200, response.json
        return sorted(o["id"] for o in response.json["items"])

    assert ids("admin") == ids("procurement") == sorted([mine, teammate, other])
    assert ids("manager") == sorted([mine, teammate])
    assert ids("other_manager") == [other]
    assert ids("rep") == [mine]
    assert ids("admin", "?status=cancelled") == [teammate]
    assert ids("admin", f"?rep_id={team.other_rep.id}") == [other]
    customer = shop.get(Order, mine).customer_id
    assert ids("manager", f"?customer_id={customer}") == [mine]
    assert ids("rep", f"?rep_id={team.rep2.id}") == []  # a filter never widens the scope

    first = client.get("/api/v1/orders?limit=2", headers=team.headers["admin"]).json
    rest = client.get(f"/api/v1/orders?limit=2&cursor={first['next_cursor']}",
                      headers=team.headers["admin"]).json
    assert len(first["items"]) == 2 and len(rest["items"]) == 1 and rest["next_cursor"] is None
    bad = client.get("/api/v1/orders?status=lost", headers=team.headers["admin"])
    assert bad.status_code == 422
    unknown = client.get("/api/v1/orders?colour=red", headers=team.headers["admin"])
    assert unknown.status_code == 422


@pytest.fixture
def order_book(shop, team):
    """The manager's reps' orders with repeated and missing dates, and another team's."""
    paint, day = shop.product(10), now_ms() - 10 * DAY_MS
    rows = [(team.rep, 3, 8, "open"), (team.rep2, 1, None, "cancelled"), (team.rep, 3, 5, "open"),
            (team.rep, 2, 8, "delivered"), (team.rep2, 5, None, "open")]
    mine = [shop.order(rep, [(paint, 1, 2.0)], status=status, ordered_at=day + at * DAY_MS,
                       requested_delivery_at=None if due is None else day + due * DAY_MS)[0]
            for rep, at, due, status in rows]
    shop.order(team.other_rep, [(paint, 1, 2.0)])
    return mine


@pytest.mark.parametrize("sort, key", [
    ("-ordered_at", lambda o: o["ordered_at"]),
    ("requested_delivery_at", lambda o: o["requested_delivery_at"] or NO_DATE),
    ("status", lambda o: o["status"]),
])
def test_a_walk_over_orders_in_another_sort_loses_and_repeats_nothing(client, team,
                                                                      order_book, sort, key):
    items = walk(client, "/api/v1/orders", headers=team.headers["manager"], sort=sort, limit=2)
    assert_walk_in_order(items, ids=order_book, sort=sort, key=key)


def test_the_orders_csv_is_every_row_of_the_json_pages_in_the_callers_scope(client, team,
                                                                           order_book):
    url = "/api/v1/orders"
    open_ones = assert_csv_is_the_json(client, url, headers=team.headers["manager"],
                                       status="open", sort="-ordered_at")
    assert [o["id"] for o in open_ones][0] == order_book[4]
    assert {o["id"] for o in open_ones} == {order_book[0], order_book[2], order_book[4]}
    own = assert_csv_is_the_json(client, url, headers=team.headers["rep"], sort="status")
    assert {o["rep_id"] for o in own} == {team.rep.id} and len(own) == 3
    assert len(assert_csv_is_the_json(client, url, headers=team.headers["procurement"])) == 6


def test_only_allow_listed_fields_sort_orders(client, team):
    assert_unknown_sort_is_422(client, "/api/v1/orders", headers=team.headers["admin"],
                               field="promised_dispatch_at")


def test_one_order_with_its_lines_for_those_who_may_see_it(client, team, shop):
    order_id, (line,) = shop.order(team.rep, [(shop.product(10), 5, 2.5)])

    seen = client.get(f"/api/v1/orders/{order_id}", headers=team.headers["manager"])

    assert seen.status_code == 200
    assert seen.json["lines"] == [{"id": line, "product_id": seen.json["lines"][0]["product_id"],
                                   "quantity": 5.0, "unit_price": 2.5, "delivered_quantity": 0.0,
                                   "pending_quantity": 5.0}]
    assert (seen.json["value"], seen.json["deliveries"]) == (12.5, [])
    for who in ("other_manager", "rep2", "other_rep"):
        hidden = client.get(f"/api/v1/orders/{order_id}", headers=team.headers[who])
        assert hidden.status_code == 404 and hidden.json["error"]["code"] == "not_found"


def test_the_reps_manager_procurement_and_admins_cancel(client, team, shop):
    paint = shop.product(10)
    order_id, (line,) = shop.order(team.rep, [(paint, 5, 10.0)])
    assert deliver(client, team, order_id, [(line, 2)]).status_code == 201

    def cancel(who, oid=order_id):
        return client.post(f"/api/v1/orders/{oid}/cancel", headers=team.headers[who])

    assert cancel("rep").status_code == 403
    assert cancel("other_manager").status_code == 404
    done = cancel("manager")
    assert done.status_code == 200, done.json
    assert (done.json["status"], done.json["promised_dispatch_at"]) == ("cancelled", None)
    assert done.json["lines"][0]["delivered_quantity"] == 2  # what shipped stays shipped
    assert cancel("procurement").status_code == 200  # cancelling twice changes nothing
    assert shop.health()["backlog_orders"] == 0

    delivered, (d_line,) = shop.order(team.rep, [(paint, 1, 10.0)])
    assert deliver(client, team, delivered, [(d_line, 1)]).status_code == 201
    refused = cancel("admin", delivered)
    assert refused.status_code == 409 and refused.json["error"]["code"] == "order_delivered"


def test_two_deliveries_at_once_never_over_deliver(app, team, shop):
    paint = shop.product(10)
    order_id, (line,) = shop.order(team.rep, [(paint, 5, 10.0)])
    barrier, answers = threading.Barrier(2), []

    def post():
        client = app.test_client()
        barrier.wait()
        answers.append(deliver(client, team, order_id, [(line, 3)]).status_code)

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(answers) == [201, 409]
    assert shop.get(OrderLine, line).delivered_quantity == 3
    assert shop.get(Product, paint).stock_on_hand == 7
