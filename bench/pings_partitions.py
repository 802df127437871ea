"""Partitioned pings on PostgreSQL: push throughput, and retention by dropping whole months
against a batched DELETE of the same rows, each beside a plain (unpartitioned) table.

    .venv/bin/python bench/pings_partitions.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test [--rows 300000]

Two scratch schemas with the same app: one as the models make it (partitioned by month,
fieldsales/locations/partitions.py), one where location_pings is converted to a plain table
with the same key and index. Both are filled with `--rows` pings spread over the last 12
months (one rep among 20). Then, on each:
- pushes through POST /api/v1/sync (the Flask test client: the whole endpoint) of 30 pings
  (a phone's sync) and of 10,000 pings, the best of --repeat;
- retention of everything before the start of month -8: on the partitioned table
  `drop_ping_months_before` (detach and drop whole months), on the plain one the batched
  DELETE a retention job would run (`--batch` rows per transaction, each committed). Prints
  the time, the rows removed, the longest single transaction (how long anything is locked;
  for the drop, the whole call: an upper bound) and the table's size before and after (a
  DELETE frees no disk until VACUUM).
"""
import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from bench.sync_push import mixed, push, setup  # noqa: E402
from fieldsales.common import now_ms  # noqa: E402
from fieldsales.extensions import db  # noqa: E402
from fieldsales.locations.partitions import (  # noqa: E402
    drop_ping_months_before,
    ensure_ping_partitions,
    month_of,
)
from fieldsales.scratch import scratch_database  # noqa: E402

MONTHS = 12

PLAIN = """
ALTER TABLE location_pings RENAME TO location_pings_partitioned;
CREATE TABLE location_pings (LIKE location_pings_partitioned INCLUDING DEFAULTS);
DROP TABLE location_pings_partitioned;
ALTER TABLE location_pings ADD CONSTRAINT pk_location_pings PRIMARY KEY (id, recorded_at);
ALTER TABLE location_pings ADD CONSTRAINT fk_location_pings_rep_id_users
    FOREIGN KEY (rep_id) REFERENCES users (id);
CREATE INDEX ix_location_pings_rep_recorded ON location_pings (rep_id, recorded_at);
"""


def fill(app, *, rows: int, rep_id: str, now: int) -> None:
    """`rows` pings over the last MONTHS months: 20 reps, the bench's rep among them."""
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO users (id, email, password_hash, name, role, active, created_at) "
                "SELECT 'u' || n, 'u' || n || '@bench', 'x', 'U', 'rep', true, 0 "
                "FROM generate_series(1, 19) n"))
            start = month_of(now, shift=-(MONTHS - 1))[1]
            conn.execute(sa.text(
                "INSERT INTO location_pings (id, rep_id, recorded_at, received_at, latitude, "
                "longitude, accuracy_m, flags, flagged) "
                "SELECT 'fill' || n, CASE WHEN n % 20 = 0 THEN :rep ELSE 'u' || (n % 20) END, "
                ":start + n::bigint * :step, :now, 52.5, 13.4, 8.0, '', false "
                "FROM generate_series(1, :rows) n"),
                {"rep": rep_id, "start": start, "step": (now - start) // (rows + 1),
                 "now": now, "rows": rows})
            conn.execute(sa.text("ANALYZE location_pings"))


def earlier(body: dict, *, until: int) -> int:
    """Place the body's pings, 5 s apart, just before `until` (a fresh stretch of the rep's
    day, as a phone's push is: a stretch already stored would re-judge its stored pings);
    the start of the stretch."""
    pings = body["location_pings"]["created"]
    start = until - len(pings) * 5_000
    for i, ping in enumerate(pings):
        ping["recorded_at"] = start + i * 5_000
    return start


def size(app) -> int:
    with app.app_context(), db.engine.connect() as conn:
        return int(conn.scalar(sa.text(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "WHERE c.relname LIKE 'location_pings%' AND c.relkind IN ('r', 'i', 'p', 'I') "
            "AND c.relnamespace = current_schema()::regnamespace")))


def count_before(app, cutoff: int) -> int:
    with app.app_context(), db.engine.connect() as conn:
        return int(conn.scalar(sa.text(
            "SELECT count(*) FROM location_pings WHERE recorded_at < :cutoff"),
            {"cutoff": cutoff}))


