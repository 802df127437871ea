"""Small worlds for the scoring jobs: rows inserted as the phones' sync ingest would leave them.

Ingest fills visits.verified/distance_m/time_on_site_s and location_pings.flags/flagged/
distance_from_previous_m; these helpers set those columns directly. Rows are queued and
written in one commit (`world.commit()`); jobs and reads run in app contexts of their own.
"""
import itertools
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from fieldsales.common import new_id
from fieldsales.customers.models import Customer
from fieldsales.extensions import db
from fieldsales.feedback.models import Feedback
from fieldsales.locations.models import LocationPing
from fieldsales.orders.models import Order, OrderLine
from fieldsales.products.models import Product
from fieldsales.scoring.runner import run_job
from fieldsales.targets.models import Target
from fieldsales.tasks.models import Task
from fieldsales.visits.models import Visit


class World:
    def __init__(self, app):
        self.app = app
        self._n = itertools.count(1)
        self._pending = []

    def _add(self, model, **fields):
        fields.setdefault("id", new_id())
        self._pending.append(model(**fields))
        return SimpleNamespace(**fields)

    def customer(self, *, rep=None, kind="account", segment=None):
        return self._add(Customer, name=f"Customer {next(self._n)}", latitude=52.0,
                         longitude=4.0, geofence_radius_m=100, kind=kind, segment=segment,
                         assigned_rep_id=rep.id if rep else None,
                         team_id=rep.team_id if rep else None)

    def product(self, *, stock=0.0, lead_time_days=7, price=10.0):
        n = next(self._n)
        return self._add(Product, sku=f"SKU-{n}", name=f"Product {n}", unit_price=price,
                         stock_on_hand=stock, lead_time_days=lead_time_days)

    def visit(self, rep, customer, *, at, verified=True, minutes=30, outcome=None):
        return self._add(Visit, rep_id=rep.id, customer_id=customer.id, check_in_at=at,
                         check_in_latitude=52.0, check_in_longitude=4.0,
                         check_out_at=at + minutes * 60_000, outcome=outcome, verified=verified,
                         distance_m=20.0 if verified else 900.0, time_on_site_s=minutes * 60.0)

    def ping(self, rep, *, at, distance_m=100.0, flags=""):
        return self._add(LocationPing, rep_id=rep.id, recorded_at=at, latitude=52.0,
                         longitude=4.0, accuracy_m=10.0, flags=flags, flagged=bool(flags),
                         distance_from_previous_m=distance_m)

    def task(self, rep, *, due_at, category="selling", customer=None, status="open",
             completed_at=None):
        return self._add(Task, assigned_rep_id=rep.id,
                         customer_id=customer.id if customer else None, title="Task",
                         category=category, due_at=due_at, status=status,
                         completed_at=completed_at)

    def order(self, rep, customer, *, at, lines, requested_at=None, status="open", visit=None,
              delivered_at=None):
        """lines: (product, quantity, unit_price[, delivered_quantity]) tuples."""
        order = self._add(Order, rep_id=rep.id, customer_id=customer.id, ordered_at=at,
                          requested_delivery_at=requested_at, status=status,
                          visit_id=visit.id if visit else None, delivered_at=delivered_at)
        order.lines = [
            self._add(OrderLine, order_id=order.id, product_id=product.id, quantity=quantity,
                      unit_price=price, delivered_quantity=delivered[0] if delivered else 0.0)
            for product, quantity, price, *delivered in lines]
        return order

    def feedback(self, rep, customer, *, at, category="delivery", rating=None, product=None,
                 requested_quantity=None):
        return self._add(Feedback, rep_id=rep.id, customer_id=customer.id, recorded_at=at,
                         category=category, rating=rating,
                         product_id=product.id if product else None,
                         requested_quantity=requested_quantity)

    def target(self, rep, *, metric, period, start, end, goal):
        return self._add(Target, team_id=rep.team_id, rep_id=rep.id, metric=metric,
                         period=period, period_start=start, period_end=end, goal=goal)

    def commit(self):
        with self.app.app_context():
            order = {table: i for i, table in enumerate(db.metadata.sorted_tables)}
            for row in sorted(self._pending, key=lambda r: order[r.__table__]):
                db.session.add(row)
                db.session.flush()  # parents first: the models have few relationships
            db.session.commit()
        self._pending = []

    def run(self, name, *, now):
        """Run a job through the runner (lock, run record, one commit); its run as a dict."""
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


@pytest.fixture
def world(app):
    return World(app)
