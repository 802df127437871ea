"""A rep's own export (issue 13): memory stays flat however many pings the rep has.

    .venv/bin/python bench/privacy_export.py                    # scratch SQLite file
    .venv/bin/python bench/privacy_export.py --months 1 12 \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

For each size (months of pings at one every 30 s, all day: a year is 1,051,200) a fresh
process seeds one rep, then downloads `GET /api/v1/users/me/export` (zip and JSON) through
the app, reading the streamed answer chunk by chunk, and reports the bytes, the time and the
peak of the memory Python allocated during the download (tracemalloc, which slows it). The
baseline, measured in the same
run on the same data: the same export joined whole in memory (what a non-streamed answer
costs).
"""
import argparse
import gc
import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PINGS_PER_MONTH = 30 * 24 * 120  # one every 30 s


def measure(url: str, months: int, fmt: str, whole: bool) -> dict:
    """In this process: seed, then export once; the figures as a dict."""
    from sqlalchemy import insert

    from config import TestingConfig
    from fieldsales import create_app
    from fieldsales.common import now_ms
    from fieldsales.extensions import db
    from fieldsales.locations.models import LocationPing
    from fieldsales.users import service as users
    from fieldsales.users.credentials import issue_token

    app = create_app(type("BenchConfig", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": url}))
    with app.app_context():
        db.create_all()
        manager = users.create(email="m@bench", password="x" * 10, name="M", role="manager")
        rep = users.create(email="r@bench", password="x" * 10, name="R", role="rep",
                           manager=manager)
        db.session.flush()
        token, _ = issue_token(user=rep)
        start = now_ms() - months * PINGS_PER_MONTH * 30_000
        batch = []
        for i in range(months * PINGS_PER_MONTH):
            batch.append({"id": f"p{i}", "rep_id": rep.id, "recorded_at": start + i * 30_000,
                          "received_at": start + i * 30_000, "latitude": 52.5 + i % 1000 / 1e5,
                          "longitude": 13.4, "accuracy_m": 8.0, "speed_mps": 1.2,
                          "battery_pct": 80.0, "flags": "", "flagged": False})
            if len(batch) == 20_000:
                db.session.execute(insert(LocationPing), batch)
                batch = []
        if batch:
            db.session.execute(insert(LocationPing), batch)
        db.session.commit()
    client = app.test_client()
    gc.collect()
    tracemalloc.start()
    started = time.perf_counter()
    response = client.get("/api/v1/users/me/export", query_string={"format": fmt},
                          headers={"Authorization": f"Bearer {token}"}, buffered=False)
    size, held = 0, []
    for chunk in response.response:
        size += len(chunk)
        if whole:
            held.append(chunk)
    if whole:
        size = len(b"".join(held))
    response.close()
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"pings": months * PINGS_PER_MONTH, "bytes": size, "seconds": seconds,
            "peak_growth_mib": peak / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--months", type=int, nargs="+", default=[1, 12])
    parser.add_argument("--formats", nargs="+", default=["zip", "json"])
    parser.add_argument("--child", nargs=3, metavar=("MONTHS", "FORMAT", "WHOLE"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        from fieldsales.scratch import scratch_database
        url, drop = scratch_database(args.database_url, "bench-export")
        try:
            print(json.dumps(measure(url, int(args.child[0]), args.child[1],
                                     args.child[2] == "whole")))
        finally:
            drop()
        return
    print(f"{'format':6} {'months':>6} {'pings':>9} {'MiB out':>8} {'s':>6} "
          f"{'streamed: peak +MiB':>20} {'baseline whole: peak +MiB':>26}")
    for fmt in args.formats:
        for months in args.months:
            runs = {}
            for how in ("streamed", "whole"):
                command = [sys.executable, __file__, "--child", str(months), fmt, how]
                if args.database_url:
                    command += ["--database-url", args.database_url]
                out = subprocess.run(command, check=True, capture_output=True, text=True,
                                     env={**os.environ, "FIELDSALES_SCHEDULER": "off"}).stdout
                runs[how] = json.loads(out.strip().splitlines()[-1])
            streamed, whole = runs["streamed"], runs["whole"]
            print(f"{fmt:6} {months:>6} {streamed['pings']:>9,} "
                  f"{streamed['bytes'] / 2**20:>8.1f} {streamed['seconds']:>6.1f} "
                  f"{streamed['peak_growth_mib']:>20.1f} {whole['peak_growth_mib']:>26.1f}")


if __name__ == "__main__":
    main()
