"""The rows and requests tests are built from, with one set of defaults for the whole suite.

- Users and teams: `user`, `Team` (the `make_user` and `team` fixtures call them).
- Field data as the phones' ingest leaves it, written straight to the database: `World`, one
  keyword-only factory per domain (`world.customer(rep=...)`, `world.visit(rep=..., customer=
  ..., at=...)`). Each call writes its row and commits; it returns the row's id, which also
  carries the fields it was made with (`customer.team_id`), so it goes wherever an id goes.
- What a phone sends and receives over the sync endpoint: `Phone`, `changes` and the
  `*_record` builders.
- Instants: `at("2024-03-05", 9, 30)` in epoch ms.
"""
import itertools
import json
import uuid
from datetime import UTC, date, datetime

from sqlalchemy import select

from config import TestingConfig
from fieldsales.common import new_id, now_ms
from fieldsales.extensions import db
from fieldsales.users import hours
from fieldsales.users.models import Team as TeamRow

PASSWORD = "correct horse battery"
_numbers = itertools.count(1)


def config_for(url: str, **overrides):
    """The testing config on the database at `url`, with `overrides` as settings."""
    return type("TestConfig", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": url, **overrides})


def at(day: str, hour: float = 0, minute: float = 0, second: float = 0) -> int:
    """Epoch ms of `day` (YYYY-MM-DD) at hour:minute:second UTC."""
    d = date.fromisoformat(day)
    base = datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp()
    return int((base + hour * 3600 + minute * 60 + second) * 1000)


def uid(prefix="r") -> str:
    """A fresh id, readable in failures: c000001, v000002, ..."""
    return f"{prefix}{next(_numbers):06d}"


# --- users -------------------------------------------------------------------------------------

def user(app, *, role="rep", manager=None, email=None, name=None, selling_style=None,
         password=PASSWORD):
    """A user made through the service (committed), detached. A rep without a `manager` gets
    a new manager of their own (a rep always belongs to a manager's team)."""
    from fieldsales.users import service

    if role == "rep" and manager is None:
        manager = user(app, role="manager")
    n = next(_numbers)
    with app.app_context():
        made = service.create(
            email=email or f"{role}{n}-{uuid.uuid4().hex[:6]}@example.com",
            password=password, name=name or f"{role.title()} {n}", role=role,
            manager=db.session.merge(manager) if manager is not None else None,
            selling_style=selling_style)
        db.session.commit()
        db.session.refresh(made)
        db.session.expunge(made)
        return made


class Team:
    """A small company: an admin, a procurement user, two managers with reps (`rep` a hunter
    and `rep2` a farmer under `manager`, `other_rep` under `other_manager`), and each one's
    Authorization header in `headers`."""

    ROLES = ("admin", "procurement", "manager", "other_manager", "rep", "rep2", "other_rep")

    def __init__(self, app, *, login):
        self.admin = user(app, role="admin")
        self.procurement = user(app, role="procurement")
        self.manager = user(app, role="manager")
        self.other_manager = user(app, role="manager")
        self.rep = user(app, role="rep", manager=self.manager, selling_style="hunter")
        self.rep2 = user(app, role="rep", manager=self.manager, selling_style="farmer")
        self.other_rep = user(app, role="rep", manager=self.other_manager)
        self.headers = {name: login(getattr(self, name)) for name in self.ROLES}


def working_hours(app, team_id, *, start="08:00", end="18:00", zone="UTC", **fields):
    """The team works start-end every day in `zone` (the suite's default is all day)."""
    with app.app_context():
        row = db.session.get(TeamRow, team_id)
        row.time_zone = zone
        row.working_hours = {day: [start, end] for day in hours.WEEKDAYS}
        for name, value in fields.items():
            setattr(row, name, value)
        db.session.commit()


# --- field data --------------------------------------------------------------------------------

class Made(str):
    """The id of a row a factory wrote, carrying the fields it was written with."""

    def __new__(cls, fields: dict):
        made = super().__new__(cls, fields["id"])
        made.__dict__.update(fields)
        return made


def _id(row):
    """The id of a user, a made row or a plain id; None stays None."""
    return row if row is None or isinstance(row, str) else row.id


class World:
    """Rows written straight to the database, as the REST side or the phones' ingest would
    leave them (visits verified with a distance and a time on site, pings with flags).
    Customers are in the Netherlands (52.0, 4.0) unless placed; rows are undeleted."""

    def __init__(self, app):
        self.app = app

    def add(self, model, **fields):
        """One row of `model`, committed; its id (a made one for text ids)."""
        with self.app.app_context():
            row = model(**fields)
            db.session.add(row)
            db.session.commit()
            fields["id"] = row.id
        return Made(fields) if isinstance(fields["id"], str) else fields["id"]

    def customer(self, *, rep=None, team=None, name=None, lat=52.0, lon=4.0, radius=100,
                 kind="account", **fields):
        """A customer of `rep` (in the rep's team), or of `team` (any user of the team),
        or of nobody."""
        from fieldsales.customers.models import Customer
        team_of = rep if rep is not None else team
        return self.add(Customer, name=name or f"Customer {next(_numbers)}", latitude=lat,
                        longitude=lon, geofence_radius_m=radius, kind=kind,
                        assigned_rep_id=_id(rep),
                        team_id=team_of.team_id if team_of is not None else None, **fields)

    def product(self, *, sku=None, name=None, price=10.0, stock=0.0, lead_time_days=7,
                **fields):
        from fieldsales.products.models import Product
        sku = sku or f"SKU-{next(_numbers)}"
        return self.add(Product, sku=sku, name=name or sku, unit_price=price,
                        stock_on_hand=stock, lead_time_days=lead_time_days, **fields)

    def visit(self, *, rep, customer, at, minutes=30, verified=True, distance_m=None,
              outcome="no_order", lat=52.0, lon=4.0, **fields):
        """A finished visit of `minutes`; verified ones 10 m from the spot, others 900 m."""
        from fieldsales.visits.models import Visit
        if distance_m is None:
            distance_m = 10.0 if verified else 900.0
        return self.add(Visit, rep_id=_id(rep), customer_id=_id(customer), check_in_at=at,
                        check_in_latitude=lat, check_in_longitude=lon,
                        check_out_at=at + minutes * 60_000, outcome=outcome,
                        verified=verified, distance_m=distance_m,
                        time_on_site_s=minutes * 60.0, **fields)

    def ping(self, *, rep, at, lat=52.0, lon=4.0, flags="", distance_m=None, **fields):
        """A GPS ping; `distance_m` from the rep's previous one, `flags` as ingest sets them."""
        from fieldsales.locations.models import LocationPing
        return self.add(LocationPing, rep_id=_id(rep), recorded_at=at, latitude=lat,
                        longitude=lon, accuracy_m=10.0, flags=flags, flagged=bool(flags),
                        distance_from_previous_m=distance_m, **fields)

    def task(self, *, rep, title="Task", category="selling", status=None, customer=None,
             completed_at=None, **fields):
        """A task of `rep`: done when it has `completed_at`, open otherwise."""
        from fieldsales.tasks.models import Task
        if status is None:
            status = "done" if completed_at is not None else "open"
        return self.add(Task, assigned_rep_id=_id(rep), customer_id=_id(customer),
                        title=title, category=category, status=status,
                        completed_at=completed_at, **fields)

    def order(self, *, rep, customer, at, lines, status="open", requested_at=None, visit=None,
              **fields):
        """`lines`: (product, quantity, unit_price[, delivered_quantity]) tuples."""
        from fieldsales.orders.models import Order, OrderLine
        order = {"id": new_id(), "requested_delivery_at": requested_at,
                 "visit_id": _id(visit), **fields,
                 "rep_id": _id(rep), "customer_id": _id(customer), "ordered_at": at,
                 "status": status}
        made_lines = [dict(id=new_id(), order_id=order["id"], product_id=_id(product),
                           quantity=quantity, unit_price=price,
                           delivered_quantity=delivered[0] if delivered else 0.0)
                      for product, quantity, price, *delivered in lines]
        with self.app.app_context():
            db.session.add(Order(**order))
            db.session.flush()  # the order before its lines: the models have few relationships
            db.session.add_all(OrderLine(**line) for line in made_lines)
            db.session.commit()
        return Made({**order, "lines": [Made(line) for line in made_lines]})

    def feedback(self, *, rep, customer, at, category="product", rating=None, product=None,
                 requested_quantity=None, comment=None, **fields):
        from fieldsales.feedback.models import Feedback
        return self.add(Feedback, rep_id=_id(rep), customer_id=_id(customer), recorded_at=at,
                        category=category, rating=rating, product_id=_id(product),
                        requested_quantity=requested_quantity, comment=comment, **fields)

    def planned_visit(self, *, rep, customer, day, sequence=1, status="planned", **fields):
        """A stop of the rep's journey plan on `day` (YYYY-MM-DD, the team's local day), as
        the plan job leaves it (reason cadence)."""
        from fieldsales.plans.models import PlannedVisit
        fields.setdefault("reason", "cadence")
        return self.add(PlannedVisit, rep_id=_id(rep), customer_id=_id(customer),
                        planned_date=day, sequence=sequence, status=status, **fields)

    def target(self, *, rep, metric, period, start, end, goal, **fields):
        """A goal for `rep` (in the rep's team) over [start, end)."""
        from fieldsales.targets.models import Target
        return self.add(Target, team_id=rep.team_id, rep_id=_id(rep), metric=metric,
                        period=period, period_start=start, period_end=end, goal=goal, **fields)

    def event(self, *, type, team_id, subject_id="s-1", payload=None, occurred_at=None):
        """An outbox event (fieldsales/events), as a change's transaction leaves it."""
        from fieldsales.common import now_ms
        from fieldsales.events.models import Event
        return self.add(Event, type=type, team_id=team_id, subject_id=subject_id,
                        payload=payload or {},
                        occurred_at=now_ms() if occurred_at is None else occurred_at)

    # --- reading back

    def run(self, name, *, now):
        """Run a job through the runner (lock, run record, one commit); its run as a dict."""
        from fieldsales.jobs.runner import run_job
        with self.app.app_context():
            run = run_job(name, now=now)
            return {c: getattr(run, c) for c in ("job", "status", "rows_written", "error")}

    def rows(self, model, *where, order_by=None):
        """Rows of `model` (detached, fully loaded) matching `where`."""
        with self.app.app_context():
            query = select(model).where(*where)
            if order_by is not None:
                query = query.order_by(order_by)
            found = db.session.scalars(query).all()
            db.session.expunge_all()
            return found

    def one(self, model, *where):
        found = self.rows(model, *where)
        assert len(found) == 1, found
        return found[0]

    def get(self, model, row_id):
        """The row of `model` with this id (detached), or None."""
        with self.app.app_context():
            row = db.session.get(model, row_id)
            if row is not None:
                db.session.expunge(row)
            return row


def stored(app, model, **where):
    """Rows of `model` as dicts of their columns, in id order (read straight from the
    database)."""
    with app.app_context():
        query = select(model).filter_by(**where).order_by(*model.__mapper__.primary_key)
        result = [{c.key: getattr(row, c.key) for c in model.__mapper__.column_attrs}
                  for row in db.session.scalars(query)]
        db.session.rollback()
        return result


# --- the phones' side of sync ------------------------------------------------------------------

TABLE_NAMES = ("customers", "products", "tasks", "visits", "location_pings", "feedback",
               "orders", "order_lines")


def changes(**tables) -> dict:
    """A changes object like a stock WatermelonDB client sends: every table of schema version
    1, empty lists, and the version-2 tables (planned_visits) named."""
    body = {name: {"created": [], "updated": [], "deleted": []} for name in TABLE_NAMES}
    for name, parts in tables.items():
        body.setdefault(name, {"created": [], "updated": [], "deleted": []}).update(parts)
    return body


def ids(pulled: dict, table: str, kind: str) -> set:
    """The ids a pull sent for `table` as `kind` (created, updated or deleted)."""
    items = pulled["changes"][table][kind]
    return set(items) if kind == "deleted" else {r["id"] for r in items}


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


def local_day(at_ms: int, zone: str = "UTC") -> str:
    """The day (YYYY-MM-DD) an instant falls on in a time zone (a team's local day)."""
    from zoneinfo import ZoneInfo
    return datetime.fromtimestamp(at_ms / 1000, ZoneInfo(zone)).date().isoformat()


def visit_record(customer_id, **overrides) -> dict:
    """A visit a phone sends, checked in at Kiosk Mitte's spot (the sync world's customer)."""
    record = {"id": uid("v"), "customer_id": customer_id, "check_in_at": now_ms() - 3_600_000,
              "check_in_latitude": 52.52, "check_in_longitude": 13.405,
              "check_in_accuracy_m": 10.0, "check_out_at": now_ms() - 1_800_000,
              "check_out_latitude": 52.52, "check_out_longitude": 13.405,
              "outcome": "order", "notes": "fine", "verified": None, "distance_m": None,
              "_status": "created", "_changed": ""}
    record.update(overrides)
    return record


def ping_record(recorded_at=None, lat=52.52, lng=13.405, **overrides) -> dict:
    record = {"id": uid("g"), "recorded_at": recorded_at or now_ms() - 60_000, "latitude": lat,
              "longitude": lng, "accuracy_m": 8.0, "speed_mps": 1.5, "battery_pct": 80.0}
    record.update(overrides)
    return record


def order_record(customer_id, **overrides) -> dict:
    record = {"id": uid("o"), "customer_id": customer_id, "visit_id": None,
              "ordered_at": now_ms() - 600_000, "requested_delivery_at": now_ms() + 86_400_000,
              "notes": None, "status": None, "promised_dispatch_at": None}
    record.update(overrides)
    return record


def line_record(order_id, product_id, **overrides) -> dict:
    record = {"id": uid("l"), "order_id": order_id, "product_id": product_id, "quantity": 3,
              "unit_price": 12.5, "delivered_quantity": None}
    record.update(overrides)
    return record


def feedback_record(customer_id, **overrides) -> dict:
    record = {"id": uid("f"), "customer_id": customer_id, "visit_id": None,
              "recorded_at": now_ms() - 300_000, "rating": 4, "category": "product",
              "product_id": None, "requested_quantity": None, "comment": "likes it"}
    record.update(overrides)
    return record
