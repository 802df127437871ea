"""Push throughput: records/second through POST /api/v1/sync against a plain executemany.

    .venv/bin/python bench/sync_push.py                       # scratch SQLite file
    .venv/bin/python bench/sync_push.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/sync_push.py --profile              # cProfile of a 10,000-ping push

For 100, 1,000 and 10,000 mixed records (70% location pings, 10% visits, 5% feedback, 5% orders,
10% order lines) and for 10,000 pings alone, it times the real endpoint (the Flask test client:
routing, auth, JSON parsing, validation, facts, one transaction), then inserts the very rows the
push stored (fresh ids) with SQLAlchemy Core executemany, one statement per table, in one
transaction on the same database: the floor any ingest could reach. Prints both rates and the
ratio. Each size runs on empty tables; the best of --repeat runs is shown.

Beside them, measured in the same run on the same rows (fresh ids each):
- the raw driver: one `executemany` per table on the driver's own connection, in one
  transaction (sqlite3 on SQLite; psycopg `executemany`, and `COPY ... FROM STDIN`, on
  PostgreSQL), no SQLAlchemy at all;
- a naive endpoint (registered on the bench's app only, behind the same auth): it parses the
  JSON, cleans every record against its columns, adds one ORM object per record and commits
  once: what the push would be without its set-based work.
The endpoint's rate is printed as a share of the raw driver's (goal: 30% or more) and as a
multiple of the naive endpoint's (goal: 10 times or more), for the 10,000-ping push.

Then a small push, a phone's usual one: 30 pings and a visit, its median time over
--small-repeat pushes (goal: 5 ms) and its SQL statements, beside the framework floor (an
authenticated `GET /api/v1/users/me`).
"""
import argparse
import cProfile
import json
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from config import TestingConfig  # noqa: E402
from fieldsales import create_app  # noqa: E402
from fieldsales.common import DAY_MS, HOUR_MS, now_ms  # noqa: E402
from fieldsales.customers.models import Customer  # noqa: E402
from fieldsales.extensions import db  # noqa: E402
from fieldsales.products.models import Product  # noqa: E402
from fieldsales.scratch import scratch_database  # noqa: E402
from fieldsales.sync.tables import TABLES  # noqa: E402
from fieldsales.users import service as users  # noqa: E402
from fieldsales.users.credentials import issue_token  # noqa: E402
from fieldsales.users.guard import current_user, require  # noqa: E402

PUSHED = ("visits", "location_pings", "feedback", "orders", "order_lines")

# Goals of issue 15.
GOAL_RAW_SHARE = 0.30  # the endpoint's rate, as a share of the raw driver's executemany
GOAL_NAIVE_TIMES = 10.0  # the endpoint's rate, as a multiple of the naive endpoint's
GOAL_SMALL_MS = 5.0  # 30 pings and a visit


