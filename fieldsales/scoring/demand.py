"""Inventory demand per product per week, with a Holt's linear trend forecast.

One set-based statement (queries/product_demand.sql): SQL aggregates the weekly ordered and
feedback-requested quantities and the open backlog per product, runs Holt's smoothing as a
recursive query over the weeks (every product's series advances one week per step), and
writes every row with the latest week's stock snapshot. A product's smoothing starts at its
first week with orders in the window: weeks before it are no history, not zero demand (a
product first sold four weeks ago at a steady rate is not "rising"). Formulas: docs/scoring.md.
"""
from flask import current_app
from sqlalchemy import literal, or_, select, text

from fieldsales.common import WEEK_MS
from fieldsales.events.service import emit_select, json_payload
from fieldsales.extensions import db
from fieldsales.orders import rules as order_rules
from fieldsales.scoring import sql
from fieldsales.scoring.models import ProductDemand
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
    was_flagged = set(db.session.scalars(select(ProductDemand.product_id).where(
        ProductDemand.is_latest.is_(True), FLAGGED)))  # one row per product: the catalogue
    db.session.execute(text("UPDATE product_demand SET is_latest = :no WHERE is_latest = :yes"),
                       {"no": False, "yes": True})
    db.session.execute(text("DELETE FROM product_demand "
                            "WHERE week_start >= :a AND week_start < :b"), {"a": first, "b": end})
    written = sql.execute(db.session, "product_demand", {
        "weeks": weeks, "ws": first, "we": end, "step": WEEK_MS, "alpha": ALPHA, "beta": BETA,
        "rising_share": RISING_TREND_SHARE, "now": now, **order_rules.sql_params()})
    emit_newly_flagged(was_flagged=was_flagged, now=now)
    return written


# A product's latest row is flagged when its demand rises or its stock is short of its backlog.
FLAGGED = or_(ProductDemand.rising_demand.is_(True),
              ProductDemand.stock_short_of_backlog.is_(True))


def emit_newly_flagged(*, was_flagged: set[str], now: int) -> int:
    """`demand.flagged` for each product whose latest row is flagged now and was not before
    this run (one INSERT .. SELECT per chunk of the newly flagged)."""
    d = ProductDemand
    flagged_now = set(db.session.scalars(select(d.product_id).where(d.is_latest.is_(True),
                                                                      FLAGGED)))
    new = sorted(flagged_now - was_flagged)
    written = 0
    for start in range(0, len(new), 500):
        written += emit_select(type="demand.flagged", rows=select(
            literal(None).label("team_id"), d.product_id.label("subject_id"),
            json_payload(product_id=d.product_id, week_start=d.week_start,
                         rising_demand=d.rising_demand,
                         stock_short_of_backlog=d.stock_short_of_backlog,
                         stock_on_hand=d.stock_on_hand, backlog_quantity=d.backlog_quantity,
                         reorder_suggestion=d.reorder_suggestion).label("payload"),
            literal(now).label("occurred_at"))
            .where(d.is_latest.is_(True), d.product_id.in_(new[start:start + 500])))
    return written
