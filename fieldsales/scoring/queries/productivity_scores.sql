-- Rep productivity: every rep's row for every period in [:first, :end) (formulas in
-- docs/scoring.md). A period is a day or a week: p = ((t - :off) / :step) * :step + :off.
-- Binds: the period and its window (:period, :first, :end, :ws, :we, :off, :step, :days),
-- the norms (:f workdays, :t_visits, :t_orders, :t_prospects, :t_conv, :task_s), the weights
-- (:w_*) and penalties of productivity.py, and the orders rule (:counted_statuses).
-- Journey plans come from the temporary table plan_days (productivity.load_plan_days).
INSERT INTO rep_scores (
    rep_id, period, period_start, selling_style,
    visits, verified_visits, unverified_visits, time_on_site_s, selling_time_s,
    non_selling_time_s, tasks_due, tasks_done, tasks_done_on_time, planned_visits,
    plan_visits, plan_visits_done, plan_visits_in_order,
    visits_with_order, orders_taken, order_value, repeat_orders, upsell_orders,
    prospects_visited, prospects_converted, accounts_assigned, accounts_visited,
    pings, flagged_pings, travel_distance_m,
    task_completion_rate, on_time_rate, call_rate, plan_adherence, strike_rate, selling_share,
    account_coverage, target_attainment,
    c_visits, c_selling_share, c_task_completion, c_on_time, c_call_rate, c_plan_adherence,
    c_strike_rate, c_orders, c_target, c_prospects, c_conversions, c_coverage, c_repeat,
    base_score, suspect_penalty, score, computed_at)
