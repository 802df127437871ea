#!/usr/bin/env python3
"""Times the plan job: 1,000 reps over 5 working days, 40 due customers each.

    .venv/bin/python bench/plans.py                 # SQLite file in a temporary folder
    .venv/bin/python bench/plans.py --reps 50       # a quick run
    .venv/bin/python bench/plans.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test   # a fresh schema

1. The job: teams of 10 reps working 08:30-17:30 Monday to Friday in Lisbon; each rep has
   `--customers` customers never visited (all due at once, on cadence) scattered within about
   12 km of the rep's start point, a tenth with opening hours, segments with 30 or 45 minutes
   on site. `plan_days` runs through the job runner (lock, run record, one commit), on a
   Monday at 06:00. Prints the wall time, the time per rep-day, what was planned and the
   planned distance against a nearest-neighbour tour of the same stops (the baseline,
   measured in the same run; below 1.00 the solver's routes are shorter).
2. Growth: the solver alone on one rep-day of 10, 20, 40 and 80 due customers (the same
   generator), ms per rep-day and the distance ratio to nearest neighbour.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from config import TestingConfig  # noqa: E402
from fieldsales import create_app  # noqa: E402
from fieldsales.extensions import db  # noqa: E402
from fieldsales.scratch import scratch_database  # noqa: E402

NOW = 1_772_431_200_000  # Monday 2026-03-02 06:00 UTC (06:00 in Lisbon)
REPS_PER_TEAM = 10
HOURS = {**{d: ["08:30", "17:30"] for d in ("mon", "tue", "wed", "thu", "fri")},
         "sat": None, "sun": None}
SEGMENTS = ("grocery", "kiosk", "supermarket", "cafe")
TIME_ON_SITE = {"*": 30, "supermarket": 45}
SPREAD_DEGREES = 0.11  # about 12 km north-south


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="PostgreSQL server URL (a fresh schema is made "
                        "and dropped); a SQLite file in a temporary folder when omitted")
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--customers", type=int, default=40, help="due customers per rep")
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--growth-samples", type=int, default=40,
                        help="rep-days solved per size in the growth series")
    parser.add_argument("--time-limit-ms", type=int, default=None,
                        help="PLAN_SOLVER_TIME_LIMIT_MS (default: the config's)")
    args = parser.parse_args()

    url, drop = scratch_database(args.database_url, "bench_plans")
    overrides = {"SQLALCHEMY_DATABASE_URI": url, "SQLALCHEMY_ENGINE_OPTIONS": {},
                 "PLAN_TIME_ON_SITE_MINUTES": TIME_ON_SITE, "PLAN_DAYS": args.days}
    if args.time_limit_ms is not None:
        overrides["PLAN_SOLVER_TIME_LIMIT_MS"] = args.time_limit_ms
    app = create_app(type("BenchConfig", (TestingConfig,), overrides))
    try:
        with app.app_context():
            db.create_all()
            bench_job(reps=args.reps, customers=args.customers, days=args.days,
                      dialect=db.engine.dialect.name)
            db.session.remove()
            bench_growth(samples=args.growth_samples)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        drop()


def bench_job(*, reps: int, customers: int, days: int, dialect: str) -> None:
    from fieldsales.jobs.runner import run_job
    print(f"== the plan job: {reps:,} reps x {days} working days, {customers} due customers "
          f"each ({dialect})", flush=True)
    started = time.perf_counter()
    generate(reps=reps, customers=customers)
    print(f"generated in {time.perf_counter() - started:.1f} s", flush=True)
    started = time.perf_counter()
    run = run_job("plans", now=NOW)
    wall = time.perf_counter() - started
    if run.status != "ok" or run.summary is None:
        raise SystemExit(f"the plan job did not run ok: {run.error_detail or run.error}")
    s = run.summary
    rep_days = max(1, s["rep_days"])
    print(f"wall time              {wall:8.1f} s   ({run.rows_written:,} rows written)")
    print(f"per rep-day            {1000 * wall / rep_days:8.1f} ms  over {rep_days:,} "
          f"rep-days; of which the solver {s['solve_ms'] / rep_days:.1f} ms")
    print(f"planned / overflow     {s['planned']:,} / {s['overflow']:,}  "
          f"(capacity {rep_days * 8:,}); time-limit hits {s['time_limit_hits']}")
    ratio = s["planned_m"] / s["nearest_neighbour_m"] if s["nearest_neighbour_m"] else 1.0
    print(f"planned distance       {s['planned_m'] / 1000:10,.0f} km")
    print(f"nearest neighbour      {s['nearest_neighbour_m'] / 1000:10,.0f} km  "
          f"(baseline: the same stops, same start)")
    print(f"ratio                  {ratio:8.3f}  ({'beats' if ratio < 1 else 'does NOT beat'} "
          f"nearest neighbour)", flush=True)


def bench_growth(*, samples: int) -> None:
    from flask import current_app

    from fieldsales.plans import solver
    print("\n== growth: one rep-day, the solver alone (8 visits a day, 9 hours)")
    print(f"{'due':>5} {'ms/rep-day':>11} {'p90 ms':>8} {'nn ms':>7} {'vs nn':>7}")
    rng = random.Random(11)
    limit = current_app.config["PLAN_SOLVER_TIME_LIMIT_MS"]
    for size in (10, 20, 40, 80):
        times, nn_times, planned, baseline = [], [], 0, 0
        for _ in range(samples):
            centre = (38.72 + rng.uniform(-0.5, 0.5), -9.14 + rng.uniform(-0.3, 0.3))
            points = [centre, *(around(rng, centre) for _ in range(size))]
            began = time.perf_counter()
            travel = solver.travel_matrix(points, speed_kmh=30.0)
            stops = [solver.Stop(key=str(i), node=i, service_s=1800 if i % 4 else 2700,
                                 priority=20 + rng.randint(0, 30)) for i in range(1, size + 1)]
            plan = solver.solve_day(travel=travel, stops=stops, day_s=9 * 3600, max_visits=8,
                                    time_limit_ms=limit)
            times.append(1000 * (time.perf_counter() - began))
            began = time.perf_counter()
            baseline += solver.nearest_neighbour_m(travel, [int(k) for k, _ in plan.route])
            nn_times.append(1000 * (time.perf_counter() - began))
            planned += plan.distance_m
        p90 = statistics.quantiles(times, n=10)[-1] if len(times) > 1 else times[0]
        print(f"{size:5d} {statistics.mean(times):11.1f} {p90:8.1f} "
              f"{statistics.mean(nn_times):7.2f} {planned / baseline:7.3f}", flush=True)


def around(rng: random.Random, centre: tuple[float, float]) -> tuple[float, float]:
    return (centre[0] + rng.uniform(-SPREAD_DEGREES / 2, SPREAD_DEGREES / 2),
            centre[1] + rng.uniform(-SPREAD_DEGREES / 2, SPREAD_DEGREES / 2) * 1.3)


def generate(*, reps: int, customers: int) -> None:
    """Teams, reps with start points, and their customers: bulk inserts."""
    from fieldsales.customers.models import Customer
    from fieldsales.users.models import Team, User
    rng = random.Random(7)
    teams = (reps + REPS_PER_TEAM - 1) // REPS_PER_TEAM
    db.session.execute(db.insert(Team), [
        dict(id=f"t{t}", name=f"Team {t}", visit_cadence_days=14, time_zone="Europe/Lisbon",
             working_hours=HOURS, keep_off_duty_positions=False, created_at=0)
        for t in range(teams)])
    rep_rows, customer_rows = [], []
    for r in range(reps):
        centre = (38.72 + rng.uniform(-0.5, 0.5), -9.14 + rng.uniform(-0.3, 0.3))
        rep_rows.append(dict(id=f"r{r}", email=f"r{r}@bench", name=f"Rep {r}", role="rep",
                             password_hash="x", team_id=f"t{r // REPS_PER_TEAM}",
                             selling_style="farmer", active=True, created_at=0,
                             start_latitude=centre[0], start_longitude=centre[1]))
        for c in range(customers):
            lat, lng = around(rng, centre)
            hours = (("09:00", "13:00") if c % 10 == 0 else (None, None))
            customer_rows.append(dict(
                id=f"c{r}-{c}", name=f"Customer {r}-{c}", latitude=lat, longitude=lng,
                geofence_radius_m=100, segment=SEGMENTS[c % len(SEGMENTS)], kind="account",
                team_id=f"t{r // REPS_PER_TEAM}", assigned_rep_id=f"r{r}",
                opens_at=hours[0], closes_at=hours[1], created_seq=1, changed_seq=1,
                received_at=0))
    db.session.execute(db.insert(User), rep_rows)
    for first in range(0, len(customer_rows), 5000):
        db.session.execute(db.insert(Customer), customer_rows[first:first + 5000])
    db.session.commit()


if __name__ == "__main__":
    main()
