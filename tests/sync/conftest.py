"""Sync fixtures: a small world of customers, products and a task, and the phones that sync.

The sync endpoints are always driven over HTTP (tests.factories.Phone).
"""
from types import SimpleNamespace

import pytest

from fieldsales.common import now_ms
from tests.factories import Phone, uid


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


@pytest.fixture
def world(world, team):
    """Ids of the rep's customers in Berlin (Kiosk Mitte, a prospect with a 100 m geofence,
    and Cafe Nord), another rep's customer in Munich, two products and a deleted one, and a
    task of the rep due in an hour."""
    return SimpleNamespace(
        team=team,
        customer=world.customer(id=uid("c"), rep=team.rep, name="Kiosk Mitte", lat=52.52,
                                lon=13.405, kind="prospect"),
        customer2=world.customer(id=uid("c"), rep=team.rep, name="Cafe Nord", lat=52.55,
                                 lon=13.40, radius=50, segment="horeca", phone="+49301"),
        foreign_customer=world.customer(id=uid("c"), rep=team.other_rep, name="Elsewhere",
                                        lat=48.1, lon=11.5),
        product=world.product(id=uid("p"), sku=uid("SKU"), name="Cola 0.5", unit="bottle",
                              price=12.5, stock=40),
        product2=world.product(id=uid("p"), sku=uid("SKU"), name="Water", unit="crate",
                               price=4, stock=0),
        gone_product=world.product(id=uid("p"), sku=uid("SKU"), name="Old", unit="each",
                                   price=1, stock=0, deleted_at=now_ms()),
        task=world.task(id=uid("t"), rep=team.rep, title="Visit Kiosk", category="selling",
                        status="open", due_at=now_ms() + 3_600_000),
    )
