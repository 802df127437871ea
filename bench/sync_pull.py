"""Pull speed: GET /api/v1/sync in-process, beside the framework floor and raw SELECTs.

    .venv/bin/python bench/sync_pull.py                       # scratch SQLite file
    .venv/bin/python bench/sync_pull.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test   # the figures that count
    .venv/bin/python bench/sync_pull.py --profile              # cProfile of the pulls too

On a scratch database (a new SQLite file, or a new schema on the PostgreSQL given; dropped
after), one rep holds 5,000 customers, 1,000 products (everyone's), and a working month of
tasks, visits, feedback, orders and order lines. Through the Flask test client (routing, auth,
the clock, the sync log, JSON: all the server does, without sockets), it times:

- (a) an incremental pull with nothing new (the phone's cursor is the last pull's timestamp):
  median time and the SQL statements it sends (a `before_cursor_execute` listener);
- (b) an incremental pull after a few changes (3 customers renamed, between pulls, not timed);
- (c) a first pull (`last_pulled_at=null`): everything, 6,000 records and more; its median
  time, and the Python peak memory (tracemalloc) of one, beside the size of its answer, to
  show whether the answer is streamed or built whole.

Baselines, measured in the same run on the same database:
- the framework floor: `GET /api/v1/users/me` with the same token (auth, routing, JSON);
- one raw `SELECT` per pulled table for the incremental window, on one connection of the
  driver (what the pull's reading would cost with nothing in the way);
- a raw `SELECT` of every customer and product row (the first pull's reading alone).

Each figure is printed beside its goal (issue 15) with "met" or "not met".
"""
import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from config import TestingConfig  # noqa: E402
from fieldsales import create_app  # noqa: E402
from fieldsales.common import DAY_MS, HOUR_MS, now_ms  # noqa: E402
from fieldsales.customers.models import Customer  # noqa: E402
from fieldsales.extensions import db  # noqa: E402
from fieldsales.scratch import scratch_database  # noqa: E402
from fieldsales.sync.tables import TABLES  # noqa: E402
from fieldsales.users import service as users  # noqa: E402
from fieldsales.users.credentials import issue_token  # noqa: E402

CUSTOMERS, PRODUCTS = 5_000, 1_000
PULLED = [name for name, t in TABLES.items() if t.pulled and t.since_version == 1]

# Goals of issue 15 (server time in ms, statements).
GOAL_NOTHING_MS, GOAL_NOTHING_STATEMENTS = 3.0, 8
GOAL_FEW_MS = 5.0
GOAL_FIRST_MS = 40.0