def batched_delete(app, *, cutoff: int, batch: int) -> tuple[int, float]:
    """Rows deleted and the longest single transaction (s)."""
    removed, longest = 0, 0.0
    with app.app_context():
        while True:
            started = time.perf_counter()
            with db.engine.begin() as conn:
                n = conn.execute(sa.text(
                    "DELETE FROM location_pings WHERE (id, recorded_at) IN ("
                    "SELECT id, recorded_at FROM location_pings WHERE recorded_at < :cutoff "
                    "ORDER BY recorded_at LIMIT :batch)"), {"cutoff": cutoff, "batch": batch}
                ).rowcount
            longest = max(longest, time.perf_counter() - started)
            removed += n
            if n < batch:
                return removed, longest


def month_drop(app, *, cutoff: int) -> tuple[int, float, list[str]]:
    """Rows gone with the dropped months, the longest transaction (s; the whole call, of two
    transactions a month: an upper bound), and the months dropped."""
    before = count_before(app, cutoff)
    with app.app_context():
        started = time.perf_counter()
        dropped = drop_ping_months_before(cutoff_ms=cutoff)
        elapsed = time.perf_counter() - started
    return before - count_before(app, cutoff), elapsed, dropped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url",
                        default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--batch", type=int, default=10_000)
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql"):
        raise SystemExit("PostgreSQL only: SQLite keeps one plain table.")

    now = now_ms()
    cutoff = month_of(now, shift=-(MONTHS - 4))[1]  # months -11 .. -9 go
    labels = ("partitioned", "plain")
    drops, apps, results = [], {}, {label: {} for label in labels}
    try:
        for label in labels:
            database, drop = scratch_database(args.database_url, f"bench_pings_{label}")
            drops.append(drop)
            app, headers, rep_id = setup(database)
            with app.app_context():
                if label == "plain":
                    with db.engine.begin() as conn:
                        conn.exec_driver_sql(PLAIN)
                else:
                    for shift in range(MONTHS):
                        ensure_ping_partitions(now=month_of(now, shift=-shift)[1])
            fill(app, rows=args.rows, rep_id=rep_id, now=now)
            apps[label] = (app, app.test_client(), headers)
        until = dict.fromkeys(labels, now - 60_000)  # each push's pings come before the last's
        for n in (30, 10_000):
            for attempt in range(args.repeat + 1):  # the first of each is a warm-up
                for label in labels:  # taking turns, so neither gets the warmer machine
                    app, client, headers = apps[label]
                    body = mixed(n, f"{label}{n}a{attempt}", pings_only=True)
                    until[label] = earlier(body, until=until[label])
                    elapsed = push(app, client, headers, body)
                    if attempt:
                        best = results[label].get(n)
                        results[label][n] = elapsed if best is None else min(best, elapsed)
        for label in labels:
            app = apps[label][0]
            before, to_remove = size(app), count_before(app, cutoff)
            started = time.perf_counter()
            if label == "plain":
                removed, longest = batched_delete(app, cutoff=cutoff, batch=args.batch)
                how = f"batched DELETE ({args.batch:,} a transaction)"
            else:
                removed, longest, dropped = month_drop(app, cutoff=cutoff)
                how = f"drop {len(dropped)} months"
            retention = time.perf_counter() - started
            results[label].update(how=how, retention=retention, removed=removed,
                                  expected=to_remove, longest=longest, before=before,
                                  after=size(app))
    finally:
        for app, _client, _headers in apps.values():
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
        for drop in drops:
            drop()

    print(f"\nPostgreSQL, {args.rows:,} pings over {MONTHS} months, best of {args.repeat} pushes")
    print(f"{'':>34} {'partitioned':>16} {'plain (baseline)':>18}")
    p, b = results["partitioned"], results["plain"]
    print(f"{'push of 30 pings, ms':>34} {p[30] * 1000:16.1f} {b[30] * 1000:18.1f}")
    print(f"{'push of 10,000 pings, pings/s':>34} {10_000 / p[10_000]:16,.0f} "
          f"{10_000 / b[10_000]:18,.0f}")
    print(f"{'retention: how':>34} {p['how']:>16} {b['how']:>18}")
    print(f"{'retention: rows removed':>34} {p['removed']:16,} {b['removed']:18,}")
    print(f"{'retention: s':>34} {p['retention']:16.3f} {b['retention']:18.3f}")
    print(f"{'longest transaction, ms':>34} {p['longest'] * 1000:16.1f} "
          f"{b['longest'] * 1000:18.1f}")
    print(f"{'table size before / after, MB':>34} "
          f"{p['before'] / 2**20:7.1f} /{p['after'] / 2**20:7.1f} "
          f"{b['before'] / 2**20:9.1f} /{b['after'] / 2**20:7.1f}")
    if p["removed"] != p["expected"] or b["removed"] != b["expected"]:
        raise SystemExit("retention removed other rows than those before the cutoff")


if __name__ == "__main__":
    os.environ.setdefault("FIELDSALES_SCHEDULER", "off")
    main()
