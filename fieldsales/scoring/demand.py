"""Inventory demand per product per week, with a Holt's linear trend forecast.

One set-based statement (queries/product_demand.sql): SQL aggregates the weekly ordered and
feedback-requested quantities and the open backlog per product, runs Holt's smoothing as a
recursive query over the weeks (every product's series advances one week per step), and
writes every row with the latest week's stock snapshot. A product's smoothing starts at its
first week with orders in the window: weeks before it are no history, not zero demand (a
product first sold four weeks ago at a steady rate is not "rising"). Formulas: docs/scoring.md.
"""
from flask import current_app
from sqlalchemy import text

from fieldsales.common import WEEK_MS
from fieldsales.extensions import db
from fieldsales.orders import rules as order_rules
from fieldsales.scoring import sql
from fieldsales.scoring.sql import week_start

ALPHA = 0.5            # level smoothing: weight of the newest week
BETA = 0.3             # trend smoothing
RISING_TREND_SHARE = 0.1  # rising: the trend adds at least 10% of the level per week

def run(*, now: int) -> int:
    """Recompute the last complete weeks' rows for every product; returns rows written."""
    weeks = max(current_app.config["SCORING_DEMAND_WEEKS"], 2)
    latest = week_start(now) - WEEK_MS  # the last complete week
    first = latest - (weeks - 1) * WEEK_MS
    end = latest + WEEK_MS
    db.session.execute(text("UPDATE product_demand SET is_latest = :no WHERE is_latest = :yes"),
                       {"no": False, "yes": True})
    db.session.execute(text("DELETE FROM product_demand "
                            "WHERE week_start >= :a AND week_start < :b"), {"a": first, "b": end})
    return sql.execute(db.session, "product_demand", {
        "weeks": weeks, "ws": first, "we": end, "step": WEEK_MS, "alpha": ALPHA, "beta": BETA,
        "rising_share": RISING_TREND_SHARE, "now": now, **order_rules.sql_params()})
