-- Backlog dispatch priority (formulas in docs/scoring.md). Intermediate results go to indexed
-- temporary tables: joining large derived tables is where planners (SQLite's especially)
-- fall into nested loops; an index on each keeps it linear.
-- Binds: :now, :today, :day, :revenue_since, :feedback_since, :capacity, :segments, the
-- points (:p_*) and full marks (:age_full_days, :lateness_full_days, :feedback_full_count)
-- of backlog.py, and the orders rule (:counted_statuses).
DROP TABLE IF EXISTS backlog_stage_fills;
DROP TABLE IF EXISTS backlog_stage_orders;
DROP TABLE IF EXISTS backlog_stage_lines;

-- Open lines: pending quantity on orders that count.
CREATE TEMPORARY TABLE backlog_stage_lines AS
SELECT ol.id AS line_id, ol.order_id, ol.product_id,
       ol.quantity - ol.delivered_quantity AS pending, ol.unit_price
FROM order_lines ol JOIN orders o ON o.id = ol.order_id
WHERE o.status IN :counted_statuses AND o.deleted_at IS NULL AND ol.deleted_at IS NULL
  AND ol.quantity > ol.delivered_quantity;

CREATE INDEX ix_backlog_stage_lines_order ON backlog_stage_lines (order_id);

-- Open orders with everything but the fill: facts, ranks and points.
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
    WHERE o.status IN :counted_statuses AND o.deleted_at IS NULL AND ol.deleted_at IS NULL
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
           (CASE WHEN (CAST(:now - oo.ordered_at AS FLOAT) / :day) < 0 THEN 0.0
                 ELSE (CAST(:now - oo.ordered_at AS FLOAT) / :day) END) AS age_days,
           CASE WHEN oo.requested_delivery_at IS NOT NULL AND oo.requested_delivery_at < :now
                THEN CAST(:now - oo.requested_delivery_at AS FLOAT) / :day ELSE 0.0 END
               AS lateness_days,
           PERCENT_RANK() OVER (ORDER BY oo.pending_value) AS value_rank,
           PERCENT_RANK() OVER (ORDER BY COALESCE(rv.revenue, 0)) AS customer_rank
    FROM open_orders oo
    LEFT JOIN customers c ON c.id = oo.customer_id
    LEFT JOIN revenue rv ON rv.customer_id = oo.customer_id
    LEFT JOIN complaints cp ON cp.customer_id = oo.customer_id
),
points AS (
    SELECT facts.*,
           :p_age * (CASE WHEN (age_days / :age_full_days) > 1.0 THEN 1.0
                          ELSE (age_days / :age_full_days) END) AS age_points,
           :p_lateness * (CASE WHEN (lateness_days / :lateness_full_days) > 1.0 THEN 1.0
                               ELSE (lateness_days / :lateness_full_days) END)
               AS lateness_points,
           :p_value * value_rank AS value_points,
           :p_customer * customer_rank AS customer_points,
           CASE WHEN LOWER(COALESCE(segment, '')) IN :segments THEN :p_segment ELSE 0.0 END
               AS segment_points,
           :p_feedback * (CASE WHEN (negative_feedback_30d / :feedback_full_count) > 1.0 THEN 1.0
                               ELSE (negative_feedback_30d / :feedback_full_count) END)
               AS feedback_points
    FROM facts
)
SELECT points.*,
       age_points + lateness_points + value_points + customer_points + segment_points
           + feedback_points AS base_score
FROM points;

CREATE UNIQUE INDEX ix_backlog_stage_orders_order ON backlog_stage_orders (order_id);

-- Stock allocated to lines in priority order (a running sum per product), per order.
CREATE TEMPORARY TABLE backlog_stage_fills AS
SELECT order_id,
       SUM(CASE WHEN (CASE WHEN (left_before) < 0 THEN 0.0 ELSE (left_before) END) > pending
                THEN pending
                ELSE (CASE WHEN (left_before) < 0 THEN 0.0 ELSE (left_before) END) END)
           AS allocated_quantity,
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
GROUP BY order_id;

CREATE UNIQUE INDEX ix_backlog_stage_fills_order ON backlog_stage_fills (order_id);

-- The fill's points, the rank and the promised date. The reasons are not stored: the report
-- words them from these columns when it is read.
INSERT INTO backlog_priorities (
    order_id, rank, score, customer_id, rep_id, ordered_at, requested_delivery_at, age_days,
    lateness_days, pending_quantity, pending_value, allocated_quantity, fill, fill_share,
    wait_days, customer_revenue_90d, segment, negative_feedback_30d, age_points,
    lateness_points, fill_points, value_points, customer_points, segment_points,
    feedback_points, promised_dispatch_at, computed_at)
WITH scored AS (
    SELECT b.*, f.allocated_quantity, f.wait_days,
           CASE WHEN f.short_lines = 0 THEN 'full'
                WHEN f.allocated_quantity > 0 THEN 'partial' ELSE 'none' END AS fill,
           COALESCE((CAST(f.allocated_quantity AS FLOAT) / NULLIF(b.pending_quantity, 0)), 0.0)
               AS fill_share
    FROM backlog_stage_orders b JOIN backlog_stage_fills f ON f.order_id = b.order_id
),
totals AS (
    SELECT scored.*, :p_fill * fill_share AS fill_points,
           base_score + :p_fill * fill_share AS score
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
       CASE WHEN fill = 'full' THEN :today + (1 + (fill_rank - 1) / :capacity) * :day
            ELSE :today + CAST(1 + wait_days AS BIGINT) * :day END,
       :now
FROM ranked;

DROP TABLE backlog_stage_fills;
DROP TABLE backlog_stage_orders;
DROP TABLE backlog_stage_lines;