def setup(url: str):
    config = type("BenchConfig", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": url})
    app = create_app(config)
    app.add_url_rule("/bench/naive-sync", "bench_naive_sync", naive_sync, methods=["POST"])
    with app.app_context():
        db.create_all()
        manager = users.create(email="m@bench", password="x" * 10, name="M", role="manager")
        rep = users.create(email="r@bench", password="x" * 10, name="R", role="rep",
                           manager=manager)
        db.session.flush()
        customers = [Customer(id=f"c{i}", name=f"Shop {i}", latitude=52.5 + i / 1000,
                              longitude=13.4, geofence_radius_m=100, assigned_rep_id=rep.id)
                     for i in range(50)]
        products = [Product(id=f"p{i}", sku=f"SKU{i}", name=f"P{i}", unit_price=2.5 + i,
                            stock_on_hand=100) for i in range(20)]
        db.session.add_all(customers + products)
        token, _ = issue_token(user=rep)
        db.session.commit()
        rep_id = rep.id
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/plain;charset=UTF-8"}
    return app, headers, rep_id


def mixed(n: int, run: str, pings_only: bool = False, start: int | None = None) -> dict:
    """n records for one push, phone-made ids unique per run; pings every 5 s from `start`
    (default: ending now)."""
    body = {name: {"created": [], "updated": [], "deleted": []} for name in TABLES}
    now = now_ms()
    start = now - n * 5_000 if start is None else start
    counts = ({"location_pings": n} if pings_only else
              {"visits": n // 10, "feedback": n // 20, "orders": n // 20,
               "order_lines": n // 10})
    if not pings_only:
        counts["location_pings"] = n - sum(counts.values())
    for i in range(counts.get("visits", 0)):
        body["visits"]["created"].append({
            "id": f"{run}v{i}", "customer_id": f"c{i % 50}", "check_in_at": now - HOUR_MS,
            "check_in_latitude": 52.5 + (i % 50) / 1000, "check_in_longitude": 13.4001,
            "check_in_accuracy_m": 12.0, "check_out_at": now - 1_800_000,
            "check_out_latitude": 52.5, "check_out_longitude": 13.4, "outcome": "order",
            "notes": "bench", "verified": None, "distance_m": None, "_status": "created",
            "_changed": ""})
    for i in range(counts.get("location_pings", 0)):
        body["location_pings"]["created"].append({
            "id": f"{run}g{i}", "recorded_at": start + i * 5_000,
            "latitude": 52.5 + (i % 500) * 1e-5, "longitude": 13.4 + (i % 700) * 1e-5,
            "accuracy_m": 8.0, "speed_mps": 1.2, "battery_pct": 77.0, "_status": "created",
            "_changed": ""})
    for i in range(counts.get("feedback", 0)):
        body["feedback"]["created"].append({
            "id": f"{run}f{i}", "customer_id": f"c{i % 50}", "visit_id": f"{run}v{i}",
            "recorded_at": now - 600_000, "rating": 1 + i % 5, "category": "product",
            "product_id": f"p{i % 20}", "requested_quantity": 3.0, "comment": "more please"})
    for i in range(counts.get("orders", 0)):
        body["orders"]["created"].append({
            "id": f"{run}o{i}", "customer_id": f"c{i % 50}", "visit_id": f"{run}v{i}",
            "ordered_at": now - 500_000, "requested_delivery_at": now + DAY_MS,
            "notes": None, "status": None, "promised_dispatch_at": None})
    for i in range(counts.get("order_lines", 0)):
        body["order_lines"]["created"].append({
            "id": f"{run}l{i}", "order_id": f"{run}o{i // 2}", "product_id": f"p{i % 20}",
            "quantity": 2.0, "unit_price": 2.5 + i % 20, "delivered_quantity": None})
    return body


@require("rep")
def naive_sync():
    """The naive endpoint: parse, clean each record against its columns, one ORM object per
    record, one commit. No facts, no references, no conflicts: a lower bar than the push."""
    from flask import request
    body = json.loads(request.get_data())
    user_id = current_user().id
    for name, table in TABLES.items():
        for record in body.get(name, {}).get("created", []):
            values = {column: clean(record.get(column)) for column, clean in table.cleaners}
            if table.owner:
                values[table.owner] = user_id
            db.session.add(table.model(id=record["id"], **values))
        db.session.flush()  # parents first: the ORM knows no order between these models
    db.session.commit()
    return {"ok": True}


def empty_tables(app):
    """Empty the pushed tables; on PostgreSQL also VACUUM ANALYZE them, as autovacuum would
    after a mass delete (else the next push reads through the dead rows' index entries)."""
    names = ("sync_log", "sync_quarantine", "order_lines", "orders", "feedback",
             "location_pings", "visits")
    with app.app_context():
        with db.engine.begin() as conn:
            for name in names:
                conn.execute(sa.text(f"DELETE FROM {name}"))
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text(f"VACUUM ANALYZE {', '.join(names)}"))


def push(app, client, headers, body: dict) -> float:
    data = json.dumps(body)
    started = time.perf_counter()
    response = client.post("/api/v1/sync?last_pulled_at=null", data=data, headers=headers)
    elapsed = time.perf_counter() - started
    result = response.get_json()
    if response.status_code != 200 or result["quarantined"]:
        raise SystemExit(f"push failed: {response.status_code} {str(result)[:500]}")
    return elapsed


def baseline(app, body: dict) -> float:
    """The rows the push stored, under fresh ids, through Core executemany."""
    rows = stored_rows(app, body, "b")
    with app.app_context():
        started = time.perf_counter()
        with db.engine.begin() as conn:
            for name in PUSHED:
                if rows[name]:
                    conn.execute(db.metadata.tables[name].insert(), rows[name])
        return time.perf_counter() - started


def stored_rows(app, body: dict, prefix: str) -> dict[str, list[dict]]:
    """The rows the push stored, every column, under fresh ids (`prefix` + id)."""
    with app.app_context():
        rows = {}
        for name in PUSHED:
            table = db.metadata.tables[name]
            ids = [r["id"] for r in body[name]["created"]]
            found = []
            for start in range(0, len(ids), 900):
                found += [dict(r._mapping) for r in db.session.execute(
                    sa.select(table).where(table.c.id.in_(ids[start:start + 900])))]
            for row in found:
                row["id"] = prefix + row["id"]
                for fk in ("visit_id", "order_id"):
                    if row.get(fk):
                        row[fk] = prefix + row[fk]
            rows[name] = found
        db.session.rollback()
        return rows


def _driver_value(value):
    return json.dumps(value) if isinstance(value, (dict, list)) else value


def raw_driver(app, body: dict, prefix: str, copy: bool = False) -> float:
    """The same rows through the driver alone, one transaction: `executemany` per table
    (sqlite3 or psycopg), or psycopg's `COPY ... FROM STDIN` (`copy`)."""
    rows = stored_rows(app, body, prefix)
    with app.app_context():
        pooled = db.engine.raw_connection()
        try:
            raw = pooled.driver_connection
            sqlite = db.engine.dialect.name == "sqlite"
            batches = []
            for name in PUSHED:
                if not rows[name]:
                    continue
                columns = list(rows[name][0])
                batches.append((name, columns, [tuple(_driver_value(r[c]) for c in columns)
                                                for r in rows[name]]))
            cursor = raw.cursor()
            started = time.perf_counter()
            if sqlite:
                cursor.execute("BEGIN")
            for name, columns, values in batches:
                names = ", ".join(columns)
                if copy:
                    with cursor.copy(f"COPY {name} ({names}) FROM STDIN") as out:
                        for value in values:
                            out.write_row(value)
                else:
                    marks = ", ".join(["?" if sqlite else "%s"] * len(columns))
                    cursor.executemany(f"INSERT INTO {name} ({names}) VALUES ({marks})", values)
            if sqlite:
                cursor.execute("COMMIT")
            else:
                raw.commit()
            elapsed = time.perf_counter() - started
            cursor.close()
        finally:
            pooled.close()
        return elapsed


def naive(client, headers, body: dict) -> float:
    data = json.dumps(body)
    started = time.perf_counter()
    response = client.post("/bench/naive-sync", data=data, headers=headers)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"naive push failed: {response.status_code} {response.get_data()[:300]!r}")
    return elapsed


def small_push(app, client, headers, repeat: int) -> None:
    """30 pings and a visit, as a phone sends every few minutes: median time and statements,
    beside the framework floor (GET /api/v1/users/me)."""
    statements = []

    def seen(*_args):
        statements.append(1)

    with app.app_context():
        engine = db.engine
    floor = []
    for _ in range(repeat):
        started = time.perf_counter()
        client.get("/api/v1/users/me", headers=headers)
        floor.append(time.perf_counter() - started)
    times, counts = [], []
    empty_tables(app)
    # One phone's successive pushes: each its own 150 s of pings, after the previous one's.
    first = now_ms() - (repeat + 1) * 150_000
    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        for run in range(repeat):
            body = mixed(30, f"s{run}x", pings_only=True, start=first + run * 150_000)
            body["visits"]["created"] = mixed(10, f"s{run}x")["visits"]["created"][:1]
            statements.clear()
            times.append(push(app, client, headers, body))
            counts.append(len(statements))
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)
    median = statistics.median(times) * 1000
    print(f"\n  30 pings and a visit, median of {repeat}: {median:.2f} ms, "
          f"{statistics.median(counts):.0f} SQL statements; framework floor (GET /users/me) "
          f"{statistics.median(floor) * 1000:.2f} ms; goal <= {GOAL_SMALL_MS:g} ms: "
          f"{'met' if median <= GOAL_SMALL_MS else 'not met'}")


