-- Weekly demand per product with Holt's linear trend (docs/scoring.md), for the :weeks
-- complete weeks from :ws (:step apart, up to :we). Smoothing starts at a product's first week
-- with orders; every product's series advances one week per step of the recursive `holt`.
INSERT INTO product_demand (
    product_id, week_start, ordered_quantity, feedback_requested_quantity, level, trend,
    forecast, is_latest, stock_on_hand, backlog_quantity, lead_time_days, days_of_cover,
    reorder_suggestion, rising_demand, stock_short_of_backlog, computed_at)
WITH RECURSIVE
weeks(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM weeks WHERE i + 1 < :weeks),
ordered AS (
    SELECT ol.product_id, (o.ordered_at - :ws) / :step AS i, SUM(ol.quantity) AS quantity
    FROM order_lines ol JOIN orders o ON o.id = ol.order_id
    WHERE o.status IN :counted_statuses AND o.deleted_at IS NULL AND ol.deleted_at IS NULL
      AND o.ordered_at >= :ws AND o.ordered_at < :we
    GROUP BY ol.product_id, (o.ordered_at - :ws) / :step
),
requested AS (
    SELECT product_id, (recorded_at - :ws) / :step AS i, SUM(requested_quantity) AS quantity
    FROM feedback
    WHERE product_id IS NOT NULL AND requested_quantity IS NOT NULL AND deleted_at IS NULL
      AND recorded_at >= :ws AND recorded_at < :we
    GROUP BY product_id, (recorded_at - :ws) / :step
),
backlog AS (
    SELECT ol.product_id, SUM(ol.quantity - ol.delivered_quantity) AS quantity
    FROM order_lines ol JOIN orders o ON o.id = ol.order_id
    WHERE o.status IN :counted_statuses AND o.deleted_at IS NULL AND ol.deleted_at IS NULL
      AND ol.quantity > ol.delivered_quantity
    GROUP BY ol.product_id
),
series AS (
    SELECT p.id AS product_id, w.i, CAST(COALESCE(od.quantity, 0) AS FLOAT) AS quantity
    FROM products p CROSS JOIN weeks w
    LEFT JOIN ordered od ON od.product_id = p.id AND od.i = w.i
    WHERE p.deleted_at IS NULL
),
first_weeks AS (SELECT product_id, MIN(i) AS i FROM ordered GROUP BY product_id),
holt(product_id, i, level, trend) AS (
    SELECT s.product_id, s.i, s.quantity, CAST(0 AS FLOAT)
    FROM series s JOIN first_weeks f ON f.product_id = s.product_id AND f.i = s.i
    UNION ALL
    SELECT h.product_id, s.i, :alpha * s.quantity + (1 - :alpha) * (h.level + h.trend),
           :beta * (:alpha * s.quantity + (1 - :alpha) * (h.level + h.trend) - h.level)
               + (1 - :beta) * h.trend
    FROM holt h JOIN series s ON s.product_id = h.product_id AND s.i = h.i + 1
),
rows AS (
    SELECT s.product_id, s.i, s.quantity, COALESCE(rq.quantity, 0) AS requested,
           COALESCE(h.level, 0) AS level, COALESCE(h.trend, 0) AS trend,
           (CASE WHEN (COALESCE(h.level + h.trend, 0)) < 0 THEN 0.0
                 ELSE (COALESCE(h.level + h.trend, 0)) END) AS forecast,
           s.i = :weeks - 1 AS is_latest,
           CAST(COALESCE(p.stock_on_hand, 0) AS FLOAT) AS stock,
           CAST(COALESCE(b.quantity, 0) AS FLOAT) AS backlog,
           COALESCE(p.lead_time_days, 0) AS lead_time_days
    FROM series s JOIN products p ON p.id = s.product_id
    LEFT JOIN holt h ON h.product_id = s.product_id AND h.i = s.i
    LEFT JOIN requested rq ON rq.product_id = s.product_id AND rq.i = s.i
    LEFT JOIN backlog b ON b.product_id = s.product_id
)
SELECT product_id, :ws + CAST(i AS BIGINT) * :step, quantity, requested, level, trend,
       forecast, is_latest,
       CASE WHEN is_latest THEN stock END,
       CASE WHEN is_latest THEN backlog END,
       CASE WHEN is_latest THEN lead_time_days END,
       CASE WHEN is_latest AND forecast > 0 THEN stock / (forecast / 7) END,
       CASE WHEN is_latest THEN (CASE WHEN (forecast / 7 * lead_time_days + backlog - stock) < 0
                                      THEN 0.0
                                      ELSE (forecast / 7 * lead_time_days + backlog - stock) END)
       END,
       is_latest AND trend > 0 AND level > 0 AND trend >= :rising_share * level,
       is_latest AND stock < backlog,
       :now
FROM rows
