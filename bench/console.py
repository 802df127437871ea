#!/usr/bin/env python3
"""Server time of each console page on the demo company, beside the API call it is built on.

    .venv/bin/python bench/console.py                      # a SQLite file in a temporary folder
    .venv/bin/python bench/console.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test   # a fresh schema

Seeds the demo (fieldsales/demo), scores its month, then through Flask's test client (no
network) signs in as the demo manager twice, once in the console (session cookie) and once
on the API (bearer token), and times each page and its API baseline alternately, printing
the median and the slowest of the runs in milliseconds. The console's budget is 150 ms a page
(issue 12); the difference to the baseline is what rendering the page costs.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from sqlalchemy import select  # noqa: E402

from config import TestingConfig  # noqa: E402
from fieldsales import create_app  # noqa: E402
from fieldsales.demo import seed as demo  # noqa: E402
from fieldsales.extensions import db  # noqa: E402
from fieldsales.jobs.runner import run_job  # noqa: E402
from fieldsales.scratch import scratch_database  # noqa: E402
from fieldsales.users.models import User  # noqa: E402

BUDGET_MS = 150
MANAGER = "manager1@demo.fieldsales.dev"


def last_weekday() -> str:
    day = datetime.now(UTC).date() - timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day.isoformat()


def ninety_days_before(day: str) -> str:
    return (datetime.fromisoformat(day).date() - timedelta(days=89)).isoformat()


def timed(client, path: str, **kwargs) -> float:
    started = time.perf_counter()
    response = client.get(path, **kwargs)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{path}: {response.status_code}\n{response.text[:500]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="PostgreSQL server URL (a fresh schema is made "
                        "and dropped); a SQLite file in a temporary folder when omitted")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    url, drop = scratch_database(args.database_url, "bench_console")
    try:
        app = create_app(type("BenchConfig", (TestingConfig,), {
            "SQLALCHEMY_DATABASE_URI": url, "CONSOLE_TILE_URL": "",
            "SCORING_PRODUCTIVITY_LOOKBACK_DAYS": demo.HISTORY_DAYS + 1}))
        with app.app_context():
            db.create_all()
            demo.seed()
            db.session.commit()
            for job in ("productivity", "demand", "backlog"):
                run_job(job)
            manager = db.session.scalar(select(User).where(User.email == MANAGER))
            rep = db.session.scalar(select(User).where(User.team_id == manager.team_id,
                                                       User.role == "rep").order_by(User.name))
            team_id, rep_id = manager.team_id, rep.id
        measure(app, team_id=team_id, rep_id=rep_id, runs=args.runs)
    finally:
        drop()


def measure(app, *, team_id: str, rep_id: str, runs: int) -> None:
    console, api = app.test_client(), app.test_client()
    form = console.get("/signin").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    signed = console.post("/signin", data={"email": MANAGER, "password": demo.PASSWORD,
                                          "csrf_token": token})
    assert signed.status_code == 302, signed.text
    bearer = api.post("/api/v1/auth/token", json={"email": MANAGER, "password": demo.PASSWORD})
    headers = {"Authorization": f"Bearer {bearer.json['access_token']}"}
    day = last_weekday()
    pairs = [
        ("Today", "/today", f"/api/v1/teams/{team_id}/overview?period=day"),
        ("Rep day", f"/reps/{rep_id}/day?date={day}", f"/api/v1/reps/{rep_id}/activity?date={day}"),
        ("Team (week)", f"/team?period=week&date={day}",
         f"/api/v1/teams/{team_id}/overview?period=week&date={day}"),
        ("Team (month)", f"/team?period=month&date={day}",
         f"/api/v1/teams/{team_id}/overview?period=month&date={day}"),
        ("Targets", "/targets", "/api/v1/targets"),
        ("Targets CSV", "/targets.csv", "/api/v1/targets?format=csv"),
        ("New target", "/targets/new", "/api/v1/users/me"),
        # The Backlog page also reads the summary (the baseline is the list alone).
        ("Backlog", "/backlog", "/api/v1/backlog?limit=20"),
        ("Backlog late", "/backlog?late_only=true", "/api/v1/backlog?limit=20&late_only=true"),
        ("Backlog CSV", "/backlog.csv", "/api/v1/backlog?format=csv"),
        ("Demand", "/demand", "/api/v1/demand?limit=20"),
        ("Demand CSV", "/demand.csv", "/api/v1/demand?format=csv"),
        ("Customers", "/customers", "/api/v1/customers?sort=name"),
        ("New customer", "/customers/new", "/api/v1/users/me"),
        ("Feedback", "/feedback", "/api/v1/feedback/summary"),
        ("Feedback 90d", f"/feedback?from={ninety_days_before(day)}&to={day}",
         f"/api/v1/feedback/summary?from={ninety_days_before(day)}&to={day}"),
        ("Feedback rep", f"/feedback?rep_id={rep_id}", f"/api/v1/feedback/summary?rep_id={rep_id}"),
        ("Territories", "/territories", "/api/v1/territories/balance?limit=20"),
    ]
    print(f"\n== server time per request, ms ({runs} runs each, after one warm-up)")
    print(f"{'page':<14} {'console median':>15} {'max':>7} {'API median':>11} {'max':>7}  budget")
    for name, page, baseline in pairs:
        timed(console, page), timed(api, baseline, headers=headers)  # warm-up
        pages, apis = [], []
        for _ in range(runs):
            pages.append(timed(console, page))
            apis.append(timed(api, baseline, headers=headers))
        median = statistics.median(pages)
        verdict = "ok" if median < BUDGET_MS else f"OVER {BUDGET_MS} ms"
        print(f"{name:<14} {median:>15.1f} {max(pages):>7.1f} {statistics.median(apis):>11.1f}"
              f" {max(apis):>7.1f}  {verdict}", flush=True)


if __name__ == "__main__":
    main()
