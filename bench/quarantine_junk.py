"""The review's quarantine flood (issue 11 item 4): what three 17 MB pushes of invalid pings
store in the quarantine.

    .venv/bin/python bench/quarantine_junk.py                  # scratch SQLite file
    .venv/bin/python bench/quarantine_junk.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

Two floods, three pushes each, every push about 17 MB of pings with a latitude of 95 (so
every one is quarantined): `junk key` carries a 5 KB key that is no column (the review's),
`junk value` puts the 5 KB in a known column (a string where the accuracy belongs). For each
push it prints the bytes sent (the baseline: what an unbounded quarantine keeps), the answer,
and the bytes the quarantine holds after it (sum of `size_bytes`, and the stored JSON's
length as the database reports it).
"""
import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from sync_push import setup  # noqa: E402

from fieldsales.common import now_ms  # noqa: E402
from fieldsales.extensions import db  # noqa: E402
from fieldsales.scratch import scratch_database  # noqa: E402
from fieldsales.sync.tables import TABLES  # noqa: E402

PUSH_BYTES = 17 * 1024 * 1024
JUNK = "x" * 5_000


def flood(kind: str, run: int) -> bytes:
    """One push of about PUSH_BYTES of invalid pings."""
    body = {name: {"created": [], "updated": [], "deleted": []} for name in TABLES}
    pings = body["location_pings"]["created"]
    now, size, i = now_ms(), 0, 0
    while size < PUSH_BYTES:
        ping = {"id": f"{kind[5]}{run}-{i}", "recorded_at": now - i, "latitude": 95.0,
                "longitude": 13.4, "accuracy_m": 5.0, "speed_mps": 0.0, "battery_pct": 50.0}
        if kind == "junk key":
            ping["junk"] = JUNK
        else:
            ping["accuracy_m"] = JUNK
        pings.append(ping)
        size += len(json.dumps(ping)) + 2
        i += 1
    return json.dumps(body).encode()


def held(app) -> tuple[int, int, int]:
    with app.app_context():
        row = db.session.execute(sa.text(
            "SELECT count(*), coalesce(sum(size_bytes), 0), "
            "coalesce(sum(length(CAST(payload AS TEXT))), 0) FROM sync_quarantine")).one()
        db.session.rollback()
        return int(row[0]), int(row[1]), int(row[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("TEST_DATABASE_URL"))
    args = parser.parse_args()
    url, drop = scratch_database(args.database_url, "bench_quarantine")
    try:
        app, headers, _ = setup(url)
        app.config["MAX_CONTENT_LENGTH"] = 20 * 1024 * 1024
        client = app.test_client()
        caps = (app.config["SYNC_QUARANTINE_MAX_PENDING_PER_USER"],
                app.config["SYNC_QUARANTINE_MAX_BYTES_PER_USER"])
        print(f"caps per rep: {caps[0]} pending entries, {caps[1]:,} bytes")
        print(f"{'flood':<11} {'push':>4} {'sent bytes':>12} {'answer':<26} {'entries':>7} "
              f"{'size_bytes':>11} {'stored JSON':>11}")
        for kind in ("junk key", "junk value"):
            with app.app_context():
                db.session.execute(sa.text("DELETE FROM sync_quarantine"))
                db.session.commit()
            for run in range(3):
                body = flood(kind, run)
                response = client.post("/api/v1/sync?last_pulled_at=null", data=body,
                                       headers=headers)
                answer = (f"200, {len(response.json['quarantined'])} quarantined"
                          if response.status_code == 200
                          else f"{response.status_code} {response.json['error']['code']}")
                entries, size, stored = held(app)
                print(f"{kind:<11} {run + 1:>4} {len(body):>12,} {answer:<26} {entries:>7} "
                      f"{size:>11,} {stored:>11,}")
    finally:
        drop()


if __name__ == "__main__":
    main()
