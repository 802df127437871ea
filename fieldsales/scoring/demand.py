"""Inventory demand per product per week, with a Holt's linear trend forecast.

SQL aggregates the weekly ordered and feedback-requested quantities and the open backlog per
product. The smoothing then runs in Python over those aggregated rows (weeks x products, a
small table), which keeps the recursion readable and the same on both databases.
Formulas: docs/scoring.md.
"""
from collections import defaultdict

from flask import current_app
from sqlalchemy import insert, text

from fieldsales.extensions import db
from fieldsales.scoring.models import ProductDemand
from fieldsales.scoring.sql import WEEK_MS, WEEK_OFFSET_MS, bucket, week_start

DEFAULT_WEEKS = 12
ALPHA = 0.5            # level smoothing: weight of the newest week
BETA = 0.3             # trend smoothing
RISING_TREND_SHARE = 0.1  # rising: the trend adds at least 10% of the level per week


def run(*, now: int) -> int:
    """Recompute the last complete weeks' rows for every product; returns rows written."""
    weeks = max(int(current_app.config.get("SCORING_DEMAND_WEEKS", DEFAULT_WEEKS)), 2)
    latest = week_start(now) - WEEK_MS  # the last complete week
    first = latest - (weeks - 1) * WEEK_MS
    end = latest + WEEK_MS
    week_starts = [first + i * WEEK_MS for i in range(weeks)]
    window = {"ws": first, "we": end, "off": WEEK_OFFSET_MS, "step": WEEK_MS}

    ordered = _weekly(f"""
        SELECT ol.product_id, {bucket('o.ordered_at')} AS week, SUM(ol.quantity)
        FROM order_lines ol JOIN orders o ON o.id = ol.order_id
        WHERE o.status <> 'cancelled' AND o.deleted_at IS NULL AND ol.deleted_at IS NULL
          AND o.ordered_at >= :ws AND o.ordered_at < :we
        GROUP BY 1, 2
    """, window)
    requested = _weekly(f"""
        SELECT product_id, {bucket('recorded_at')} AS week, SUM(requested_quantity)
        FROM feedback
        WHERE product_id IS NOT NULL AND requested_quantity IS NOT NULL AND deleted_at IS NULL
          AND recorded_at >= :ws AND recorded_at < :we
        GROUP BY 1, 2
    """, window)
    products = db.session.execute(text("""
        SELECT p.id, p.stock_on_hand, p.lead_time_days, COALESCE(b.backlog, 0)
        FROM products p
        LEFT JOIN (
            SELECT ol.product_id, SUM(ol.quantity - ol.delivered_quantity) AS backlog
            FROM order_lines ol JOIN orders o ON o.id = ol.order_id
            WHERE o.status <> 'cancelled' AND o.deleted_at IS NULL AND ol.deleted_at IS NULL
              AND ol.quantity > ol.delivered_quantity
            GROUP BY ol.product_id
        ) b ON b.product_id = p.id
        WHERE p.deleted_at IS NULL
    """)).all()

    rows = []
    for product_id, stock, lead_time_days, backlog in products:
        series = [ordered[product_id].get(w, 0.0) for w in week_starts]
        smoothed = holt(series)
        for week, quantity, (level, trend) in zip(week_starts, series, smoothed):
            rows.append({
                "product_id": product_id, "week_start": week, "ordered_quantity": quantity,
                "feedback_requested_quantity": requested[product_id].get(week, 0.0),
                "level": level, "trend": trend, "forecast": max(level + trend, 0.0),
                "is_latest": False, "rising_demand": False, "stock_short_of_backlog": False,
                "computed_at": now,
            })
        rows[-1].update(snapshot(forecast=rows[-1]["forecast"], level=level, trend=trend,
                                 stock=float(stock or 0), backlog=float(backlog or 0),
                                 lead_time_days=int(lead_time_days or 0)))

    db.session.execute(text("UPDATE product_demand SET is_latest = :no WHERE is_latest = :yes"),
                       {"no": False, "yes": True})
    db.session.execute(text("DELETE FROM product_demand "
                            "WHERE week_start >= :a AND week_start < :b"), {"a": first, "b": end})
    if rows:
        db.session.execute(insert(ProductDemand), rows)
    return len(rows)


def holt(series: list[float], *, alpha: float = ALPHA, beta: float = BETA):
    """(level, trend) after each value: Holt's linear exponential smoothing.

    Starts at the first value with no trend, so a short or flat history forecasts flat.
    """
    out, level, trend = [], None, 0.0
    for value in series:
        if level is None:
            level = value
        else:
            previous = level
            level = alpha * value + (1 - alpha) * (level + trend)
            trend = beta * (level - previous) + (1 - beta) * trend
        out.append((level, trend))
    return out


def snapshot(*, forecast: float, level: float, trend: float, stock: float, backlog: float,
             lead_time_days: int) -> dict:
    """Cover, reorder suggestion and flags from next week's forecast and today's stock."""
    daily = forecast / 7
    return {
        "is_latest": True,
        "stock_on_hand": stock,
        "backlog_quantity": backlog,
        "lead_time_days": lead_time_days,
        "days_of_cover": stock / daily if daily > 0 else None,
        "reorder_suggestion": max(daily * lead_time_days + backlog - stock, 0.0),
        "rising_demand": trend > 0 and level > 0 and trend >= RISING_TREND_SHARE * level,
        "stock_short_of_backlog": stock < backlog,
    }


def _weekly(sql: str, params: dict) -> dict[str, dict[int, float]]:
    out: dict[str, dict[int, float]] = defaultdict(dict)
    for product_id, week, quantity in db.session.execute(text(sql), params):
        out[product_id][int(week)] = float(quantity or 0)
    return out
