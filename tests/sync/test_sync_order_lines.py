"""Order lines a phone pushes (docs/sync.md, "Orders and their lines"): a line joins an order
of the same push or an open order within the edit window, at the product's price give or take
the tolerance, with a bounded quantity and value; any other line is quarantined with its
reason and the push still succeeds."""
import pytest
from sqlalchemy import update

from fieldsales.common import HOUR_MS, now_ms
from fieldsales.extensions import db
from fieldsales.orders.models import Order, OrderLine
from fieldsales.sync.models import QuarantinedRecord
from tests.factories import World, changes, line_record, order_record, stored, uid

QUARANTINE = "/api/v1/sync/quarantine"
WINDOW_PASSED = ("This order reached the server more than 24 hours before this line: lines may "
                 "only be added within that time (or in the push that creates the order).")


@pytest.fixture
def rows(app):
    """Rows written straight to the database (orders the server has held for a while)."""
    return World(app)


def stored_order(rows, world, *, received_hours_ago, status="open", lines=()):
    """An order of the rep's that reached the server `received_hours_ago` hours ago."""
    now = now_ms()
    return rows.order(rep=world.team.rep, customer=world.customer, at=now - 72 * HOUR_MS,
                      lines=lines, status=status,
                      received_at=now - int(received_hours_ago * HOUR_MS))


def refused(result) -> dict:
    return {q["id"]: q["errors"] for q in result["quarantined"]}


def line_ids(app) -> set:
    return {line["id"] for line in stored(app, OrderLine)}


def test_a_line_never_joins_a_delivered_or_cancelled_order(world, app, client, phone):
    o = order_record(world.customer)
    first = line_record(o["id"], world.product, quantity=2)
    phone.push(changes(orders={"created": [o]}, order_lines={"created": [first]}))
    delivered = client.post(f"/api/v1/orders/{o['id']}/deliveries",
                            json={"lines": [{"order_line_id": first["id"], "quantity": 2}]},
                            headers=world.team.headers["procurement"])
    assert delivered.status_code == 201 and delivered.json["status"] == "delivered"
    c = order_record(world.customer)
    phone.push(changes(orders={"created": [c]}))
    cancelled = client.post(f"/api/v1/orders/{c['id']}/cancel",
                            headers=world.team.headers["manager"])
    assert cancelled.status_code == 200, cancelled.json

    onto_delivered = line_record(o["id"], world.product, quantity=999_000)
    onto_cancelled = line_record(c["id"], world.product)
    result = phone.push(changes(order_lines={"created": [onto_delivered, onto_cancelled]}))

    assert result["accepted"]["order_lines"] == 0
    assert refused(result) == {
        onto_delivered["id"]: {"order_id": [
            "This order is delivered: lines may only be added to an open order."]},
        onto_cancelled["id"]: {"order_id": [
            "This order is cancelled: lines may only be added to an open order."]}}
    assert line_ids(app) == {first["id"]}
    kept = {q["record_id"]: q for q in stored(app, QuarantinedRecord)}
    assert kept[onto_delivered["id"]]["payload"] == onto_delivered  # kept whole, for review


def test_a_line_joins_an_open_order_only_within_the_edit_window(world, app, rows, phone):
    recent = stored_order(rows, world, received_hours_ago=23)
    partly = stored_order(rows, world, received_hours_ago=2, status="partially_delivered")
    old = stored_order(rows, world, received_hours_ago=25)
    lines = [line_record(recent.id, world.product), line_record(partly.id, world.product),
             line_record(old.id, world.product)]

    result = phone.push(changes(order_lines={"created": lines}))

    assert result["accepted"]["order_lines"] == 2
    assert refused(result) == {lines[2]["id"]: {"order_id": [WINDOW_PASSED]}}
    assert line_ids(app) == {lines[0]["id"], lines[1]["id"]}


def test_the_edit_window_is_a_setting(world, app, rows, phone, monkeypatch):
    monkeypatch.setitem(app.config, "ORDER_EDIT_WINDOW_MINUTES", 90)
    inside = stored_order(rows, world, received_hours_ago=1)
    outside = stored_order(rows, world, received_hours_ago=2)
    lines = [line_record(inside.id, world.product), line_record(outside.id, world.product)]

    result = phone.push(changes(order_lines={"created": lines}))

    assert result["accepted"]["order_lines"] == 1
    assert refused(result) == {lines[1]["id"]: {"order_id": [
        "This order reached the server more than 90 minutes before this line: lines may only "
        "be added within that time (or in the push that creates the order)."]}}


