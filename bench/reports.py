#!/usr/bin/env python3
"""Times the reports that grow with the data, at full and at half size.

    .venv/bin/python bench/reports.py                      # a SQLite file in a temporary folder
    .venv/bin/python bench/reports.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test   # a fresh schema

Full size: 50,000 customers at a dense-city 25 per square km, so the area grows with their
number (1 in 50 entered twice: a twin a few metres away with the name in capitals, or
elsewhere with the same phone), 20,000 open orders
with 3 lines each over 500 products, and one rep's day of 840 pings (one a minute, 06:00-20:00).
Times, through HTTP with the test client as an admin: the duplicate finder (SQL pairing, then
Python on the candidate pairs), the first backlog page (rank order, per-line stock over every
open line), the backlog CSV export (every open order) and a rep's day. Prints seconds and the
full/half ratio (2.0 = linear).
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import sqlalchemy as sa  # noqa: E402

from config import TestingConfig  # noqa: E402
from fieldsales import create_app  # noqa: E402
from fieldsales.common import DAY_MS, HOUR_MS, MINUTE_MS  # noqa: E402
from fieldsales.extensions import db  # noqa: E402
from fieldsales.scratch import scratch_database  # noqa: E402

NOW = 1_717_174_800_000  # Friday 2024-05-31 17:00 UTC
PASSWORD = "bench-password"
KINDS = ("Cafe", "Mercearia", "Farmacia", "Padaria", "Talho", "Quiosque", "Tabacaria",
         "Papelaria", "Restaurante", "Minimercado", "Frutaria", "Drogaria", "Pastelaria",
         "Livraria", "Florista", "Garrafeira", "Peixaria", "Retrosaria", "Sapataria", "Bar")
NAMES = ("Silva", "Santos", "Ferreira", "Pereira", "Oliveira", "Costa", "Rodrigues",
         "Martins", "Jesus", "Sousa", "Fernandes", "Goncalves", "Gomes", "Lopes", "Marques",
         "Alves", "Almeida", "Ribeiro", "Pinto", "Carvalho", "Teixeira", "Moreira", "Correia",
         "Mendes", "Nunes", "Soares", "Vieira", "Monteiro", "Cardoso", "Rocha", "Aurora",
         "Central", "Popular", "Moderna", "Avenida", "Estrela", "Liberdade", "Bairro", "Largo")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="PostgreSQL server URL (a fresh schema is made "
                        "and dropped); a SQLite file in a temporary folder when omitted")
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--orders", type=int, default=20_000)
    args = parser.parse_args()
    results = {}
    for scale in (1.0, 0.5):
        customers, orders = int(args.customers * scale), int(args.orders * scale)
        print(f"\n== {customers} customers, {orders} open orders", flush=True)
        results[scale] = run(args.database_url, customers, orders)
    print("\n== seconds (full / half = ratio)")
    for name in results[1.0]:
        full, half = results[1.0][name], results[0.5][name]
        print(f"{name:<22} {full:7.3f}  {half:7.3f}  {full / half if half else 0:5.2f}")


def run(server_url: str | None, n_customers: int, n_orders: int) -> dict:
    url, drop = scratch_database(server_url, "bench_reports")
    app = create_app(type("BenchConfig", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": url}))
    try:
        with app.app_context():
            db.create_all()
            ids = generate(n_customers, n_orders)
        client = app.test_client()
        token = client.post("/api/v1/auth/token", json={"email": "admin@bench", "password":
                                                        PASSWORD}).json["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        timings = {}
        for name, path in [
            ("duplicates", "/api/v1/customers/duplicates?limit=100"),
            ("backlog first page", "/api/v1/backlog?limit=100"),
            ("backlog csv (all)", "/api/v1/backlog?format=csv"),
            ("rep day", f"/api/v1/reps/{ids['rep']}/activity?date=2024-05-30"),
        ]:
            started = time.perf_counter()
            response = client.get(path, headers=headers)
            timings[name] = time.perf_counter() - started
            assert response.status_code == 200, response.get_data(as_text=True)[:300]
            size = (len(response.json["items"]) if response.is_json and "items" in response.json
                    else len(response.get_data()))
            print(f"{name:<22} {timings[name]:7.3f} s  ({size})", flush=True)
        return timings
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        drop()


def generate(n_customers: int, n_orders: int) -> dict:
    from fieldsales.customers.models import Customer
    from fieldsales.locations.models import LocationPing
    from fieldsales.orders.models import Order, OrderLine
    from fieldsales.products.models import Product
    from fieldsales.users import service as users

    rng = random.Random(7)
    users.create(email="admin@bench", password=PASSWORD, name="Admin", role="admin")
    manager = users.create(email="manager@bench", password=PASSWORD, name="M", role="manager")
    rep = users.create(email="rep@bench", password=PASSWORD, name="R", role="rep",
                       manager=manager)
    db.session.commit()

    def new_id() -> str:
        return uuid.uuid4().hex[:16]

    customers = []
    side_km = (n_customers / 25) ** 0.5
    lat_span, lon_span = side_km / 111.2, side_km / 86.8  # at 38.7 deg north
    for i in range(n_customers):
        lat, lon = 38.70 + rng.random() * lat_span, -9.25 + rng.random() * lon_span
        row = {"id": new_id(), "name": f"{rng.choice(KINDS)} {rng.choice(NAMES)} {i}",
               "latitude": lat,
               "longitude": lon, "kind": "account", "geofence_radius_m": 100.0,
               "phone": f"+351 9{i:08d}", "team_id": manager.team_id,
               "assigned_rep_id": rep.id, "created_seq": 1, "changed_seq": 1, "received_at": 0}
        customers.append(row)
        if i % 50 == 0:
            twin = dict(row, id=new_id(), name=row["name"].upper() + ".")
            if i % 100 == 0:
                twin["latitude"] += 0.0001
            else:
                twin["latitude"], twin["phone"] = lat - 0.05, row["phone"].replace(" ", "-")
            customers.append(twin)
    db.session.execute(sa.insert(Customer), customers)
    products = [{"id": new_id(), "sku": f"SKU{i}", "name": f"Product {i}", "unit": "each",
                 "unit_price": 10.0, "stock_on_hand": rng.choice((0.0, 50.0, 500.0)),
                 "lead_time_days": 7, "created_seq": 1, "changed_seq": 1, "received_at": 0}
                for i in range(500)]
    db.session.execute(sa.insert(Product), products)
    orders, lines = [], []
    for _ in range(n_orders):
        order_id = new_id()
        orders.append({"id": order_id, "rep_id": rep.id,
                       "customer_id": customers[rng.randrange(len(customers))]["id"],
                       "ordered_at": NOW - rng.randrange(60) * DAY_MS, "status": "open",
                       "requested_delivery_at": NOW - rng.randrange(-20, 40) * DAY_MS,
                       "created_seq": 1, "changed_seq": 1, "received_at": 0})
        for _ in range(3):
            lines.append({"id": new_id(), "order_id": order_id,
                          "product_id": products[rng.randrange(500)]["id"],
                          "quantity": float(rng.randint(1, 20)), "unit_price": 10.0,
                          "delivered_quantity": 0.0, "created_seq": 1, "changed_seq": 1,
                          "received_at": 0})
    db.session.execute(sa.insert(Order), orders)
    db.session.execute(sa.insert(OrderLine), lines)
    day = NOW - DAY_MS - 17 * HOUR_MS  # 2024-05-30 00:00 UTC
    pings, lat = [], 38.72
    for minute in range(6 * 60, 20 * 60):
        if minute % 40 >= 20:  # 20 minutes moving, 20 minutes still
            lat += 0.0005
        pings.append({"id": new_id(), "rep_id": rep.id, "recorded_at": day + minute * MINUTE_MS,
                      "received_at": day, "latitude": lat, "longitude": -9.14,
                      "accuracy_m": 10.0, "flags": "", "flagged": False})
    db.session.execute(sa.insert(LocationPing), pings)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("ANALYZE"))
    from fieldsales.jobs.runner import run_job
    run_job("backlog", now=NOW)
    return {"rep": rep.id}


if __name__ == "__main__":
    main()
