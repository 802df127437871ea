#!/usr/bin/env python3
"""Times the scoring jobs on a generated company, at full and at half size.

    .venv/bin/python bench/scoring.py                      # SQLite files in a temporary folder
    .venv/bin/python bench/scoring.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test   # fresh schemas

Full size: 1,000 reps in 100 teams with 30 days of activity each: 50 pings a day (1.5 million),
5 visits a day (150,000), an order on a third of the visits (50,000, about 125,000 lines),
3 tasks a day (90,000), some feedback, 20 customers a rep and 500 products. Half size: 500 reps,
the same days. Rows go in with bulk inserts (executemany on SQLite, COPY on PostgreSQL), then
ANALYZE, then each job runs through the runner (lock, run record, one commit) with the
productivity window widened to the whole month, the costliest run it has; the default 7-day
window is timed too. Prints the seconds per job and the full/half ratio (2.0 = linear).
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import sqlalchemy as sa  # noqa: E402

from config import TestingConfig  # noqa: E402
from fieldsales import create_app  # noqa: E402
from fieldsales.common import DAY_MS, HOUR_MS, MINUTE_MS  # noqa: E402
from fieldsales.extensions import db  # noqa: E402
from fieldsales.scratch import scratch_database  # noqa: E402

NOW = 1_717_174_800_000  # Friday 2024-05-31 17:00 UTC: the end of the generated month
PRODUCTS = 500
CUSTOMERS_PER_REP = 20
PINGS_PER_DAY = 50
VISITS_PER_DAY = 5
TASKS_PER_DAY = 3
REPS_PER_TEAM = 10
JOBS = ("productivity", "demand", "backlog")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="PostgreSQL server URL (a fresh schema is made "
                        "and dropped); SQLite files in a temporary folder when omitted")
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--no-half", action="store_true", help="only the full size")
    parser.add_argument("--keep", action="store_true", help="keep the scratch databases")
    args = parser.parse_args()

    sizes = [args.reps] if args.no_half else [args.reps, args.reps // 2]
    results = {}
    for reps in sizes:
        print(f"\n== {reps} reps x {args.days} days "
              f"({'PostgreSQL' if args.database_url else 'SQLite'})", flush=True)
        results[reps] = bench_size(reps=reps, days=args.days, base_url=args.database_url,
                                   keep=args.keep)
    if len(sizes) == 2:
        full, half = (results[n] for n in sizes)
        print(f"\n== growth, {sizes[0]} vs {sizes[1]} reps (2.0 = linear)")
        for name in full:
            ratio = full[name] / half[name] if half[name] else float("nan")
            print(f"{name:28s} {half[name]:8.2f} s -> {full[name]:8.2f} s   x{ratio:.2f}")


def bench_size(*, reps: int, days: int, base_url: str | None, keep: bool) -> dict[str, float]:
    url, drop = scratch_database(base_url, f"bench_scoring_{reps}")
    config = type("BenchConfig", (TestingConfig,), {
        "SQLALCHEMY_DATABASE_URI": url, "SCORING_PRODUCTIVITY_LOOKBACK_DAYS": days + 1,
        "SQLALCHEMY_ENGINE_OPTIONS": {}})
    app = create_app(config)
    timings = {}
    try:
        with app.app_context():
            db.create_all()
            started = time.perf_counter()
            counts = generate(reps=reps, days=days)
            with db.engine.begin() as connection:
                connection.exec_driver_sql("ANALYZE")
            print(f"generated in {time.perf_counter() - started:.1f} s: "
                  + ", ".join(f"{n:,} {t}" for t, n in counts.items()), flush=True)

            from fieldsales.jobs.runner import run_job
            for name in JOBS:
                label = f"{name} ({days + 1}-day window)" if name == "productivity" else name
                timings[label] = timed(run_job, name, label)
            app.config["SCORING_PRODUCTIVITY_LOOKBACK_DAYS"] = 7
            timings["productivity (7-day window)"] = timed(run_job, "productivity",
                                                           "productivity (7-day window)")
            db.session.remove()
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if not keep:
            drop()
        else:
            print(f"kept: {url}")
    return timings


def timed(run_job, name: str, label: str) -> float:
    started = time.perf_counter()
    run = run_job(name, now=NOW)
    seconds = time.perf_counter() - started
    print(f"{label:28s} {seconds:8.2f} s  {run.status}, {run.rows_written:,} rows"
          + (f"  {run.error}" if run.error else ""), flush=True)
    if run.status != "ok":
        raise SystemExit(f"{name} did not run ok")
    return seconds


# ---------------------------------------------------------------------------------------------
# The generated company


def generate(*, reps: int, days: int) -> dict[str, int]:
    """Bulk-insert the company, in batches of 100 reps; returns the row counts."""
    rng = random.Random(7)
    meta = db.metadata.tables
    counts: dict[str, int] = {}
    start = NOW // DAY_MS * DAY_MS - (days - 1) * DAY_MS

    teams = (reps + REPS_PER_TEAM - 1) // REPS_PER_TEAM
    bulk(meta["teams"], [dict(id=f"t{t}", name=f"Team {t}", visit_cadence_days=14,
                              created_at=0) for t in range(teams)], counts)
    bulk(meta["users"], [dict(id=f"m{t}", email=f"m{t}@bench", name=f"Manager {t}",
                              role="manager", password_hash="x", team_id=f"t{t}",
                              selling_style=None, active=True, created_at=0, deleted_at=None)
                         for t in range(teams)], counts)
    bulk(meta["products"], [dict(id=f"p{i}", sku=f"SKU{i}", name=f"Product {i}", unit="each",
                                 unit_price=round(rng.uniform(1, 200), 2),
                                 stock_on_hand=float(rng.randint(0, 3000)),
                                 lead_time_days=rng.randint(3, 21), **synced())
                            for i in range(PRODUCTS)], counts)

    for first in range(0, reps, 100):
        batch = range(first, min(first + 100, reps))
        rows: dict[str, list[dict]] = {name: [] for name in (
            "users", "customers", "location_pings", "visits", "tasks", "orders", "order_lines",
            "feedback")}
        for r in batch:
            rep_rows(rng, r, days, start, rows)
        for name, table_rows in rows.items():
            bulk(meta[name], table_rows, counts)
    return counts


def synced(at: int = NOW - 30 * DAY_MS) -> dict:
    return {"created_seq": 1, "changed_seq": 1, "received_at": at, "deleted_at": None}


def rep_rows(rng: random.Random, r: int, days: int, start: int, rows: dict) -> None:
    rep = f"r{r}"
    rows["users"].append(dict(id=rep, email=f"{rep}@bench", name=f"Rep {r}", role="rep",
                              password_hash="x", team_id=f"t{r // REPS_PER_TEAM}",
                              selling_style="hunter" if r % 2 else "farmer", active=True,
                              created_at=0, deleted_at=None))
    customers = []
    for c in range(CUSTOMERS_PER_REP):
        cid = f"c{r}_{c}"
        customers.append(cid)
        rows["customers"].append(dict(
            id=cid, name=f"Customer {cid}", latitude=38.7 + rng.random() / 10,
            longitude=-9.1 - rng.random() / 10, geofence_radius_m=100.0,
            segment=rng.choice(("key", "b", "c", None)),
            kind="account" if rng.random() < 0.7 else "prospect",
            team_id=f"t{r // REPS_PER_TEAM}", assigned_rep_id=rep, **synced()))
    n_ping = n_visit = n_task = n_order = n_feedback = 0
    for d in range(days):
        day = start + d * DAY_MS
        for i in range(PINGS_PER_DAY):
            flagged = rng.random() < 0.03
            rows["location_pings"].append(dict(
                id=f"g{r}_{n_ping}", rep_id=rep, recorded_at=day + 8 * HOUR_MS + i * 600_000,
                received_at=day + 18 * HOUR_MS, latitude=38.7, longitude=-9.1, accuracy_m=10.0,
                speed_mps=8.0, battery_pct=80.0, flags="implausible_speed" if flagged else "",
                flagged=flagged, distance_from_previous_m=rng.uniform(0, 500),
                implied_speed_mps=rng.uniform(0, 20)))
            n_ping += 1
        for v in range(VISITS_PER_DAY):
            vid = f"v{r}_{n_visit}"
            n_visit += 1
            check_in = day + (9 + v) * HOUR_MS + rng.randint(0, 40) * MINUTE_MS
            verified = rng.random() < 0.9
            minutes = rng.randint(5, 55)
            customer = rng.choice(customers)
            rows["visits"].append(dict(
                id=vid, rep_id=rep, customer_id=customer, check_in_at=check_in,
                check_in_latitude=38.7, check_in_longitude=-9.1, check_in_accuracy_m=10.0,
                check_out_at=check_in + minutes * MINUTE_MS, check_out_latitude=38.7,
                check_out_longitude=-9.1, outcome=None, notes=None, verified=verified,
                distance_m=20.0 if verified else 800.0, time_on_site_s=minutes * 60.0,
                **synced(check_in)))
            if rng.random() < 1 / 3:
                oid = f"o{r}_{n_order}"
                n_order += 1
                ordered_at = check_in + 10 * MINUTE_MS
                age = NOW - ordered_at
                roll = rng.random()
                status = ("cancelled" if roll < 0.02 else
                          "delivered" if age > 7 * DAY_MS and roll < 0.8 else
                          "partially_delivered" if roll < 0.9 else "open")
                rows["orders"].append(dict(
                    id=oid, rep_id=rep, customer_id=customer, visit_id=vid,
                    ordered_at=ordered_at, requested_delivery_at=ordered_at + 5 * DAY_MS,
                    notes=None, status=status, promised_dispatch_at=None,
                    delivered_at=ordered_at + rng.randint(2, 9) * DAY_MS
                    if status == "delivered" else None, **synced(ordered_at)))
                for n in range(rng.randint(1, 4)):
                    quantity = float(rng.randint(1, 20))
                    delivered = (quantity if status == "delivered" else
                                 float(rng.randint(0, int(quantity) - 1))
                                 if status == "partially_delivered" and quantity > 1 else 0.0)
                    rows["order_lines"].append(dict(
                        id=f"{oid}_{n}", order_id=oid, product_id=f"p{rng.randrange(PRODUCTS)}",
                        quantity=quantity, unit_price=round(rng.uniform(1, 200), 2),
                        delivered_quantity=delivered, **synced(ordered_at)))
        for t in range(TASKS_PER_DAY):
            due = day + (10 + 2 * t) * HOUR_MS
            done = rng.random() < 0.7
            category = "admin" if t == 2 else "selling"
            rows["tasks"].append(dict(
                id=f"k{r}_{n_task}", assigned_rep_id=rep,
                customer_id=rng.choice(customers) if category == "selling" else None,
                title="Task", description=None, category=category, due_at=due,
                status="done" if done else "open",
                completed_at=due + rng.randint(-3, 2) * HOUR_MS if done else None,
                completion_note=None, latitude=None, longitude=None, created_by_id=None,
                **synced(due)))
            n_task += 1
        if rng.random() < 0.5:
            rows["feedback"].append(dict(
                id=f"f{r}_{n_feedback}", rep_id=rep, customer_id=rng.choice(customers),
                visit_id=None, recorded_at=day + 15 * HOUR_MS, rating=rng.randint(1, 5),
                category=rng.choice(("product", "delivery", "service")),
                product_id=f"p{rng.randrange(PRODUCTS)}",
                requested_quantity=float(rng.randint(0, 10)), comment=None,
                **synced(day + 15 * HOUR_MS)))
            n_feedback += 1


def bulk(table: sa.Table, rows: list[dict], counts: dict[str, int]) -> None:
    """COPY (PostgreSQL) or one executemany transaction (SQLite); every column given."""
    if not rows:
        return
    counts[table.name] = counts.get(table.name, 0) + len(rows)
    names = list(rows[0])
    raw = db.engine.raw_connection()
    try:
        driver = raw.driver_connection
        if db.engine.dialect.name == "postgresql":
            with driver.cursor() as cursor:
                with cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row([row[n] for n in names])
            driver.commit()
        else:
            cursor = driver.cursor()
            cursor.execute("BEGIN")
            cursor.executemany(
                f"INSERT INTO {table.name} ({', '.join(names)}) "
                f"VALUES ({', '.join('?' for _ in names)})",
                [tuple(row[n] for n in names) for row in rows])
            cursor.execute("COMMIT")
            cursor.close()
    finally:
        raw.close()


if __name__ == "__main__":
    main()
