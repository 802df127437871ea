"""Backlog dispatch priority, promised dispatch dates, and the backlog health figures.

An order is backlog while any of its lines has pending quantity (ordered - delivered) and it is
not cancelled. The job scores every such order in one INSERT ... SELECT (formulas in
docs/scoring.md), allocates stock to their lines in priority order with a running sum per
product, ranks them, and writes each order's promised dispatch date back to `orders` where it
changed, so phones pull it.
"""
from flask import current_app
from sqlalchemy import bindparam, text

from fieldsales.changes.clock import take_stamp
from fieldsales.common import DAY_MS, now_ms
from fieldsales.extensions import db
from fieldsales.scoring.sql import cap, floor0, floor_int, ratio

# Points; their sum is the score (0-100).
POINTS = {
    "age": 15,        # full at AGE_FULL_DAYS since the order
    "lateness": 25,   # full at LATENESS_FULL_DAYS past the requested delivery date
    "fill": 20,       # times the share of the pending quantity stock can fill now
    "value": 10,      # times the order's percent rank by pending value in the backlog
    "customer": 10,   # times the customer's percent rank by trailing 90-day revenue
    "segment": 5,     # customers in a key segment
    "feedback": 15,   # full at FEEDBACK_FULL_COUNT negative delivery feedbacks in 30 days
}
AGE_FULL_DAYS = 30
LATENESS_FULL_DAYS = 14
FEEDBACK_FULL_COUNT = 2
REVENUE_DAYS = 90
FEEDBACK_DAYS = 30

NL = "\n"
# Intermediate results, as indexed temporary tables: joining large derived tables is where
# planners (SQLite's especially) fall into nested loops; an index on each keeps it linear.
STAGE_TABLES = ("backlog_stage_lines", "backlog_stage_orders", "backlog_stage_fills")


def run(*, now: int) -> int:
    """Replace the priority rows, then write changed promised dates to orders."""
    db.session.execute(text("DELETE FROM backlog_priorities"))
    written = rank_backlog(now=now)
    return written + promise_dispatch()


def rank_backlog(*, now: int) -> int:
    dialect = db.engine.dialect.name
    capacity = current_app.config["SCORING_DISPATCH_CAPACITY_PER_DAY"]
    segments = [s.lower() for s in current_app.config["SCORING_KEY_SEGMENTS"]]
    today = now // DAY_MS * DAY_MS
    params = {
        "now": now, "day": DAY_MS, "today": today,
        "revenue_since": now - REVENUE_DAYS * DAY_MS,
        "feedback_since": now - FEEDBACK_DAYS * DAY_MS,
        "capacity": capacity if capacity > 0 else 1_000_000_000, "segments": segments or [""],
    }
    for name in reversed(STAGE_TABLES):
        db.session.execute(text(f"DROP TABLE IF EXISTS {name}"))
    for sql in _stage_sql(dialect):
        statement = text(sql)
        if ":segments" in sql:
            statement = statement.bindparams(bindparam("segments", expanding=True))
        result = db.session.execute(statement, params)
    written = max(result.rowcount or 0, 0)
    for name in reversed(STAGE_TABLES):
        db.session.execute(text(f"DROP TABLE {name}"))
    return written


def promise_dispatch() -> int:
    """Copy each ranked order's promised date to `orders` where it differs, stamped for sync.

    ORM-free: one UPDATE. The stamp is taken here, at the end of the job, because taking it
    locks the sync clock until the job commits.
    """
    differs = ("EXISTS (SELECT 1 FROM backlog_priorities bp WHERE bp.order_id = orders.id "
               "AND (orders.promised_dispatch_at IS NULL "
               "OR orders.promised_dispatch_at <> bp.promised_dispatch_at))")
    if not db.session.execute(text(f"SELECT COUNT(*) FROM orders WHERE {differs}")).scalar():
        return 0
    stamp = take_stamp(db.session)
    result = db.session.execute(text(f"""
        UPDATE orders
        SET promised_dispatch_at = (SELECT bp.promised_dispatch_at FROM backlog_priorities bp
                                    WHERE bp.order_id = orders.id),
            changed_seq = :stamp
        WHERE {differs}
    """), {"stamp": stamp})
    return max(result.rowcount or 0, 0)


