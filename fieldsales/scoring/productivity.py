"""Rep productivity per day and per week, in set-based SQL (formulas: docs/scoring.md).

Each run recomputes a window (the last `SCORING_PRODUCTIVITY_LOOKBACK_DAYS` days, and the
weeks they touch) by deleting its rows and inserting them again from one INSERT ... SELECT per
period kind (queries/productivity_scores.sql), so late syncs are picked up and reruns give the
same rows. Every rep gets a row for every period, idle ones too (a score of 0 is information
for a manager).

Journey plans come in through a temporary table of the window's rep-days
(`plans.compliance.kept_by_day`: planned, done, done in planned order), which the SQL rolls up
by period like every other source.
"""
from datetime import date

from flask import current_app
from sqlalchemy import text

from fieldsales.common import DAY_MS, FIRST_MONDAY_MS, WEEK_MS
from fieldsales.extensions import db
from fieldsales.orders import rules as order_rules
from fieldsales.plans import compliance
from fieldsales.scoring import sql
from fieldsales.scoring.sql import day_start, week_start
from fieldsales.targets.periods import day_ms, ms_date
from fieldsales.tasks.models import TASK_CREDIT_MINUTES

# Norms a day's work is measured against (a week: times WORKDAYS_PER_WEEK). Override any of
# them with the app setting SCORING_NORMS = {"visits_per_day": 8, ...}.
NORMS = {
    "visits_per_day": 6,         # verified visits
    "orders_per_day": 2,
    "prospects_per_day": 2,      # hunters: prospects visited
    "conversions_per_day": 0.2,  # hunters: one new account a working week
    "task_minutes": TASK_CREDIT_MINUTES,
    "workdays_per_week": 5,
}

# Component -> weight. A component that does not apply (NULL) gives its weight to the others.
WEIGHTS = {
    "c_visits": 20,
    "c_selling_share": 5,
    "c_task_completion": 10,
    "c_on_time": 5,
    "c_call_rate": 10,
    "c_plan_adherence": 10,  # reps with a journey plan in the period
    "c_strike_rate": 10,
    "c_orders": 10,
    "c_target": 10,
    "c_prospects": 10,      # hunters
    "c_conversions": 10,    # hunters
    "c_coverage": 10,       # farmers
    "c_repeat": 10,         # farmers
}

# Suspect activity: points taken off the 0-100 score (at most the sum, 30).
PENALTY_UNVERIFIED_SHARE = 20  # times the share of visits not verified
PENALTY_FLAGGED_SHARE = 10     # times the share of pings flagged

def run(*, now: int) -> int:
    """Recompute the window's day and week rows and their suspects; returns rows written."""
    lookback = current_app.config["SCORING_PRODUCTIVITY_LOOKBACK_DAYS"]
    first_day = day_start(now) - (max(lookback, 1) - 1) * DAY_MS
    day_end = day_start(now) + DAY_MS
    first_week = week_start(first_day)
    week_end = week_start(now) + WEEK_MS
    norms = current_norms()

    written = 0
    db.session.execute(text("DELETE FROM rep_scores WHERE period = 'day' AND period_start >= :a "
                            "AND period_start < :b"), {"a": first_day, "b": day_end})
    db.session.execute(text("DELETE FROM rep_scores WHERE period = 'week' AND period_start >= :a "
                            "AND period_start < :b"), {"a": first_week, "b": week_end})
    load_plan_days(first=first_week, end=week_end)
    written += score_periods(period="day", first=first_day, end=day_end, now=now, norms=norms)
    written += score_periods(period="week", first=first_week, end=week_end, now=now, norms=norms)
    written += list_suspects(start=first_week, end=week_end)
    db.session.execute(text("DROP TABLE plan_days"))
    return written


def load_plan_days(*, first: int, end: int) -> None:
    """Fill the temporary table `plan_days` with the journey-plan figures of every rep-day
    whose planned date falls in [first, end): a planned date is the UTC day of that date."""
    db.session.execute(text("DROP TABLE IF EXISTS plan_days"))
    db.session.execute(text(
        "CREATE TEMPORARY TABLE plan_days (rep_id VARCHAR(64), day_start BIGINT, "
        "planned INTEGER, done INTEGER, in_order INTEGER)"))
    rows = [{"rep_id": rep_id, "day_start": day_ms(date.fromisoformat(planned_date)),
             "planned": planned, "done": done, "in_order": in_order}
            for rep_id, planned_date, planned, done, in_order in compliance.kept_by_day(
                first=ms_date(first), last=ms_date(end - DAY_MS))]
    if rows:
        db.session.execute(text("INSERT INTO plan_days VALUES "
                                "(:rep_id, :day_start, :planned, :done, :in_order)"), rows)


def current_norms() -> dict:
    """NORMS with the app's SCORING_NORMS overrides."""
    return {**NORMS, **current_app.config["SCORING_NORMS"]}


def score_periods(*, period: str, first: int, end: int, now: int, norms: dict) -> int:
    """INSERT ... SELECT the rows of every rep for every period in [first, end)."""
    day = period == "day"
    workdays = 1 if day else norms["workdays_per_week"]
    params = {
        "period": period, "first": first, "end": end, "ws": first, "we": end, "now": now,
        "off": 0 if day else FIRST_MONDAY_MS, "step": DAY_MS if day else WEEK_MS,
        "days": 1 if day else 7, "f": workdays,
        "t_visits": norms["visits_per_day"], "t_orders": norms["orders_per_day"],
        "t_prospects": norms["prospects_per_day"], "t_conv": norms["conversions_per_day"],
        "task_s": norms["task_minutes"] * 60,
    }
    return sql.execute(db.session, "productivity_scores", {
        **params, **order_rules.sql_params(),
        **{f"w_{name[2:]}": weight for name, weight in WEIGHTS.items()},
        "penalty_unverified": PENALTY_UNVERIFIED_SHARE, "penalty_flagged": PENALTY_FLAGGED_SHARE,
    })


def list_suspects(*, start: int, end: int) -> int:
    """Unverified visits and flagged pings in [start, end), one row each, replacing the old."""
    db.session.execute(text("DELETE FROM scoring_suspects WHERE occurred_at >= :a "
                            "AND occurred_at < :b"), {"a": start, "b": end})
    return sql.execute(db.session, "scoring_suspects", {"a": start, "b": end})