class Statements:
    """Counts the SQL statements an engine sends (executemany counts once; SQLite's own
    BEGINs apart), and keeps them with their parameters and the commits between them
    (`script`, None for a commit)."""

    def __init__(self, engine):
        self.count = 0
        self.begins = 0
        self.texts: list[str] = []
        self.script: list = []
        sa.event.listen(engine, "before_cursor_execute", self._seen)
        sa.event.listen(engine, "commit", self._committed)

    def _seen(self, conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("BEGIN"):
            self.begins += 1  # SQLite's own BEGIN / BEGIN IMMEDIATE (PostgreSQL: implicit)
        else:
            self.count += 1
        self.texts.append(statement)
        self.script.append((statement, parameters))

    def _committed(self, conn):
        self.script.append(None)

    def reset(self) -> None:
        self.count = 0
        self.begins = 0
        self.texts = []
        self.script = []


def replay(app, script: list) -> float:
    """A request's very statements and commits on the bare driver: its database share."""
    with app.app_context():
        pooled = db.engine.raw_connection()
        try:
            raw = pooled.driver_connection
            cursor = raw.cursor()
            started = time.perf_counter()
            for step in script:
                if step is None:
                    raw.commit()
                    continue
                cursor.execute(*step)
                if cursor.description is not None:
                    cursor.fetchall()
            elapsed = time.perf_counter() - started
            cursor.close()
            raw.rollback()
        finally:
            pooled.close()
    return elapsed


def setup(url: str):
    """The app on `url`, one rep with their book of customers and a month of field data."""
    config = type("BenchConfig", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": url})
    app = create_app(config)
    with app.app_context():
        db.create_all()
        manager = users.create(email="m@bench", password="x" * 10, name="M", role="manager")
        rep = users.create(email="r@bench", password="x" * 10, name="R", role="rep",
                           manager=manager)
        other = users.create(email="o@bench", password="x" * 10, name="O", role="rep",
                             manager=manager)
        db.session.flush()
        token, _ = issue_token(user=rep)
        rep_id, other_id, manager_id = rep.id, other.id, manager.id
        db.session.commit()
        db.session.remove()
        # Rows written as a migration or import would: one stamp, set-based (fast set-up).
        now = now_ms()
        stamp = now - 40 * DAY_MS
        seq = {"created_seq": stamp, "changed_seq": stamp, "received_at": stamp}
        tables = db.metadata.tables
        with db.engine.begin() as conn:
            conn.execute(tables["customers"].insert(), [
                {"id": f"c{i}", "name": f"Shop {i}", "address": f"{i} Main Street",
                 "latitude": 52.5 + i / 100_000, "longitude": 13.4, "geofence_radius_m": 100,
                 "segment": "retail", "phone": None, "kind": "account",
                 "assigned_rep_id": rep_id if i < CUSTOMERS else other_id, **seq}
                for i in range(CUSTOMERS + 500)])
            conn.execute(tables["products"].insert(), [
                {"id": f"p{i}", "sku": f"SKU{i}", "name": f"Product {i}", "unit": "each",
                 "unit_price": 2.5 + i % 50, "stock_on_hand": 100.0, **seq}
                for i in range(PRODUCTS)])
            conn.execute(tables["tasks"].insert(), [
                {"id": f"t{i}", "customer_id": f"c{i}", "title": f"Task {i}",
                 "category": "selling", "status": "open" if i % 3 else "done",
                 "assigned_rep_id": rep_id, "created_by_id": manager_id, **seq}
                for i in range(60)])
            conn.execute(tables["visits"].insert(), [
                {"id": f"v{i}", "customer_id": f"c{i % CUSTOMERS}", "rep_id": rep_id,
                 "check_in_at": now - (i // 8) * DAY_MS - HOUR_MS, "check_in_latitude": 52.5,
                 "check_in_longitude": 13.4, "check_out_at": now - (i // 8) * DAY_MS,
                 "outcome": "order", "verified": True, "distance_m": 12.0, **seq}
                for i in range(240)])
            conn.execute(tables["feedback"].insert(), [
                {"id": f"f{i}", "customer_id": f"c{i}", "rep_id": rep_id, "visit_id": f"v{i}",
                 "recorded_at": now - (i // 2) * DAY_MS, "rating": 4, "category": "product",
                 **seq}
                for i in range(60)])
            conn.execute(tables["orders"].insert(), [
                {"id": f"o{i}", "customer_id": f"c{i}", "rep_id": rep_id, "visit_id": f"v{i}",
                 "ordered_at": now - (i // 4) * DAY_MS, "status": "open" if i < 20 else "delivered",
                 **seq}
                for i in range(120)])
            conn.execute(tables["order_lines"].insert(), [
                {"id": f"l{i}", "order_id": f"o{i // 3}", "product_id": f"p{i % PRODUCTS}",
                 "quantity": 2.0, "unit_price": 2.5 + (i % PRODUCTS) % 50,
                 "delivered_quantity": 0.0, **seq}
                for i in range(360)])
            conn.execute(sa.text("UPDATE sync_clock SET last_stamp = :s WHERE id = 1"),
                         {"s": stamp})
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(sa.text("ANALYZE"))
    headers = {"Authorization": f"Bearer {token}", "X-Device-Id": "bench"}
    return app, headers, rep_id


def get(client, headers, path: str):
    started = time.perf_counter()
    response = client.get(path, headers=headers)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"GET {path}: {response.status_code} {response.get_data()[:300]!r}")
    return elapsed, response


def pull(client, headers, last_pulled_at):
    cursor = "null" if last_pulled_at is None else str(last_pulled_at)
    elapsed, response = get(client, headers, f"/api/v1/sync?last_pulled_at={cursor}")
    return elapsed, response


def rename_customers(app, n: int, run: int) -> None:
    """A manager's edit of n of the rep's customers, through the ORM (stamped by the clock)."""
    with app.app_context():
        for i in range(n):
            customer = db.session.get(Customer, f"c{(run * n + i) % CUSTOMERS}")
            customer.name = f"Shop renamed {run}.{i}"
        db.session.commit()


def raw_incremental(app, rep_id: str, since: int, until: int) -> float:
    """One raw SELECT per pulled table for the window, on one driver connection."""
    queries = {
        "customers": "SELECT * FROM customers WHERE assigned_rep_id = :r AND changed_seq > :s "
                     "AND changed_seq <= :u",
        "products": "SELECT * FROM products WHERE changed_seq > :s AND changed_seq <= :u",
    }
    for name in PULLED:
        queries.setdefault(name, f"SELECT * FROM {name} WHERE changed_seq > :s "
                                 "AND changed_seq <= :u")
    with app.app_context():
        with db.engine.connect() as conn:
            raw = conn.connection.driver_connection
            style = conn.dialect.paramstyle
            texts = {n: _driver_sql(q, style) for n, q in queries.items()}
            params = {"r": rep_id, "s": since, "u": until}
            started = time.perf_counter()
            cursor = raw.cursor()
            for name in PULLED:
                text, args = texts[name]
                cursor.execute(text, args(params))
                cursor.fetchall()
            elapsed = time.perf_counter() - started
            cursor.close()
            raw.rollback()
    return elapsed


def _driver_sql(query: str, style: str):
    """`:name` parameters in the driver's own style (sqlite3: qmark; psycopg: pyformat)."""
    names: list[str] = []
    out = []
    for word in query.split(" "):
        if word.startswith(":"):
            names.append(word[1:])
            out.append("?" if style == "qmark" else f"%({word[1:]})s")
        else:
            out.append(word)
    text = " ".join(out)
    if style == "qmark":
        return text, lambda p: [p[n] for n in names]
    return text, lambda p: {n: p[n] for n in names}


def raw_first(app, rep_id: str) -> float:
    """A raw SELECT of every customer of the rep and every product (the first pull's bulk)."""
    with app.app_context():
        with db.engine.connect() as conn:
            raw = conn.connection.driver_connection
            qmark = conn.dialect.paramstyle == "qmark"
            started = time.perf_counter()
            cursor = raw.cursor()
            cursor.execute("SELECT * FROM customers WHERE assigned_rep_id = "
                           + ("?" if qmark else "%(r)s"), [rep_id] if qmark else {"r": rep_id})
            cursor.fetchall()
            cursor.execute("SELECT * FROM products WHERE deleted_at IS NULL")
            cursor.fetchall()
            elapsed = time.perf_counter() - started
            cursor.close()
            raw.rollback()
    return elapsed


def verdict(value: float, goal: float) -> str:
    return "met" if value <= goal else "not met"


def line(what: str, figure: str, baseline: str, goal: str, met: str) -> None:
    print(f"  {what:<46} {figure:>12} {baseline:>22} {goal:>12}  {met}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="PostgreSQL to run on (in a scratch schema); "
                                                "default: a scratch SQLite file")
    parser.add_argument("--repeat", type=int, default=200, help="pulls per incremental figure")
    parser.add_argument("--first-repeat", type=int, default=15, help="first pulls timed")
    parser.add_argument("--profile", action="store_true",
                        help="also print cProfile of the incremental and first pulls")
    parser.add_argument("--sort", default="cumulative", help="cProfile sort key (tottime, ...)")
    parser.add_argument("--lines", type=int, default=30, help="cProfile lines printed")
    parser.add_argument("--statements", action="store_true",
                        help="also print the SQL of one incremental pull")
    args = parser.parse_args()

    database, drop = scratch_database(args.database_url, "bench_pull")
    try:
        app, headers, rep_id = setup(database)
        label = "postgresql" if args.database_url else "sqlite"
        client = app.test_client()
        with app.app_context():
            counter = Statements(db.engine)

        # Warm up: first pulls, so caches (SQLAlchemy's compiled cache, the driver) are hot.
        cursor = None
        for _ in range(3):
            _, response = pull(client, headers, None)
            cursor = response.get_json()["timestamp"]

        # The framework floor: an authenticated GET doing next to nothing.
        floor = []
        for _ in range(args.repeat):
            counter.reset()
            elapsed, _ = get(client, headers, "/api/v1/users/me")
            floor.append(elapsed)
        floor_statements = counter.count

        # (a) nothing new.
        nothing, windows = [], []
        for _ in range(args.repeat):
            counter.reset()
            elapsed, response = pull(client, headers, cursor)
            body = response.get_json()
            if any(any(t.values()) for t in body["changes"].values()):
                raise SystemExit("a pull with nothing new returned changes")
            windows.append((cursor, body["timestamp"]))
            cursor = body["timestamp"]
            nothing.append(elapsed)
        nothing_statements, nothing_begins = counter.count, counter.begins
        nothing_sql = list(counter.texts)
        nothing_script = list(counter.script)
        replayed_nothing = [replay(app, nothing_script) for _ in range(50)]
        raw_nothing = [raw_incremental(app, rep_id, since, until)
                       for since, until in windows[:50]]

        # (b) a few changes: 3 customers renamed before each pull.
        few, few_statements, few_windows = [], 0, []
        for run in range(args.repeat):
            rename_customers(app, 3, run)
            counter.reset()
            previous = cursor
            elapsed, response = pull(client, headers, cursor)
            body = response.get_json()
            cursor = body["timestamp"]
            if len(body["changes"]["customers"]["updated"]) != 3:
                raise SystemExit(f"expected 3 updated customers: {body['changes']['customers']}")
            few.append(elapsed)
            few_statements = counter.count
            few_script = list(counter.script)
            few_windows.append((previous, cursor))
        raw_few_times = [raw_incremental(app, rep_id, s, u) for s, u in few_windows[:50]]
        replayed_few = [replay(app, few_script) for _ in range(50)]

        # (c) the first pull.
        first = []
        first_bytes = 0
        for _ in range(args.first_repeat):
            counter.reset()
            elapsed, response = pull(client, headers, None)
            first.append(elapsed)
            first_bytes = len(response.get_data())
            first_statements = counter.count
            records = sum(len(t["created"]) for t in response.get_json()["changes"].values())
        raw_first_times = [raw_first(app, rep_id) for _ in range(args.first_repeat)]
        tracemalloc.start()
        pull(client, headers, None)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

        ms = 1000
        med = statistics.median
        print(f"\n{label}: GET /api/v1/sync in-process (Flask test client), medians; "
              f"{args.repeat} incremental pulls, {args.first_repeat} first pulls")
        print(f"  {'':<46} {'figure':>12} {'baseline':>22} {'goal':>12}")
        line("framework floor: GET /users/me", f"{med(floor) * ms:.2f} ms",
             f"{floor_statements} statements", "", "")
        line("(a) nothing new: server time", f"{med(nothing) * ms:.2f} ms",
             f"raw SELECTs {med(raw_nothing) * ms:.2f} ms", f"<= {GOAL_NOTHING_MS:g} ms",
             verdict(med(nothing) * ms, GOAL_NOTHING_MS))
        line("(a) its statements and commits, bare driver",
             f"{med(replayed_nothing) * ms:.2f} ms", "", "", "")
        begins = f" (+{nothing_begins} BEGIN)" if nothing_begins else ""
        line("(a) nothing new: SQL statements", f"{nothing_statements}{begins}",
             f"{len(PULLED)} tables", f"<= {GOAL_NOTHING_STATEMENTS}",
             verdict(nothing_statements, GOAL_NOTHING_STATEMENTS))
        line("(b) 3 customers changed: server time", f"{med(few) * ms:.2f} ms",
             f"raw SELECTs {med(raw_few_times) * ms:.2f} ms", f"<= {GOAL_FEW_MS:g} ms",
             verdict(med(few) * ms, GOAL_FEW_MS))
        line("(b) its statements and commits, bare driver",
             f"{med(replayed_few) * ms:.2f} ms", "", "", "")
        line("(b) 3 customers changed: SQL statements", f"{few_statements}", "", "", "")
        line(f"(c) first pull ({records:,} records): time", f"{med(first) * ms:.1f} ms",
             f"raw SELECT {med(raw_first_times) * ms:.1f} ms", f"<= {GOAL_FIRST_MS:g} ms",
             verdict(med(first) * ms, GOAL_FIRST_MS))
        line("(c) first pull: SQL statements", f"{first_statements}", "", "", "")
        streamed = peak < first_bytes
        line("(c) first pull: Python peak memory", f"{peak / 2**20:.1f} MiB",
             f"answer {first_bytes / 2**20:.1f} MiB", "streamed",
             "met (peak < answer)" if streamed else "not met (built whole)")
        if args.statements:
            print("\n  SQL of one incremental pull with nothing new:")
            for text in nothing_sql:
                print("   ", " ".join(text.split())[:160])

        if args.profile:
            for what, since in (("incremental, nothing new", "cursor"), ("first pull", None)):
                profiler = cProfile.Profile()
                profiler.enable()
                for _ in range(50 if since else 5):
                    _, response = pull(client, headers, cursor if since else None)
                    if since:
                        cursor = response.get_json()["timestamp"]
                profiler.disable()
                print(f"\n  cProfile, {what}:")
                pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.lines)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    finally:
        drop()


if __name__ == "__main__":
    os.environ.setdefault("FIELDSALES_SCHEDULER", "off")
    main()