def _days(expression: str) -> str:
    """'1 day' / 'N days' for an integer expression."""
    return (f"(CASE WHEN ({expression}) = 1 THEN '1 day' "
            f"ELSE CAST(({expression}) AS VARCHAR(20)) || ' days' END)")


def _stage_sql(dialect: str) -> list[str]:
    p = POINTS
    sentence = "COALESCE(CASE {} END || '" + NL + "', '')"
    reasons = " || ".join(sentence.format(case) for case in (
        f"WHEN late_whole_days >= 1 THEN 'Late: ' || {_days('late_whole_days')} "
        "|| ' past the requested delivery date.' "
        "WHEN lateness_days > 0 THEN 'Due today: the requested delivery time has passed.'",
        f"WHEN 1 = 1 THEN 'Ordered ' || {_days('age_whole_days')} || ' ago.'",
        "WHEN fill = 'full' THEN 'Stock on hand covers it in full.' "
        f"WHEN fill = 'partial' THEN 'Stock covers ' "
        f"|| CAST({floor_int('fill_share * 100', dialect)} AS VARCHAR(20)) "
        f"|| '% now; the rest waits on stock (lead time ' || {_days('wait_days')} || ').' "
        f"ELSE 'Waiting on stock (lead time ' || {_days('wait_days')} || ').'",
        f"WHEN value_rank >= 0.8 AND backlog_orders > 1 "
        "THEN 'High value: among the top 20% of the backlog by value.'",
        f"WHEN customer_rank >= 0.8 AND backlog_orders > 1 "
        "THEN 'Valuable customer: 90-day revenue among the top 20% of the backlog.'",
        "WHEN segment_points > 0 THEN 'Key segment: ' || segment || '.'",
        "WHEN negative_feedback_30d = 1 "
        "THEN 'The customer reported a delivery problem in the last 30 days.' "
        "WHEN negative_feedback_30d > 1 THEN 'The customer reported ' "
        "|| CAST(negative_feedback_30d AS VARCHAR(20)) "
        "|| ' delivery problems in the last 30 days.'",
    ))
    columns = ("order_id", "rank", "score", "customer_id", "rep_id", "ordered_at",
               "requested_delivery_at", "age_days", "lateness_days", "pending_quantity",
               "pending_value", "allocated_quantity", "fill", "fill_share", "wait_days",
               "customer_revenue_90d", "segment", "negative_feedback_30d", "age_points",
               "lateness_points", "fill_points", "value_points", "customer_points",
               "segment_points", "feedback_points", "reasons", "promised_dispatch_at",
               "computed_at")
    return [
        # Open lines: pending quantity on orders not cancelled.
        """
CREATE TEMPORARY TABLE backlog_stage_lines AS
SELECT ol.id AS line_id, ol.order_id, ol.product_id,
       ol.quantity - ol.delivered_quantity AS pending, ol.unit_price
FROM order_lines ol JOIN orders o ON o.id = ol.order_id
WHERE o.status <> 'cancelled' AND o.deleted_at IS NULL AND ol.deleted_at IS NULL
  AND ol.quantity > ol.delivered_quantity
""",
        "CREATE INDEX ix_backlog_stage_lines_order ON backlog_stage_lines (order_id)",
        # Open orders with everything but the fill: facts, ranks and points.
        f"""
CREATE TEMPORARY TABLE backlog_stage_orders AS
WITH open_orders AS (
    SELECT o.id AS order_id, o.customer_id, o.rep_id, o.ordered_at, o.requested_delivery_at,
           x.pending_quantity, x.pending_value
    FROM (SELECT order_id, SUM(pending) AS pending_quantity,
                 SUM(pending * unit_price) AS pending_value
          FROM backlog_stage_lines GROUP BY order_id) x
    JOIN orders o ON o.id = x.order_id
),
revenue AS (
    SELECT o.customer_id, SUM(ol.quantity * ol.unit_price) AS revenue
    FROM orders o JOIN order_lines ol ON ol.order_id = o.id
    WHERE o.status <> 'cancelled' AND o.deleted_at IS NULL AND ol.deleted_at IS NULL
      AND o.ordered_at >= :revenue_since AND o.ordered_at <= :now
      AND o.customer_id IN (SELECT customer_id FROM open_orders)
    GROUP BY o.customer_id
),
complaints AS (
    SELECT customer_id, COUNT(*) AS n
    FROM feedback
    WHERE category = 'delivery' AND rating <= 2 AND deleted_at IS NULL
      AND recorded_at >= :feedback_since AND recorded_at <= :now
      AND customer_id IN (SELECT customer_id FROM open_orders)
    GROUP BY customer_id
),
facts AS (
    SELECT oo.*, c.segment,
           COALESCE(rv.revenue, 0) AS customer_revenue_90d,
           COALESCE(cp.n, 0) AS negative_feedback_30d,
           {floor0('CAST(:now - oo.ordered_at AS FLOAT) / :day')} AS age_days,
           CASE WHEN oo.requested_delivery_at IS NOT NULL AND oo.requested_delivery_at < :now
                THEN CAST(:now - oo.requested_delivery_at AS FLOAT) / :day ELSE 0.0 END
               AS lateness_days,
           CASE WHEN oo.ordered_at < :now THEN (:now - oo.ordered_at) / :day ELSE 0 END
               AS age_whole_days,
           CASE WHEN oo.requested_delivery_at IS NOT NULL AND oo.requested_delivery_at < :now
                THEN (:now - oo.requested_delivery_at) / :day ELSE 0 END AS late_whole_days,
           PERCENT_RANK() OVER (ORDER BY oo.pending_value) AS value_rank,
           PERCENT_RANK() OVER (ORDER BY COALESCE(rv.revenue, 0)) AS customer_rank,
           COUNT(*) OVER () AS backlog_orders
    FROM open_orders oo
    LEFT JOIN customers c ON c.id = oo.customer_id
    LEFT JOIN revenue rv ON rv.customer_id = oo.customer_id
    LEFT JOIN complaints cp ON cp.customer_id = oo.customer_id
),
points AS (
    SELECT facts.*,
           {p['age']} * {cap(f'age_days / {AGE_FULL_DAYS}.0')} AS age_points,
           {p['lateness']} * {cap(f'lateness_days / {LATENESS_FULL_DAYS}.0')} AS lateness_points,
           {p['value']} * value_rank AS value_points,
           {p['customer']} * customer_rank AS customer_points,
           CASE WHEN LOWER(COALESCE(segment, '')) IN :segments THEN {p['segment']}.0 ELSE 0.0 END
               AS segment_points,
           {p['feedback']} * {cap(f'negative_feedback_30d / {FEEDBACK_FULL_COUNT}.0')}
               AS feedback_points
    FROM facts
)
SELECT points.*,
       age_points + lateness_points + value_points + customer_points + segment_points
           + feedback_points AS base_score
FROM points
""",
        "CREATE UNIQUE INDEX ix_backlog_stage_orders_order ON backlog_stage_orders (order_id)",
        # Stock allocated to lines in priority order (a running sum per product), per order.
        f"""
CREATE TEMPORARY TABLE backlog_stage_fills AS
SELECT order_id,
       SUM({cap(floor0('left_before'), 'pending')}) AS allocated_quantity,
       SUM(CASE WHEN left_before < pending THEN 1 ELSE 0 END) AS short_lines,
       MAX(CASE WHEN left_before < pending THEN lead_time_days ELSE 0 END) AS wait_days
FROM (
    SELECT ol.order_id, ol.pending, pr.lead_time_days,
           CASE WHEN pr.stock_on_hand > 0 THEN pr.stock_on_hand ELSE 0 END
               - (SUM(ol.pending) OVER (PARTITION BY ol.product_id
                                        ORDER BY b.base_score DESC, b.ordered_at, ol.order_id,
                                                 ol.line_id
                                        ROWS UNBOUNDED PRECEDING) - ol.pending) AS left_before
    FROM backlog_stage_lines ol
    JOIN backlog_stage_orders b ON b.order_id = ol.order_id
    JOIN products pr ON pr.id = ol.product_id
) allocation
GROUP BY order_id
""",
        "CREATE UNIQUE INDEX ix_backlog_stage_fills_order ON backlog_stage_fills (order_id)",
        # The fill's points, the rank, the reasons and the promised date.
        f"""
INSERT INTO backlog_priorities ({", ".join(columns)})
WITH scored AS (
    SELECT b.*, f.allocated_quantity, f.wait_days,
           CASE WHEN f.short_lines = 0 THEN 'full'
                WHEN f.allocated_quantity > 0 THEN 'partial' ELSE 'none' END AS fill,
           COALESCE({ratio('f.allocated_quantity', 'b.pending_quantity')}, 0.0) AS fill_share
    FROM backlog_stage_orders b JOIN backlog_stage_fills f ON f.order_id = b.order_id
),
totals AS (
    SELECT scored.*, {p['fill']} * fill_share AS fill_points,
           base_score + {p['fill']} * fill_share AS score
    FROM scored
),
ranked AS (
    SELECT totals.*,
           ROW_NUMBER() OVER (ORDER BY score DESC, ordered_at, order_id) AS rnk,
           ROW_NUMBER() OVER (PARTITION BY CASE WHEN fill = 'full' THEN 1 ELSE 0 END
                              ORDER BY score DESC, ordered_at, order_id) AS fill_rank
    FROM totals
)
SELECT order_id, rnk, score, customer_id, rep_id, ordered_at, requested_delivery_at, age_days,
       lateness_days, pending_quantity, pending_value, allocated_quantity, fill, fill_share,
       wait_days, customer_revenue_90d, segment, negative_feedback_30d, age_points,
       lateness_points, fill_points, value_points, customer_points, segment_points,
       feedback_points,
       {reasons},
       CASE WHEN fill = 'full' THEN :today + (1 + (fill_rank - 1) / :capacity) * :day
            ELSE :today + (1 + wait_days) * :day END,
       :now
FROM ranked
""",
    ]