def profile_small(app, client, headers) -> None:
    empty_tables(app)
    first = now_ms() - 51 * 150_000
    profiler = cProfile.Profile()
    profiler.enable()
    for run in range(50):
        body = mixed(30, f"p{run}x", pings_only=True, start=first + run * 150_000)
        body["visits"]["created"] = mixed(10, f"p{run}x")["visits"]["created"][:1]
        push(app, client, headers, body)
    profiler.disable()
    print("  cProfile, 50 pushes of 30 pings and a visit:")
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="also run on this PostgreSQL (scratch schema)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--small-repeat", type=int, default=100,
                        help="pushes of 30 pings and a visit timed")
    parser.add_argument("--profile", action="store_true",
                        help="profile a 10,000-ping push and the small pushes")
    parser.add_argument("--skip-sqlite", action="store_true",
                        help="with --database-url: run on PostgreSQL only")
    parser.add_argument("--small-only", action="store_true",
                        help="only the push of 30 pings and a visit (and its profile)")
    args = parser.parse_args()

    targets = [] if args.skip_sqlite and args.database_url else [("sqlite", None)]
    if args.database_url:
        targets.append(("postgresql", args.database_url))
    for label, url in targets:
        database, drop = scratch_database(url, "bench_sync")
        try:
            app, headers, _rep_id = setup(database)
            client = app.test_client()
            if args.small_only:
                print(f"\n{label}:", end="")
                small_push(app, client, headers, args.small_repeat)
                if args.profile:
                    profile_small(app, client, headers)
                continue
            print(f"\n{label}: POST /api/v1/sync vs Core executemany of the same rows")
            print(f"{'records':>22} {'push s':>8} {'push rec/s':>11} {'executemany s':>14} "
                  f"{'rec/s':>10} {'ratio':>6}")
            cases = [(100, False), (1_000, False), (10_000, False), (10_000, True)]
            is_pg = label == "postgresql"
            extra = {}  # (n, pings_only) -> best raw executemany, COPY, naive endpoint
            for run, (n, pings_only) in enumerate(cases):
                best_push = best_base = None
                best = {"raw": None, "copy": None, "naive": None}
                for attempt in range(args.repeat):
                    empty_tables(app)
                    body = mixed(n, f"r{run}a{attempt}", pings_only)
                    elapsed = push(app, client, headers, body)
                    base = baseline(app, body)
                    best_push = elapsed if best_push is None else min(best_push, elapsed)
                    best_base = base if best_base is None else min(best_base, base)
                    others = {"raw": raw_driver(app, body, "d"),
                              "naive": naive(client, headers, mixed(n, f"n{run}a{attempt}",
                                                                    pings_only))}
                    if is_pg:
                        others["copy"] = raw_driver(app, body, "y", copy=True)
                    for key, value in others.items():
                        best[key] = value if best[key] is None else min(best[key], value)
                extra[(n, pings_only)] = (best_push, best)
                what = f"{n:,} {'pings' if pings_only else 'mixed'}"
                print(f"{what:>22} {best_push:8.3f} {n / best_push:11,.0f} {best_base:14.3f} "
                      f"{n / best_base:10,.0f} {best_push / best_base:6.1f}x")
            driver = "psycopg" if is_pg else "sqlite3"
            print(f"\n{label}: the endpoint's rate beside the raw driver ({driver}) and a naive "
                  "per-row ORM endpoint, same rows, best of each")
            print(f"{'records':>22} {'push rec/s':>11} {'executemany':>12} {'share':>6} "
                  f"{'COPY':>10} {'share':>6} {'naive rec/s':>12} {'times':>6}")
            for (n, pings_only), (best_push, best) in extra.items():
                rate = n / best_push
                raw_rate, naive_rate = n / best["raw"], n / best["naive"]
                copy_rate = n / best["copy"] if best["copy"] else None
                what = f"{n:,} {'pings' if pings_only else 'mixed'}"
                print(f"{what:>22} {rate:11,.0f} {raw_rate:12,.0f} {rate / raw_rate:6.0%} "
                      + (f"{copy_rate:10,.0f} {rate / copy_rate:6.0%} " if copy_rate
                         else f"{'-':>10} {'-':>6} ")
                      + f"{naive_rate:12,.0f} {rate / naive_rate:5.1f}x")
            best_push, best = extra[(10_000, True)]
            rate = 10_000 / best_push
            share, times = rate * best["raw"] / 10_000, rate * best["naive"] / 10_000
            print(f"\n  10,000 pings: {share:.0%} of the raw {driver} executemany (goal >= "
                  f"{GOAL_RAW_SHARE:.0%}: {'met' if share >= GOAL_RAW_SHARE else 'not met'})"
                  + (f", {rate * best['copy'] / 10_000:.0%} of COPY" if best["copy"] else "")
                  + f"; {times:.1f}x the naive endpoint (goal >= {GOAL_NAIVE_TIMES:g}x: "
                  f"{'met' if times >= GOAL_NAIVE_TIMES else 'not met'})")
            small_push(app, client, headers, args.small_repeat)
            if args.profile:
                empty_tables(app)
                body = mixed(10_000, "prof", pings_only=True)
                profiler = cProfile.Profile()
                profiler.enable()
                push(app, client, headers, body)
                profiler.disable()
                pstats.Stats(profiler).sort_stats("tottime").print_stats(20)
                profile_small(app, client, headers)
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
        finally:
            drop()


if __name__ == "__main__":
    os.environ.setdefault("FIELDSALES_SCHEDULER", "off")
    main()