WITH RECURSIVE
periods(period_start) AS (
    SELECT CAST(:first AS BIGINT)
    UNION ALL
    SELECT period_start + :step FROM periods WHERE period_start + :step < :end
),
reps AS (
    SELECT u.id AS rep_id, COALESCE(u.selling_style, 'farmer') AS style,
           COALESCE(tm.visit_cadence_days, 14) AS cadence
    FROM users u LEFT JOIN teams tm ON tm.id = u.team_id
    WHERE u.role = 'rep' AND (u.deleted_at IS NULL OR u.deleted_at >= :ws)
),
v AS (
    SELECT vi.rep_id, (((vi.check_in_at) - :off) / :step * :step + :off) AS p,
           COUNT(*) AS visits,
           SUM(CASE WHEN vi.verified THEN 1 ELSE 0 END) AS verified_visits,
           SUM(CASE WHEN vi.verified THEN COALESCE(vi.time_on_site_s, 0) ELSE 0 END)
               AS time_on_site_s,
           SUM(CASE WHEN vo.visit_id IS NOT NULL OR vi.outcome = 'order' THEN 1 ELSE 0 END)
               AS visits_with_order
    FROM visits vi
    LEFT JOIN (SELECT DISTINCT visit_id FROM orders
               WHERE visit_id IS NOT NULL AND status IN :counted_statuses AND deleted_at IS NULL
                 AND ordered_at >= :ws) vo ON vo.visit_id = vi.id
    WHERE vi.deleted_at IS NULL AND vi.check_in_at >= :ws AND vi.check_in_at < :we
    GROUP BY 1, 2
),
t AS (
    SELECT assigned_rep_id AS rep_id,
           (((COALESCE(due_at, completed_at)) - :off) / :step * :step + :off) AS p,
           COUNT(*) AS tasks_due,
           SUM(CASE WHEN status = 'done' THEN 1 ELSE 0 END) AS tasks_done,
           SUM(CASE WHEN status = 'done' AND (due_at IS NULL OR completed_at <= due_at)
                    THEN 1 ELSE 0 END) AS tasks_done_on_time,
           SUM(CASE WHEN category = 'selling' AND customer_id IS NOT NULL
                         AND due_at IS NOT NULL THEN 1 ELSE 0 END) AS planned_visits
    FROM tasks
    WHERE status <> 'cancelled' AND deleted_at IS NULL
      AND ((due_at >= :ws AND due_at < :we)
           OR (due_at IS NULL AND completed_at >= :ws AND completed_at < :we))
    GROUP BY 1, 2
),
tt AS (
    SELECT assigned_rep_id AS rep_id, (((completed_at) - :off) / :step * :step + :off) AS p,
           SUM(CASE WHEN category = 'selling' AND customer_id IS NULL THEN 1 ELSE 0 END)
               AS selling_tasks,
           SUM(CASE WHEN category = 'admin' THEN 1 ELSE 0 END) AS admin_tasks
    FROM tasks
    WHERE status = 'done' AND deleted_at IS NULL
      AND completed_at >= :ws AND completed_at < :we
    GROUP BY 1, 2
),
ov AS (
    SELECT ox.rep_id, ox.ordered_at, ox.value,
           ROW_NUMBER() OVER (PARTITION BY ox.customer_id ORDER BY ox.ordered_at, ox.id) AS nth,
           AVG(ox.value) OVER (PARTITION BY ox.customer_id ORDER BY ox.ordered_at, ox.id
                               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS earlier_avg
    FROM (
        SELECT od.id, od.rep_id, od.customer_id, od.ordered_at,
               COALESCE(SUM(ol.quantity * ol.unit_price), 0) AS value
        FROM orders od
        LEFT JOIN order_lines ol ON ol.order_id = od.id AND ol.deleted_at IS NULL
        WHERE od.status IN :counted_statuses AND od.deleted_at IS NULL AND od.ordered_at < :we
          AND od.customer_id IN (SELECT customer_id FROM orders
                                 WHERE ordered_at >= :ws AND ordered_at < :we)
        GROUP BY od.id, od.rep_id, od.customer_id, od.ordered_at
    ) ox
),
o AS (
    SELECT rep_id, (((ordered_at) - :off) / :step * :step + :off) AS p,
           COUNT(*) AS orders_taken, SUM(value) AS order_value,
           SUM(CASE WHEN nth > 1 THEN 1 ELSE 0 END) AS repeat_orders,
           SUM(CASE WHEN nth > 1 AND value > earlier_avg THEN 1 ELSE 0 END) AS upsell_orders,
           SUM(CASE WHEN nth = 1 THEN 1 ELSE 0 END) AS prospects_converted
    FROM ov WHERE ordered_at >= :ws
    GROUP BY 1, 2
),
pg AS (
    SELECT rep_id, (((recorded_at) - :off) / :step * :step + :off) AS p, COUNT(*) AS pings,
           SUM(CASE WHEN flagged THEN 1 ELSE 0 END) AS flagged_pings,
           SUM(CASE WHEN flagged THEN 0 ELSE COALESCE(distance_from_previous_m, 0) END)
               AS travel_distance_m
    FROM location_pings
    WHERE recorded_at >= :ws AND recorded_at < :we
    GROUP BY 1, 2
),
vv AS (
    SELECT rep_id, customer_id, (((check_in_at) - :off) / :step * :step + :off) AS p
    FROM visits
    WHERE verified AND deleted_at IS NULL AND check_in_at >= :ws AND check_in_at < :we
),
first_orders AS (
    SELECT customer_id, MIN(ordered_at) AS first_at
    FROM orders
    WHERE status IN :counted_statuses AND deleted_at IS NULL
      AND customer_id IN (SELECT customer_id FROM vv)
    GROUP BY customer_id
),
pv AS (
    SELECT vv.rep_id, vv.p, COUNT(DISTINCT vv.customer_id) AS prospects_visited
    FROM vv LEFT JOIN first_orders fo ON fo.customer_id = vv.customer_id
    WHERE fo.first_at IS NULL OR fo.first_at >= vv.p
    GROUP BY vv.rep_id, vv.p
),
cv AS (
    SELECT vv.rep_id, vv.p, COUNT(DISTINCT vv.customer_id) AS accounts_visited
    FROM vv JOIN customers c ON c.id = vv.customer_id AND c.assigned_rep_id = vv.rep_id
    WHERE c.kind = 'account' AND c.deleted_at IS NULL
    GROUP BY vv.rep_id, vv.p
),
jp AS (
    SELECT rep_id, (((day_start) - :off) / :step * :step + :off) AS p,
           SUM(planned) AS plan_visits, SUM(done) AS plan_visits_done,
           SUM(in_order) AS plan_visits_in_order
    FROM plan_days
    WHERE day_start >= :ws AND day_start < :we
    GROUP BY 1, 2
),
ac AS (
    SELECT assigned_rep_id AS rep_id, COUNT(*) AS accounts_assigned
    FROM customers
    WHERE kind = 'account' AND deleted_at IS NULL AND merged_into_id IS NULL
      AND assigned_rep_id IS NOT NULL
    GROUP BY assigned_rep_id
),
-- The figures of every CTE above, stacked under the grid of every rep and period and summed
-- in one GROUP BY: no join of derived tables, one sort of the aggregated rows.
stacked AS (
    SELECT r.rep_id, per.period_start AS p, 1 AS is_grid, r.style, r.cadence,
           COALESCE(ac.accounts_assigned, 0) AS accounts_assigned,
           0 AS visits, 0 AS verified_visits, 0 AS time_on_site_s, 0 AS visits_with_order,
           0 AS tasks_due, 0 AS tasks_done, 0 AS tasks_done_on_time, 0 AS planned_visits,
           0 AS selling_tasks, 0 AS admin_tasks,
           0 AS orders_taken, 0 AS order_value, 0 AS repeat_orders, 0 AS upsell_orders,
           0 AS prospects_converted,
           0 AS pings, 0 AS flagged_pings, 0 AS travel_distance_m,
           0 AS prospects_visited, 0 AS accounts_visited
    FROM reps r LEFT JOIN ac ON ac.rep_id = r.rep_id CROSS JOIN periods per
    UNION ALL
    SELECT rep_id, p, 0, NULL, NULL, 0,
           visits, verified_visits, time_on_site_s, visits_with_order,
           0, 0, 0, 0,  0, 0,  0, 0, 0, 0, 0,  0, 0, 0,  0, 0
    FROM v
    UNION ALL
    SELECT rep_id, p, 0, NULL, NULL, 0,  0, 0, 0, 0,
           tasks_due, tasks_done, tasks_done_on_time, planned_visits,
           0, 0,  0, 0, 0, 0, 0,  0, 0, 0,  0, 0
    FROM t
    UNION ALL
    SELECT rep_id, p, 0, NULL, NULL, 0,  0, 0, 0, 0,  0, 0, 0, 0,
           selling_tasks, admin_tasks,
           0, 0, 0, 0, 0,  0, 0, 0,  0, 0
    FROM tt
    UNION ALL
    SELECT rep_id, p, 0, NULL, NULL, 0,  0, 0, 0, 0,  0, 0, 0, 0,  0, 0,
           orders_taken, order_value, repeat_orders, upsell_orders, prospects_converted,
           0, 0, 0,  0, 0
    FROM o
    UNION ALL
    SELECT rep_id, p, 0, NULL, NULL, 0,  0, 0, 0, 0,  0, 0, 0, 0,  0, 0,  0, 0, 0, 0, 0,
           pings, flagged_pings, travel_distance_m,
           0, 0
    FROM pg
    UNION ALL
    SELECT rep_id, p, 0, NULL, NULL, 0,  0, 0, 0, 0,  0, 0, 0, 0,  0, 0,  0, 0, 0, 0, 0,
           0, 0, 0,
           prospects_visited, 0
    FROM pv
    UNION ALL
    SELECT rep_id, p, 0, NULL, NULL, 0,  0, 0, 0, 0,  0, 0, 0, 0,  0, 0,  0, 0, 0, 0, 0,
           0, 0, 0,
           0, accounts_visited
    FROM cv
),
raw AS (
    SELECT rep_id, p AS period_start, MAX(style) AS style, MAX(cadence) AS cadence,
           SUM(visits) AS visits, SUM(verified_visits) AS verified_visits,
           SUM(visits) - SUM(verified_visits) AS unverified_visits,
           SUM(time_on_site_s) AS time_on_site_s,
           SUM(time_on_site_s) + :task_s * SUM(selling_tasks) AS selling_time_s,
           :task_s * SUM(admin_tasks) AS non_selling_time_s,
           SUM(tasks_due) AS tasks_due, SUM(tasks_done) AS tasks_done,
           SUM(tasks_done_on_time) AS tasks_done_on_time, SUM(planned_visits) AS planned_visits,
           SUM(visits_with_order) AS visits_with_order, SUM(orders_taken) AS orders_taken,
           SUM(order_value) AS order_value, SUM(repeat_orders) AS repeat_orders,
           SUM(upsell_orders) AS upsell_orders, SUM(prospects_visited) AS prospects_visited,
           SUM(prospects_converted) AS prospects_converted,
           MAX(accounts_assigned) AS accounts_assigned, SUM(accounts_visited) AS accounts_visited,
           SUM(pings) AS pings, SUM(flagged_pings) AS flagged_pings,
           SUM(travel_distance_m) AS travel_distance_m
    FROM stacked
    GROUP BY rep_id, p
    HAVING MAX(is_grid) = 1
),
-- The rep's own targets for exactly this period, each against its figure.
tg AS (
    SELECT rep_id, period_start, metric, goal
    FROM targets
    WHERE rep_id IS NOT NULL AND period = :period AND goal > 0
      AND period_start >= :ws AND period_start < :we
),
ta AS (
    SELECT raw.rep_id, raw.period_start,
           CAST(CASE tg.metric
                    WHEN 'visits' THEN raw.visits
                    WHEN 'verified_visits' THEN raw.verified_visits
                    WHEN 'new_prospects_visited' THEN raw.prospects_visited
                    WHEN 'orders' THEN raw.orders_taken
                    WHEN 'order_value' THEN raw.order_value
                    WHEN 'tasks_done' THEN raw.tasks_done
                    ELSE NULL END AS FLOAT) / tg.goal AS attained
    FROM raw JOIN tg ON tg.rep_id = raw.rep_id AND tg.period_start = raw.period_start
),
att AS (
    SELECT rep_id, period_start, AVG(attained) AS target_attainment,
           AVG(CASE WHEN attained > 1.0 THEN 1.0 ELSE attained END) AS c_target
    FROM ta
    GROUP BY rep_id, period_start
),
-- Call rate: with a journey plan in the period, its planned visits done / planned; without
-- one, verified visits / the selling tasks at customers that fell due (the plan before plans).
rates AS (
    SELECT raw.*,
           COALESCE(jp.plan_visits, 0) AS plan_visits,
           COALESCE(jp.plan_visits_done, 0) AS plan_visits_done,
           COALESCE(jp.plan_visits_in_order, 0) AS plan_visits_in_order,
           CAST(tasks_done AS FLOAT) / NULLIF(tasks_due, 0) AS task_completion_rate,
           CAST(tasks_done_on_time AS FLOAT) / NULLIF(tasks_due, 0) AS on_time_rate,
           CASE WHEN jp.plan_visits > 0
                THEN CAST(jp.plan_visits_done AS FLOAT) / jp.plan_visits
                ELSE CAST(verified_visits AS FLOAT) / NULLIF(planned_visits, 0) END AS call_rate,
           CAST(jp.plan_visits_in_order AS FLOAT) / NULLIF(jp.plan_visits, 0) AS plan_adherence,
           CAST(visits_with_order AS FLOAT) / NULLIF(visits, 0) AS strike_rate,
           CAST(selling_time_s AS FLOAT) / NULLIF(selling_time_s + non_selling_time_s, 0)
               AS selling_share,
           CAST(accounts_visited AS FLOAT) / NULLIF(accounts_assigned, 0) AS account_coverage,
           att.target_attainment, att.c_target
    FROM raw
    LEFT JOIN att ON att.rep_id = raw.rep_id AND att.period_start = raw.period_start
    LEFT JOIN jp ON jp.rep_id = raw.rep_id AND jp.p = raw.period_start
),
-- Components before the cap at 1 (NULL: does not apply to this rep).
shares AS (
    SELECT rates.*,
           CAST(verified_visits AS FLOAT) / NULLIF(:t_visits * :f, 0) AS visits_share,
           CAST(orders_taken AS FLOAT) / NULLIF(:t_orders * :f, 0) AS orders_share,
           CASE WHEN style = 'hunter'
                THEN CAST(prospects_visited AS FLOAT) / NULLIF(:t_prospects * :f, 0) END
               AS prospects_share,
           CASE WHEN style = 'hunter'
                THEN CAST(prospects_converted AS FLOAT) / NULLIF(:t_conv * :f, 0) END
               AS conversions_share,
           -- Coverage against what the cadence expects in the period (1/14 of accounts a day).
           CASE WHEN style = 'farmer' AND accounts_assigned > 0
                THEN CAST(account_coverage AS FLOAT) / NULLIF(
                    CASE WHEN CAST(:days AS FLOAT) / NULLIF(cadence, 0) > 1.0 THEN 1.0
                         ELSE CAST(:days AS FLOAT) / NULLIF(cadence, 0) END, 0) END
               AS coverage_share,
           -- Repeat orders against the orders norm; an upsell counts twice.
           CASE WHEN style = 'farmer'
                THEN CAST(repeat_orders + upsell_orders AS FLOAT) / NULLIF(:t_orders * :f, 0) END
               AS repeat_share
    FROM rates
),
comp AS (
    SELECT shares.*,
           CASE WHEN visits_share > 1.0 THEN 1.0 ELSE visits_share END AS c_visits,
           selling_share AS c_selling_share,
           task_completion_rate AS c_task_completion,
           on_time_rate AS c_on_time,
           CASE WHEN call_rate > 1.0 THEN 1.0 ELSE call_rate END AS c_call_rate,
           plan_adherence AS c_plan_adherence,
           strike_rate AS c_strike_rate,
           CASE WHEN orders_share > 1.0 THEN 1.0 ELSE orders_share END AS c_orders,
           CASE WHEN prospects_share > 1.0 THEN 1.0 ELSE prospects_share END AS c_prospects,
           CASE WHEN conversions_share > 1.0 THEN 1.0 ELSE conversions_share END
               AS c_conversions,
           CASE WHEN coverage_share > 1.0 THEN 1.0 ELSE coverage_share END AS c_coverage,
           CASE WHEN repeat_share > 1.0 THEN 1.0 ELSE repeat_share END AS c_repeat
    FROM shares
),
-- A component that does not apply (NULL) gives its weight to the others.
scored AS (
    SELECT comp.*,
           COALESCE(100.0 * (
               COALESCE(:w_visits * c_visits, 0) + COALESCE(:w_selling_share * c_selling_share, 0)
               + COALESCE(:w_task_completion * c_task_completion, 0)
               + COALESCE(:w_on_time * c_on_time, 0) + COALESCE(:w_call_rate * c_call_rate, 0)
               + COALESCE(:w_plan_adherence * c_plan_adherence, 0)
               + COALESCE(:w_strike_rate * c_strike_rate, 0) + COALESCE(:w_orders * c_orders, 0)
               + COALESCE(:w_target * c_target, 0) + COALESCE(:w_prospects * c_prospects, 0)
               + COALESCE(:w_conversions * c_conversions, 0)
               + COALESCE(:w_coverage * c_coverage, 0) + COALESCE(:w_repeat * c_repeat, 0)
           ) / NULLIF(
               CASE WHEN c_visits IS NULL THEN 0 ELSE :w_visits END
               + CASE WHEN c_selling_share IS NULL THEN 0 ELSE :w_selling_share END
               + CASE WHEN c_task_completion IS NULL THEN 0 ELSE :w_task_completion END
               + CASE WHEN c_on_time IS NULL THEN 0 ELSE :w_on_time END
               + CASE WHEN c_call_rate IS NULL THEN 0 ELSE :w_call_rate END
               + CASE WHEN c_plan_adherence IS NULL THEN 0 ELSE :w_plan_adherence END
               + CASE WHEN c_strike_rate IS NULL THEN 0 ELSE :w_strike_rate END
               + CASE WHEN c_orders IS NULL THEN 0 ELSE :w_orders END
               + CASE WHEN c_target IS NULL THEN 0 ELSE :w_target END
               + CASE WHEN c_prospects IS NULL THEN 0 ELSE :w_prospects END
               + CASE WHEN c_conversions IS NULL THEN 0 ELSE :w_conversions END
               + CASE WHEN c_coverage IS NULL THEN 0 ELSE :w_coverage END
               + CASE WHEN c_repeat IS NULL THEN 0 ELSE :w_repeat END, 0), 0.0) AS base_score,
           :penalty_unverified * COALESCE(CAST(unverified_visits AS FLOAT) / NULLIF(visits, 0), 0)
           + :penalty_flagged * COALESCE(CAST(flagged_pings AS FLOAT) / NULLIF(pings, 0), 0)
               AS suspect_penalty
    FROM comp
)
SELECT rep_id, :period, period_start, style,
       visits, verified_visits, unverified_visits, time_on_site_s, selling_time_s,
       non_selling_time_s, tasks_due, tasks_done, tasks_done_on_time, planned_visits,
       plan_visits, plan_visits_done, plan_visits_in_order,
       visits_with_order, orders_taken, order_value, repeat_orders, upsell_orders,
       prospects_visited, prospects_converted, accounts_assigned, accounts_visited,
       pings, flagged_pings, travel_distance_m,
       task_completion_rate, on_time_rate, call_rate, plan_adherence, strike_rate, selling_share,
       account_coverage, target_attainment,
       c_visits, c_selling_share, c_task_completion, c_on_time, c_call_rate, c_plan_adherence,
       c_strike_rate, c_orders, c_target, c_prospects, c_conversions, c_coverage, c_repeat,
       base_score, suspect_penalty,
       CASE WHEN base_score - suspect_penalty < 0 THEN 0.0 ELSE base_score - suspect_penalty END,
       :now
FROM scored
