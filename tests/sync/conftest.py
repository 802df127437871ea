"""Sync fixtures: a small world of customers, products and tasks, and a phone that syncs.

Rows are made through the ORM inside an app context (committed), as the REST side would;
the sync endpoints are always driven over HTTP.
"""
import itertools
import json

import pytest

from fieldsales.common import now_ms
from fieldsales.customers.models import Customer
from fieldsales.extensions import db
from fieldsales.products.models import Product
from fieldsales.tasks.models import Task

TABLE_NAMES = ("customers", "products", "tasks", "visits", "location_pings", "feedback",
               "orders", "order_lines")
_ids = itertools.count(1)


def uid(prefix="r") -> str:
    return f"{prefix}{next(_ids):06d}"


def changes(**tables) -> dict:
    """A changes object like a stock WatermelonDB client sends: every table, empty lists."""
    body = {name: {"created": [], "updated": [], "deleted": []} for name in TABLE_NAMES}
    for name, parts in tables.items():
        body[name].update(parts)
    return body


class Phone:
    """One phone of a rep: pulls and pushes over HTTP, remembering its last timestamp."""

    def __init__(self, client, headers, device="phone-1"):
        self.client = client
        self.headers = {**headers, "X-Device-Id": device}
        self.last_pulled_at = None

    def pull(self, last_pulled_at="keep", expect=200, **params):
        since = self.last_pulled_at if last_pulled_at == "keep" else last_pulled_at
        query = {"last_pulled_at": "null" if since is None else since, **params}
        response = self.client.get("/api/v1/sync", query_string=query, headers=self.headers)
        assert response.status_code == expect, response.get_json()
        if expect == 200:
            self.last_pulled_at = response.json["timestamp"]
        return response.json

    def push(self, body, last_pulled_at="keep", expect=200, raw=False,
             content_type="text/plain;charset=UTF-8"):
        since = self.last_pulled_at if last_pulled_at == "keep" else last_pulled_at
        data = body if raw else json.dumps(body)
        response = self.client.post(
            "/api/v1/sync", query_string={"last_pulled_at": "null" if since is None else since},
            data=data, headers={**self.headers, "Content-Type": content_type})
        assert response.status_code == expect, response.get_json()
        return response.json


@pytest.fixture
def phone(client, team):
    return Phone(client, team.headers["rep"])


@pytest.fixture
def phone2(client, team):
    """The same rep's second phone."""
    return Phone(client, team.headers["rep"], device="phone-2")


@pytest.fixture
def other_phone(client, team):
    return Phone(client, team.headers["other_rep"], device="other")


class World:
    pass


def add(app, *rows):
    with app.app_context():
        for row in rows:
            db.session.add(row)
        db.session.commit()
        return [row.id for row in rows]


@pytest.fixture
def world(app, team):
    """Customers of the rep (Berlin, 100 m geofence), of another rep, products, a task."""
    w = World()
    w.team = team
    (w.customer, w.customer2, w.foreign_customer, w.product, w.product2, w.gone_product,
     w.task) = add(
        app,
        Customer(id=uid("c"), name="Kiosk Mitte", latitude=52.52, longitude=13.405,
                 geofence_radius_m=100, kind="prospect", assigned_rep_id=team.rep.id,
                 team_id=team.rep.team_id),
        Customer(id=uid("c"), name="Cafe Nord", latitude=52.55, longitude=13.40,
                 geofence_radius_m=50, kind="account", segment="horeca", phone="+49301",
                 assigned_rep_id=team.rep.id, team_id=team.rep.team_id),
        Customer(id=uid("c"), name="Elsewhere", latitude=48.1, longitude=11.5,
                 geofence_radius_m=100, kind="account", assigned_rep_id=team.other_rep.id,
                 team_id=team.other_rep.team_id),
        Product(id=uid("p"), sku=uid("SKU"), name="Cola 0.5", unit="bottle", unit_price=12.5,
                stock_on_hand=40),
        Product(id=uid("p"), sku=uid("SKU"), name="Water", unit="crate", unit_price=4,
                stock_on_hand=0),
        Product(id=uid("p"), sku=uid("SKU"), name="Old", unit="each", unit_price=1,
                stock_on_hand=0, deleted_at=now_ms()),
        Task(id=uid("t"), assigned_rep_id=team.rep.id, title="Visit Kiosk", category="selling",
             status="open", due_at=now_ms() + 3_600_000),
    )
    return w


def visit(customer_id, **overrides) -> dict:
    """A visit checked in at the customer's spot (Kiosk Mitte by default)."""
    record = {"id": uid("v"), "customer_id": customer_id, "check_in_at": now_ms() - 3_600_000,
              "check_in_latitude": 52.52, "check_in_longitude": 13.405,
              "check_in_accuracy_m": 10.0, "check_out_at": now_ms() - 1_800_000,
              "check_out_latitude": 52.52, "check_out_longitude": 13.405,
              "outcome": "order", "notes": "fine", "verified": None, "distance_m": None,
              "_status": "created", "_changed": ""}
    record.update(overrides)
    return record


def ping(recorded_at=None, lat=52.52, lng=13.405, **overrides) -> dict:
    record = {"id": uid("g"), "recorded_at": recorded_at or now_ms() - 60_000, "latitude": lat,
              "longitude": lng, "accuracy_m": 8.0, "speed_mps": 1.5, "battery_pct": 80.0}
    record.update(overrides)
    return record


def order(customer_id, **overrides) -> dict:
    record = {"id": uid("o"), "customer_id": customer_id, "visit_id": None,
              "ordered_at": now_ms() - 600_000, "requested_delivery_at": now_ms() + 86_400_000,
              "notes": None, "status": None, "promised_dispatch_at": None}
    record.update(overrides)
    return record


def line(order_id, product_id, **overrides) -> dict:
    record = {"id": uid("l"), "order_id": order_id, "product_id": product_id, "quantity": 3,
              "unit_price": 12.5, "delivered_quantity": None}
    record.update(overrides)
    return record


def feedback(customer_id, **overrides) -> dict:
    record = {"id": uid("f"), "customer_id": customer_id, "visit_id": None,
              "recorded_at": now_ms() - 300_000, "rating": 4, "category": "product",
              "product_id": None, "requested_quantity": None, "comment": "likes it"}
    record.update(overrides)
    return record


def ids(pulled: dict, table: str, kind: str) -> set:
    items = pulled["changes"][table][kind]
    return set(items) if kind == "deleted" else {r["id"] for r in items}


def stored(app, model, **where):
    """Rows of `model` as dicts (read straight from the database)."""
    with app.app_context():
        query = db.select(model).filter_by(**where).order_by(*model.__mapper__.primary_key)
        result = [{c.key: getattr(row, c.key) for c in model.__mapper__.column_attrs}
                  for row in db.session.scalars(query)]
        db.session.rollback()
        return result
