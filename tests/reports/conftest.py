"""A small world builder for report tests: rows written straight to the database."""
from datetime import date, datetime, timezone

import pytest

from fieldsales.extensions import db


def at(day: str, hour: float = 0, minute: float = 0, second: float = 0) -> int:
    """Epoch ms of `day` (YYYY-MM-DD) at hour:minute:second UTC."""
    d = date.fromisoformat(day)
    base = datetime(d.year, d.month, d.day, tzinfo=timezone.utc).timestamp()
    return int((base + hour * 3600 + minute * 60 + second) * 1000)


class World:
    """Adds rows in an app context and commits; returns plain ids."""

    def __init__(self, app):
        self.app = app

    def add(self, model, **fields):
        with self.app.app_context():
            row = model(**fields)
            db.session.add(row)
            db.session.commit()
            return row.id

    def customer(self, *, team=None, rep=None, name="Shop", lat=0.0, lon=0.0, kind="account",
                 radius=100, phone=None, **extra):
        from fieldsales.customers.models import Customer
        return self.add(Customer, name=name, latitude=lat, longitude=lon, kind=kind,
                        geofence_radius_m=radius, phone=phone,
                        team_id=team.team_id if team is not None else None,
                        assigned_rep_id=rep.id if rep is not None else None, **extra)

    def product(self, *, sku, name=None, price=10.0, stock=0, lead_time_days=7):
        from fieldsales.products.models import Product
        return self.add(Product, sku=sku, name=name or sku, unit_price=price,
                        stock_on_hand=stock, lead_time_days=lead_time_days)

    def visit(self, *, rep, customer, at_ms, minutes=30, verified=True, distance_m=10.0,
              outcome="no_order", **extra):
        from fieldsales.visits.models import Visit
        return self.add(Visit, rep_id=rep.id, customer_id=customer, check_in_at=at_ms,
                        check_in_latitude=0, check_in_longitude=0,
                        check_out_at=at_ms + minutes * 60_000, outcome=outcome,
                        verified=verified, distance_m=distance_m, time_on_site_s=minutes * 60,
                        **extra)

    def order(self, *, rep, customer, at_ms, lines, status="open", **extra):
        """`lines`: [(product_id, quantity, unit_price)] or with delivered quantity as 4th."""
        from fieldsales.orders.models import Order, OrderLine
        with self.app.app_context():
            order = Order(rep_id=rep.id, customer_id=customer, ordered_at=at_ms, status=status,
                          **extra)
            db.session.add(order)
            db.session.flush()
            for line in lines:
                product, quantity, price, *delivered = line
                db.session.add(OrderLine(order_id=order.id, product_id=product,
                                         quantity=quantity, unit_price=price,
                                         delivered_quantity=delivered[0] if delivered else 0))
            db.session.commit()
            return order.id

    def task(self, *, rep, title="Task", category="selling", status="done", completed_at=None,
             customer=None, **extra):
        from fieldsales.tasks.models import Task
        return self.add(Task, assigned_rep_id=rep.id, title=title, category=category,
                        status=status, completed_at=completed_at, customer_id=customer, **extra)

    def feedback(self, *, rep, customer, at_ms, category="product", rating=None, product=None,
                 quantity=None, comment=None):
        from fieldsales.feedback.models import Feedback
        return self.add(Feedback, rep_id=rep.id, customer_id=customer, recorded_at=at_ms,
                        category=category, rating=rating, product_id=product,
                        requested_quantity=quantity, comment=comment)

    def ping(self, *, rep, at_ms, lat, lon, flags=""):
        from fieldsales.locations.models import LocationPing
        return self.add(LocationPing, rep_id=rep.id, recorded_at=at_ms, latitude=lat,
                        longitude=lon, accuracy_m=10, flags=flags, flagged=bool(flags))

    def get(self, model, row_id):
        with self.app.app_context():
            row = db.session.get(model, row_id)
            if row is not None:
                db.session.expunge(row)
            return row


@pytest.fixture
def world(app):
    return World(app)