def backlog_health(*, start_ms: int, end_ms: int, team_id: str | None = None,
                   rep_id: str | None = None, now: int | None = None) -> dict:
    """Backlog figures for the reports API, optionally for one team's or one rep's orders.

    - backlog (value, quantity, orders, age buckets) as it stood at the period's end
      (`as_of` = min(end_ms, now)): orders taken before then with a quantity not delivered
      by then, aged at that moment. A line's pending quantity then is what is pending now plus
      what deliveries dated since have shipped, so a past period's backlog includes orders
      delivered after it and a period's figures never change with the day they are read.
      (Orders cancelled since are left out: the cancellation time is not kept.)
    - backlog_ratio: those backlog orders / orders taken in [start_ms, end_ms), the
      backlog-to-sales ratio (above 1: more orders waiting than the period took).
    - lead time and on-time share: orders fully delivered in [start_ms, end_ms); on time means
      delivered by the requested delivery date (orders without one are not counted there).
    """
    now = now_ms() if now is None else now
    as_of = min(end_ms, now)
    scope, params = "", {"start": start_ms, "end": end_ms, "as_of": as_of, "day": DAY_MS}
    if rep_id is not None:
        scope += " AND o.rep_id = :rep_id"
        params["rep_id"] = rep_id
    if team_id is not None:
        scope += " AND o.rep_id IN (SELECT id FROM users WHERE team_id = :team_id)"
        params["team_id"] = team_id

    buckets = {name: {"bucket": name, "orders": 0, "quantity": 0.0, "value": 0.0}
               for name in ("0-7", "8-30", "31-90", "90+")}
    rows = db.session.execute(text(f"""
        WITH shipped_since AS (
            SELECT dl.order_line_id, SUM(dl.quantity) AS quantity
            FROM delivery_lines dl JOIN deliveries d ON d.id = dl.delivery_id
            WHERE d.delivered_at >= :as_of
            GROUP BY dl.order_line_id
        ),
        pending_then AS (
            SELECT ol.order_id, ol.unit_price,
                   ol.quantity - ol.delivered_quantity + COALESCE(ss.quantity, 0) AS quantity
            FROM order_lines ol LEFT JOIN shipped_since ss ON ss.order_line_id = ol.id
            WHERE ol.deleted_at IS NULL
        )
        SELECT bucket, COUNT(*), SUM(pending_quantity), SUM(pending_value) FROM (
            SELECT CASE WHEN age <= 7 THEN '0-7' WHEN age <= 30 THEN '8-30'
                        WHEN age <= 90 THEN '31-90' ELSE '90+' END AS bucket,
                   pending_quantity, pending_value
            FROM (
                SELECT (:as_of - o.ordered_at) / :day AS age,
                       SUM(p.quantity) AS pending_quantity,
                       SUM(p.quantity * p.unit_price) AS pending_value
                FROM orders o JOIN pending_then p ON p.order_id = o.id
                WHERE o.status <> 'cancelled' AND o.deleted_at IS NULL AND p.quantity > 0
                  AND o.ordered_at < :as_of {scope}
                GROUP BY o.id, o.ordered_at
            ) per_order
        ) bucketed
        GROUP BY bucket
    """), params).all()
    for name, orders, quantity, value in rows:
        buckets[name].update(orders=int(orders), quantity=float(quantity or 0),
                             value=round(float(value or 0), 2))
    backlog_orders = sum(b["orders"] for b in buckets.values())

    orders_taken = db.session.execute(text(f"""
        SELECT COUNT(*) FROM orders o
        WHERE o.status <> 'cancelled' AND o.deleted_at IS NULL
          AND o.ordered_at >= :start AND o.ordered_at < :end {scope}
    """), params).scalar() or 0

    delivered, average_lead_ms, with_date, on_time = db.session.execute(text(f"""
        SELECT COUNT(*), AVG(CAST(o.delivered_at - o.ordered_at AS FLOAT)),
               SUM(CASE WHEN o.requested_delivery_at IS NOT NULL THEN 1 ELSE 0 END),
               SUM(CASE WHEN o.delivered_at <= o.requested_delivery_at THEN 1 ELSE 0 END)
        FROM orders o
        WHERE o.status = 'delivered' AND o.deleted_at IS NULL AND o.delivered_at IS NOT NULL
          AND o.delivered_at >= :start AND o.delivered_at < :end {scope}
    """), params).one()

    return {
        "start_ms": start_ms,
        "end_ms": end_ms,
        "as_of": as_of,
        "backlog_orders": backlog_orders,
        "backlog_quantity": sum(b["quantity"] for b in buckets.values()),
        "backlog_value": round(sum(b["value"] for b in buckets.values()), 2),
        "age_buckets": list(buckets.values()),
        "orders_taken": int(orders_taken),
        "backlog_ratio": backlog_orders / orders_taken if orders_taken else None,
        "delivered_orders": int(delivered or 0),
        "average_lead_time_days": (average_lead_ms / DAY_MS
                                   if average_lead_ms is not None else None),
        "on_time_share": (int(on_time or 0) / int(with_date) if with_date else None),
    }