def test_the_window_runs_from_the_servers_receipt_not_the_phones_order_time(world, app, rows,
                                                                          phone):
    # Taken offline three days ago and pushed only now, with its lines: they all join.
    days_ago = now_ms() - 72 * HOUR_MS
    o = order_record(world.customer, ordered_at=days_ago)
    lines = [line_record(o["id"], world.product), line_record(o["id"], world.product2,
                                                              unit_price=4)]
    # The phone's ordered_at cannot hold the window open: an order the server has held for a
    # day and a half refuses a line whatever time the phone wrote on it.
    held = stored_order(rows, world, received_hours_ago=36)
    late = line_record(held.id, world.product)

    result = phone.push(changes(orders={"created": [o]},
                                order_lines={"created": [*lines, late]}))

    assert result["accepted"] == {**result["accepted"], "orders": 1, "order_lines": 2}
    assert refused(result) == {late["id"]: {"order_id": [WINDOW_PASSED]}}
    # Its next push a minute later (the order is now the server's) may still add a line.
    more = line_record(o["id"], world.product, quantity=1)
    assert phone.push(changes(order_lines={"created": [more]}))["quarantined"] == []
    assert line_ids(app) == {lines[0]["id"], lines[1]["id"], more["id"]}


def test_the_unit_price_is_the_products_give_or_take_the_tolerance(world, app, client, phone):
    o = order_record(world.customer)  # world.product costs 12.50
    discount = line_record(o["id"], world.product, unit_price=11.88)  # 5% off, to the cent
    dearer = line_record(o["id"], world.product, unit_price=13.12)
    too_cheap = line_record(o["id"], world.product, unit_price=0.01)
    absurd = line_record(o["id"], world.product, unit_price=1e11, quantity=999_000)

    result = phone.push(changes(orders={"created": [o]},
                                order_lines={"created": [discount, dearer, too_cheap, absurd]}))

    price = {"unit_price": ["Must be within 5% of the product's price (12.50)."]}
    assert refused(result) == {
        too_cheap["id"]: price,
        absurd["id"]: {**price, "_schema": [
            "The line's value (quantity x unit price) must be at most 100,000,000."]}}
    # Within the tolerance the line is stored as the phone sent it (it pulls it unchanged).
    assert {line["id"]: line["unit_price"] for line in stored(app, OrderLine)} == {
        discount["id"]: 11.88, dearer["id"]: 13.12}

    # An admin replays the cheap line at the product's price: it joins its order.
    entry = next(q for q in stored(app, QuarantinedRecord) if q["record_id"] == too_cheap["id"])
    replay = client.post(f"{QUARANTINE}/{entry['id']}/replay",
                         json={"record": {**too_cheap, "unit_price": 12.5}},
                         headers=world.team.headers["admin"])
    assert replay.status_code == 200, replay.json
    assert too_cheap["id"] in line_ids(app)


def test_the_price_tolerance_is_a_setting(world, app, phone, monkeypatch):
    monkeypatch.setitem(app.config, "ORDER_PRICE_TOLERANCE", 0.0)
    o = order_record(world.customer)
    exact = line_record(o["id"], world.product, unit_price=12.5)
    off = line_record(o["id"], world.product, unit_price=12.49)

    result = phone.push(changes(orders={"created": [o]},
                                order_lines={"created": [exact, off]}))

    assert refused(result) == {off["id"]: {"unit_price": [
        "Must be within 0% of the product's price (12.50)."]}}


