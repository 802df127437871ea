"""The outbox (fieldsales/events): each event is written once for its change, in the change's
transaction, and none is left when the change is rolled back or refused."""
import pytest
from sqlalchemy import select

from fieldsales.common import DAY_MS, new_id, now_ms
from fieldsales.customers.models import Customer
from fieldsales.events.models import Event
from fieldsales.events.service import TYPES, emit
from fieldsales.extensions import db
from fieldsales.orders.models import Order, OrderLine
from fieldsales.plans.models import PlannedVisit
from fieldsales.plans.status import mark_missed
from fieldsales.products.models import Product
from tests.factories import Phone, changes, feedback_record, order_record, uid, visit_record


@pytest.fixture
def phone(client, team):
    return Phone(client, team.headers["rep"])


@pytest.fixture
def customer(world, team):
    return world.customer(id=uid("c"), rep=team.rep, name="Kiosk Mitte", lat=52.52,
                          lon=13.405, kind="account")


def events(app, type=None):
    with app.app_context():
        query = select(Event).order_by(Event.id)
        if type:
            query = query.where(Event.type == type)
        return [(e.type, e.subject_id, e.team_id, e.payload)
                for e in db.session.scalars(query)]


def test_every_type_has_a_meaning():
    assert len(TYPES) == 10 and all(TYPES.values())
    with pytest.raises(ValueError):
        emit(type="order.invented", team_id=None, subject_id="x", payload={})


def test_a_push_emits_each_event_once_and_a_retry_none_again(app, team, phone, customer):
    open_visit = visit_record(customer, check_out_at=None, check_out_latitude=None,
                              check_out_longitude=None)
    order = order_record(customer)
    complaint = feedback_record(customer, rating=2)
    fine = feedback_record(customer, rating=3)
    body = changes(visits={"created": [open_visit]}, orders={"created": [order]},
                   feedback={"created": [complaint, fine]})
    phone.push(body)
    phone.push(body)  # a retry of the same push (the answer was lost)

    got = events(app)
    assert sorted((t, s) for t, s, _, _ in got) == sorted([
        ("visit.checked_in", open_visit["id"]), ("order.created", order["id"]),
        ("feedback.complaint", complaint["id"])])
    assert {team_id for _, _, team_id, _ in got} == {team.rep.team_id}
    assert events(app, "feedback.complaint")[0][3]["rating"] == 2

    phone.pull()
    closed = {**open_visit, "check_out_at": now_ms() - 60_000, "check_out_latitude": 52.52,
              "check_out_longitude": 13.405, "_status": "updated"}
    phone.push(changes(visits={"updated": [closed]}))
    phone.push(changes(visits={"updated": [closed]}))
    completed = events(app, "visit.completed")
    assert [s for _, s, _, _ in completed] == [open_visit["id"]]
    payload = completed[0][3]
    assert payload["verified"] in (True, 1) and payload["distance_m"] is not None
    assert len(events(app, "visit.checked_in")) == 1


def test_a_visit_pushed_complete_is_checked_in_and_completed(app, team, phone, customer):
    visit = visit_record(customer)
    phone.push(changes(visits={"created": [visit]}))
    assert sorted(t for t, _, _, _ in events(app)) == ["visit.checked_in", "visit.completed"]


def _order(app, rep, *, stock=10, quantity=5):
    product, customer, order, line = new_id(), new_id(), new_id(), new_id()
    with app.app_context():
        for row in (Product(id=product, sku=f"SKU-{product}", name="Paint", unit_price=10,
                            stock_on_hand=stock, lead_time_days=5),
                    Customer(id=customer, name="Shop", latitude=1.0, longitude=1.0,
                             kind="account", assigned_rep_id=rep.id, team_id=rep.team_id),
                    Order(id=order, rep_id=rep.id, customer_id=customer, status="open",
                          ordered_at=now_ms() - DAY_MS),
                    OrderLine(id=line, order_id=order, product_id=product, quantity=quantity,
                              unit_price=10.0)):
            db.session.add(row)
            db.session.flush()
        db.session.commit()
    return order, line


def _deliver(client, team, order, line, quantity):
    return client.post(f"/api/v1/orders/{order}/deliveries", headers=team.headers["procurement"],
                       json={"lines": [{"order_line_id": line, "quantity": quantity}]})


def test_a_delivery_emits_order_delivered_partly_then_fully(app, client, team):
    order, line = _order(app, team.rep)
    assert _deliver(client, team, order, line, 2).status_code == 201
    assert _deliver(client, team, order, line, 3).status_code == 201
    got = events(app, "order.delivered")
    assert [(s, p["fully"], p["status"]) for _, s, _, p in got] == [
        (order, False, "partially_delivered"), (order, True, "delivered")]
    assert got[0][2] == team.rep.team_id


def test_a_refused_delivery_leaves_no_event(app, client, team):
    order, line = _order(app, team.rep, stock=1)
    assert _deliver(client, team, order, line, 3).status_code == 409  # insufficient stock
    assert events(app) == []


def test_a_rolled_back_change_leaves_no_event(app, team):
    order, line = _order(app, team.rep)
    with app.app_context():
        from fieldsales.orders import service
        row = db.session.get(Order, order)
        service.deliver(order=row, lines=[{"order_line_id": line, "quantity": 5}],
                        delivered_at=None, by=_user(team.rep.id))
        db.session.flush()
        assert db.session.scalar(select(Event.id)) is not None  # there, inside the change
        db.session.rollback()  # a crash before the commit
    assert events(app) == []
    with app.app_context():
        assert db.session.get(Order, order).status == "open"


def _user(user_id):
    from fieldsales.users.models import User
    return db.session.get(User, user_id)


def test_mark_missed_emits_plan_missed_once_per_stop(app, team, customer):
    with app.app_context():
        past = PlannedVisit(id=new_id(), rep_id=team.rep.id, customer_id=customer,
                            planned_date="2000-01-03", sequence=1, status="planned")
        db.session.add(past)
        db.session.commit()
        stop = past.id
        assert mark_missed(now=now_ms()) == 1
        db.session.commit()
        assert mark_missed(now=now_ms()) == 0
        db.session.commit()
    got = events(app, "plan.missed")
    assert [(s, p["planned_date"]) for _, s, _, p in got] == [(stop, "2000-01-03")]
    assert got[0][2] == team.rep.team_id
