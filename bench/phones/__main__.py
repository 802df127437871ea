"""Simulated phones: N reps live a field day in fast-forward against a real server.

    .venv/bin/python bench/phones --phones 50                  # gunicorn on a fresh SQLite file
    .venv/bin/python bench/phones --phones 200 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test   # in a fresh schema
    .venv/bin/python bench/phones --target http://127.0.0.1:8000 \\
        --admin-email a@example.com --admin-password secret123 \\
        --database-url ...  # a running server

(`.venv/bin/python -m bench.phones ...` from the repository's root does the same.)

What it does:
1. Starts gunicorn itself (several workers, 127.0.0.1, a free port) on a fresh database, unless
   `--target` names a running server.
2. Builds the world through the REST API and lets every phone live its field day, syncing as
   WatermelonDB does, with abandoned, duplicated and invalid pushes and an admin editing tasks
   meanwhile (the simulator is tests/support/phones, which the fault test drives too).
3. At the end it reads the database and compares it with what the phones recorded: every record
   exactly once, nothing lost, nothing extra, every column a phone owns as the phone last had it,
   the invalid records in the quarantine and nowhere else.
4. It prints throughput, push latency percentiles and the error count, and exits non-zero if
   the check fails or any request got an unexpected answer.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import uuid
from dataclasses import fields
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # runs as a script from anywhere
from fieldsales.scratch import scratch_database  # noqa: E402
from tests.support.phones import (  # noqa: E402
    PASSWORD,
    BenchError,
    Fleet,
    Plan,
    Server,
    check,
    report_text,
)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phones", type=int, default=50)
    parser.add_argument("--database-url", help="PostgreSQL base URL (a fresh schema is made and "
                        "dropped) or a sqlite:/// URL; default: a fresh SQLite file")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker")
    parser.add_argument("--target", help="a running server instead of starting gunicorn")
    parser.add_argument("--admin-email")
    parser.add_argument("--admin-password")
    parser.add_argument("--schema", choices=("create_all", "upgrade"), default="create_all")
    parser.add_argument("--keep", action="store_true", help="keep the database and log")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    for f in fields(Plan):
        if f.name != "phones":
            parser.add_argument(f"--{f.name.replace('_', '-')}", type=type(f.default),
                                default=f.default)
    args = parser.parse_args(argv)
    plan = Plan(**{f.name: getattr(args, f.name) for f in fields(Plan)})

    workdir = Path(tempfile.mkdtemp(prefix="fieldsales-bench-"))
    server, drop = None, lambda: None
    try:
        if args.target:
            if not (args.admin_email and args.admin_password and args.database_url):
                parser.error("--target needs --admin-email, --admin-password and --database-url")
            base_url, database_url = args.target, args.database_url
            admin_email, admin_password = args.admin_email, args.admin_password
            where = args.target
        else:
            database_url, drop = scratch_database(args.database_url, "bench", folder=str(workdir))
            server = Server(database_url, workers=args.workers, threads=args.threads,
                            log_path=workdir / "server.log")
            admin_email = f"admin-{uuid.uuid4().hex[:6]}@bench.fieldsales.dev"
            admin_password = PASSWORD
            server.prepare(admin_email=admin_email, admin_password=admin_password,
                           schema=args.schema)
            server.start()
            base_url = server.base_url
            kind = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
            where = (f"{kind}, gunicorn {args.workers} workers"
                     + (f" x {args.threads} threads" if args.threads > 1 else "")
                     + f", {os.cpu_count()} CPUs")
        fleet = Fleet(base_url, plan, admin_email=admin_email, admin_password=admin_password)
        fleet.build()
        figures = fleet.run()
        result = check(database_url, fleet)
        print(report_text(plan, figures, result, where), flush=True)
        if args.json:
            print(json.dumps({"figures": figures, "check": result}, default=str))
        return 0 if result["ok"] and figures["errors"] == 0 else 1
    except BenchError as error:
        print(f"bench failed: {error}", file=sys.stderr)
        return 2
    finally:
        if server is not None:
            server.stop()
        if not args.keep:
            drop()
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"kept: {workdir}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