def test_quantities_and_line_values_are_bounded(world, app, rows, phone, monkeypatch):
    dear = rows.product(id=uid("p"), sku=uid("SKU"), price=1000.0)
    o = order_record(world.customer)
    huge = line_record(o["id"], world.product, quantity=10_000_000)
    most = line_record(o["id"], world.product, quantity=1_000_000)  # 12.5 million
    too_valuable = line_record(o["id"], dear.id, unit_price=1000, quantity=200_000)

    result = phone.push(changes(orders={"created": [o]},
                                order_lines={"created": [huge, most, too_valuable]}))

    assert refused(result) == {
        huge["id"]: {"quantity": ["Must be at most 1e+06."]},
        too_valuable["id"]: {"_schema": [
            "The line's value (quantity x unit price) must be at most 100,000,000."]}}
    assert line_ids(app) == {most["id"]}

    monkeypatch.setitem(app.config, "ORDER_MAX_LINE_VALUE", 10_000_000.0)
    again = line_record(o["id"], world.product, quantity=1_000_000)
    assert refused(phone.push(changes(order_lines={"created": [again]}))) == {
        again["id"]: {"_schema": [
            "The line's value (quantity x unit price) must be at most 10,000,000."]}}


def test_the_backlog_value_stays_what_the_reps_really_sold(world, app, client, phone):
    # The review's attack: lines at 1e11 pushed onto a delivered order and onto a new one.
    o = order_record(world.customer)
    first = line_record(o["id"], world.product, quantity=2)
    phone.push(changes(orders={"created": [o]}, order_lines={"created": [first]}))
    client.post(f"/api/v1/orders/{o['id']}/deliveries",
                json={"lines": [{"order_line_id": first["id"], "quantity": 2}]},
                headers=world.team.headers["procurement"])
    new = order_record(world.customer)
    honest = line_record(new["id"], world.product, quantity=4)  # 4 x 12.50
    attack = [line_record(o["id"], world.product, quantity=999_000, unit_price=1e11),
              line_record(new["id"], world.product, quantity=999_000, unit_price=1e11),
              line_record(new["id"], world.product, quantity=999_000)]

    result = phone.push(changes(orders={"created": [new]},
                                order_lines={"created": [honest, *attack]}))
    assert result["accepted"]["order_lines"] == 2  # the honest line, and 999,000 at 12.50
    assert set(refused(result)) == {attack[0]["id"], attack[1]["id"]}

    summary = client.get("/api/v1/backlog/summary", headers=world.team.headers["manager"])
    assert summary.status_code == 200, summary.json
    assert summary.json["current"]["backlog_value"] == 50 + 999_000 * 12.5
    detail = client.get(f"/api/v1/orders/{new['id']}", headers=world.team.headers["manager"])
    assert detail.json["value"] == 50 + 999_000 * 12.5


def test_a_replay_is_judged_as_of_its_push_against_the_order_as_it_is_now(world, app, client,
                                                                          phone):
    o = order_record(world.customer)
    kept = line_record(o["id"], world.product, quantity=2)
    cheap = line_record(o["id"], world.product, unit_price=1)
    late = line_record(o["id"], world.product, unit_price=2)
    phone.push(changes(orders={"created": [o]}, order_lines={"created": [kept, cheap, late]}))
    # Two days go by before the review: the order and the push are that old now.
    two_days_ago = now_ms() - 48 * HOUR_MS
    with app.app_context():
        db.session.execute(update(Order).where(Order.id == o["id"])
                           .values(received_at=two_days_ago))
        db.session.execute(update(QuarantinedRecord).values(received_at=two_days_ago))
        db.session.commit()
    entries = {q["record_id"]: q["id"] for q in stored(app, QuarantinedRecord)}
    admin = world.team.headers["admin"]

    fixed = client.post(f"{QUARANTINE}/{entries[cheap['id']]}/replay",
                        json={"record": {**cheap, "unit_price": 12.5}}, headers=admin)
    assert fixed.status_code == 200, fixed.json  # the line was pushed within the window

    client.post(f"/api/v1/orders/{o['id']}/deliveries",
                json={"lines": [{"order_line_id": line_id, "quantity": quantity}
                                for line_id, quantity in ((kept["id"], 2), (cheap["id"], 3))]},
                headers=world.team.headers["procurement"])
    refused_now = client.post(f"{QUARANTINE}/{entries[late['id']]}/replay",
                              json={"record": {**late, "unit_price": 12.5}}, headers=admin)
    assert refused_now.status_code == 422
    assert refused_now.json["error"]["details"] == {"order_id": [
        "This order is delivered: lines may only be added to an open order."]}
    assert line_ids(app) == {kept["id"], cheap["id"]}
