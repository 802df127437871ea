"""Rep productivity per day and per week, in set-based SQL (formulas: docs/scoring.md).

Each run recomputes a window (the last `SCORING_PRODUCTIVITY_LOOKBACK_DAYS` days, and the
weeks they touch) by deleting its rows and inserting them again from one INSERT ... SELECT per
period kind, so late syncs are picked up and reruns give the same rows. Every rep gets a row
for every period, idle ones too (a score of 0 is information for a manager).
"""
from flask import current_app
from sqlalchemy import text

from fieldsales.common import DAY_MS, FIRST_MONDAY_MS, WEEK_MS
from fieldsales.extensions import db
from fieldsales.scoring.sql import (
    bucket, cap, day_start, floor_int, periods_cte, ratio, week_start,
)

# Norms a day's work is measured against (a week: times WORKDAYS_PER_WEEK). Override any of
# them with the app setting SCORING_NORMS = {"visits_per_day": 8, ...}.
NORMS = {
    "visits_per_day": 6,         # verified visits
    "orders_per_day": 2,
    "prospects_per_day": 2,      # hunters: prospects visited
    "conversions_per_day": 0.2,  # hunters: one new account a working week
    "task_minutes": 30,          # time credited per task done (tasks carry no duration)
    "workdays_per_week": 5,
}

# Component -> weight. A component that does not apply (NULL) gives its weight to the others.
WEIGHTS = {
    "c_visits": 20,
    "c_selling_share": 5,
    "c_task_completion": 10,
    "c_on_time": 5,
    "c_call_rate": 10,
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

# A rep's own targets (fieldsales/targets) for exactly this day or week: metric -> figure.
TARGET_METRICS = {
    "visits": "raw.visits",
    "verified_visits": "raw.verified_visits",
    "new_prospects_visited": "raw.prospects_visited",
    "orders": "raw.orders_taken",
    "order_value": "raw.order_value",
    "tasks_done": "raw.tasks_done",
}
TARGET_ACTUAL = ("CASE tg.metric "
                 + " ".join(f"WHEN '{m}' THEN {x}" for m, x in TARGET_METRICS.items())
                 + " ELSE NULL END")

RAW_COLUMNS = (
    "visits", "verified_visits", "unverified_visits", "time_on_site_s", "selling_time_s",
    "non_selling_time_s", "tasks_due", "tasks_done", "tasks_done_on_time", "planned_visits",
    "visits_with_order", "orders_taken", "order_value", "repeat_orders", "upsell_orders",
    "prospects_visited", "prospects_converted", "accounts_assigned", "accounts_visited",
    "pings", "flagged_pings", "travel_distance_m",
)
RATE_COLUMNS = ("task_completion_rate", "on_time_rate", "call_rate", "strike_rate",
                "selling_share", "account_coverage", "target_attainment")


def run(*, now: int) -> int:
    """Recompute the window's day and week rows and their suspects; returns rows written."""
    lookback = current_app.config["SCORING_PRODUCTIVITY_LOOKBACK_DAYS"]
    first_day = day_start(now) - (max(lookback, 1) - 1) * DAY_MS
    day_end = day_start(now) + DAY_MS
    first_week = week_start(first_day)
    week_end = week_start(now) + WEEK_MS
    norms = {**NORMS, **current_app.config["SCORING_NORMS"]}

    written = 0
    db.session.execute(text("DELETE FROM rep_scores WHERE period = 'day' AND period_start >= :a "
                            "AND period_start < :b"), {"a": first_day, "b": day_end})
    db.session.execute(text("DELETE FROM rep_scores WHERE period = 'week' AND period_start >= :a "
                            "AND period_start < :b"), {"a": first_week, "b": week_end})
    written += score_periods(period="day", first=first_day, end=day_end, now=now, norms=norms)
    written += score_periods(period="week", first=first_week, end=week_end, now=now, norms=norms)
    written += list_suspects(start=first_week, end=week_end)
    return written


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
    result = db.session.execute(text(_score_sql()), params)
    return max(result.rowcount or 0, 0)


def list_suspects(*, start: int, end: int) -> int:
    """Unverified visits and flagged pings in [start, end), one row each, replacing the old."""
    dialect = db.engine.dialect.name
    db.session.execute(text("DELETE FROM scoring_suspects WHERE occurred_at >= :a "
                            "AND occurred_at < :b"), {"a": start, "b": end})
    metres = f"CAST({floor_int('vi.distance_m', dialect)} AS VARCHAR(20))"
    result = db.session.execute(text(f"""
        INSERT INTO scoring_suspects (rep_id, kind, record_id, occurred_at, detail)
        SELECT vi.rep_id, 'unverified_visit', vi.id, vi.check_in_at,
               CASE WHEN vi.distance_m IS NULL THEN 'Check-in position could not be verified.'
                    ELSE 'Check-in ' || {metres} || ' m from the customer.' END
        FROM visits vi
        WHERE NOT vi.verified AND vi.deleted_at IS NULL
          AND vi.check_in_at >= :a AND vi.check_in_at < :b
        UNION ALL
        SELECT lp.rep_id, 'flagged_ping', lp.id, lp.recorded_at,
               'Ping flagged: ' || COALESCE(lp.flags, '') || '.'
        FROM location_pings lp
        WHERE lp.flagged AND lp.recorded_at >= :a AND lp.recorded_at < :b
    """), {"a": start, "b": end})
    return max(result.rowcount or 0, 0)


# What each aggregate CTE adds up, per (rep_id, p). They are stacked with UNION ALL under the
# grid of every rep and period and summed in one GROUP BY: no join of derived tables, so the
# cost stays one sort of the aggregated rows on both databases.
SOURCES = {
    "v": ("visits", "verified_visits", "time_on_site_s", "visits_with_order"),
    "t": ("tasks_due", "tasks_done", "tasks_done_on_time", "planned_visits"),
    "tt": ("selling_tasks", "admin_tasks"),
    "o": ("orders_taken", "order_value", "repeat_orders", "upsell_orders",
          "prospects_converted"),
    "pg": ("pings", "flagged_pings", "travel_distance_m"),
    "pv": ("prospects_visited",),
    "cv": ("accounts_visited",),
}


def _stacked_raw() -> str:
    figures = [c for columns in SOURCES.values() for c in columns]
    grid = ("SELECT r.rep_id, per.period_start AS p, 1 AS is_grid, r.style, r.cadence, "
            "COALESCE(ac.accounts_assigned, 0) AS accounts_assigned, "
            + ", ".join(f"0 AS {c}" for c in figures)
            + " FROM reps r LEFT JOIN ac ON ac.rep_id = r.rep_id CROSS JOIN periods per")
    branches = [grid] + [
        f"SELECT rep_id, p, 0, NULL, NULL, 0, "
        + ", ".join(c if c in columns else "0" for c in figures) + f" FROM {name}"
        for name, columns in SOURCES.items()]
    union = "\n    UNION ALL ".join(branches)
    return f"""stacked AS (
    {union}
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
),"""


def _score_sql() -> str:
    components = {
        "c_visits": cap(ratio("verified_visits", ":t_visits * :f")),
        "c_selling_share": "selling_share",
        "c_task_completion": "task_completion_rate",
        "c_on_time": "on_time_rate",
        "c_call_rate": cap("call_rate"),
        "c_strike_rate": "strike_rate",
        "c_orders": cap(ratio("orders_taken", ":t_orders * :f")),
        "c_prospects": "CASE WHEN style = 'hunter' THEN "
                       f"{cap(ratio('prospects_visited', ':t_prospects * :f'))} END",
        "c_conversions": "CASE WHEN style = 'hunter' THEN "
                         f"{cap(ratio('prospects_converted', ':t_conv * :f'))} END",
        # Coverage against what the cadence expects in the period (1/14 of accounts a day).
        "c_coverage": "CASE WHEN style = 'farmer' AND accounts_assigned > 0 THEN "
                      f"{cap(ratio('account_coverage', cap(ratio(':days', 'cadence'))))} END",
        # Repeat orders against the orders norm; an upsell counts twice.
        "c_repeat": "CASE WHEN style = 'farmer' THEN "
                    f"{cap(ratio('repeat_orders + upsell_orders', ':t_orders * :f'))} END",
    }
    assert set(components) | {"c_target"} == set(WEIGHTS)
    weighted = " + ".join(f"COALESCE({w} * {name}, 0)" for name, w in WEIGHTS.items())
    applicable = " + ".join(f"CASE WHEN {name} IS NULL THEN 0 ELSE {w} END"
                            for name, w in WEIGHTS.items())
    base = f"COALESCE(100.0 * ({weighted}) / NULLIF({applicable}, 0), 0.0)"
    penalty = (f"({PENALTY_UNVERIFIED_SHARE} * COALESCE({ratio('unverified_visits', 'visits')}, 0)"
               f" + {PENALTY_FLAGGED_SHARE} * COALESCE({ratio('flagged_pings', 'pings')}, 0))")
    out_columns = ("rep_id", "period", "period_start", "selling_style", *RAW_COLUMNS,
                   *RATE_COLUMNS, *WEIGHTS, "base_score", "suspect_penalty", "score",
                   "computed_at")
    select_columns = ("rep_id", ":period", "period_start", "style", *RAW_COLUMNS,
                      *RATE_COLUMNS, *WEIGHTS, "base_score", "suspect_penalty",
                      "CASE WHEN base_score - suspect_penalty < 0 THEN 0.0 "
                      "ELSE base_score - suspect_penalty END", ":now")
    b = bucket
    return f"""
INSERT INTO rep_scores ({", ".join(out_columns)})
WITH RECURSIVE {periods_cte()},
reps AS (
    SELECT u.id AS rep_id, COALESCE(u.selling_style, 'farmer') AS style,
           COALESCE(tm.visit_cadence_days, 14) AS cadence
    FROM users u LEFT JOIN teams tm ON tm.id = u.team_id
    WHERE u.role = 'rep' AND (u.deleted_at IS NULL OR u.deleted_at >= :ws)
),
v AS (
    SELECT vi.rep_id, {b('vi.check_in_at')} AS p, COUNT(*) AS visits,
           SUM(CASE WHEN vi.verified THEN 1 ELSE 0 END) AS verified_visits,
           SUM(CASE WHEN vi.verified THEN COALESCE(vi.time_on_site_s, 0) ELSE 0 END)
               AS time_on_site_s,
           SUM(CASE WHEN vo.visit_id IS NOT NULL OR vi.outcome = 'order' THEN 1 ELSE 0 END)
               AS visits_with_order
    FROM visits vi
    LEFT JOIN (SELECT DISTINCT visit_id FROM orders
               WHERE visit_id IS NOT NULL AND status <> 'cancelled' AND deleted_at IS NULL
                 AND ordered_at >= :ws) vo ON vo.visit_id = vi.id
    WHERE vi.deleted_at IS NULL AND vi.check_in_at >= :ws AND vi.check_in_at < :we
    GROUP BY 1, 2
),
t AS (
    SELECT assigned_rep_id AS rep_id, {b('COALESCE(due_at, completed_at)')} AS p,
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
    SELECT assigned_rep_id AS rep_id, {b('completed_at')} AS p,
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
        WHERE od.status <> 'cancelled' AND od.deleted_at IS NULL AND od.ordered_at < :we
          AND od.customer_id IN (SELECT customer_id FROM orders
                                 WHERE ordered_at >= :ws AND ordered_at < :we)
        GROUP BY od.id, od.rep_id, od.customer_id, od.ordered_at
    ) ox
),
o AS (
    SELECT rep_id, {b('ordered_at')} AS p, COUNT(*) AS orders_taken, SUM(value) AS order_value,
           SUM(CASE WHEN nth > 1 THEN 1 ELSE 0 END) AS repeat_orders,
           SUM(CASE WHEN nth > 1 AND value > earlier_avg THEN 1 ELSE 0 END) AS upsell_orders,
           SUM(CASE WHEN nth = 1 THEN 1 ELSE 0 END) AS prospects_converted
    FROM ov WHERE ordered_at >= :ws
    GROUP BY 1, 2
),
pg AS (
    SELECT rep_id, {b('recorded_at')} AS p, COUNT(*) AS pings,
           SUM(CASE WHEN flagged THEN 1 ELSE 0 END) AS flagged_pings,
           SUM(CASE WHEN flagged THEN 0 ELSE COALESCE(distance_from_previous_m, 0) END)
               AS travel_distance_m
    FROM location_pings
    WHERE recorded_at >= :ws AND recorded_at < :we
    GROUP BY 1, 2
),
vv AS (
    SELECT rep_id, customer_id, {b('check_in_at')} AS p
    FROM visits
    WHERE verified AND deleted_at IS NULL AND check_in_at >= :ws AND check_in_at < :we
),
first_orders AS (
    SELECT customer_id, MIN(ordered_at) AS first_at
    FROM orders
    WHERE status <> 'cancelled' AND deleted_at IS NULL
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
ac AS (
    SELECT assigned_rep_id AS rep_id, COUNT(*) AS accounts_assigned
    FROM customers
    WHERE kind = 'account' AND deleted_at IS NULL AND merged_into_id IS NULL
      AND assigned_rep_id IS NOT NULL
    GROUP BY assigned_rep_id
),
{_stacked_raw()}
tg AS (
    SELECT rep_id, period_start, metric, goal
    FROM targets
    WHERE rep_id IS NOT NULL AND period = :period AND goal > 0
      AND period_start >= :ws AND period_start < :we
),
att AS (
    SELECT raw.rep_id, raw.period_start,
           AVG(CAST({TARGET_ACTUAL} AS FLOAT) / tg.goal) AS target_attainment,
           AVG({cap(f"CAST({TARGET_ACTUAL} AS FLOAT) / tg.goal")}) AS c_target
    FROM raw JOIN tg ON tg.rep_id = raw.rep_id AND tg.period_start = raw.period_start
    GROUP BY raw.rep_id, raw.period_start
),
rates AS (
    SELECT raw.*,
           {ratio('tasks_done', 'tasks_due')} AS task_completion_rate,
           {ratio('tasks_done_on_time', 'tasks_due')} AS on_time_rate,
           {ratio('verified_visits', 'planned_visits')} AS call_rate,
           {ratio('visits_with_order', 'visits')} AS strike_rate,
           {ratio('selling_time_s', 'selling_time_s + non_selling_time_s')} AS selling_share,
           {ratio('accounts_visited', 'accounts_assigned')} AS account_coverage,
           att.target_attainment, att.c_target
    FROM raw
    LEFT JOIN att ON att.rep_id = raw.rep_id AND att.period_start = raw.period_start
),
comp AS (
    SELECT rates.*, {", ".join(f"{expr} AS {name}" for name, expr in components.items())}
    FROM rates
),
scored AS (
    SELECT comp.*, {base} AS base_score, {penalty} AS suspect_penalty
    FROM comp
)
SELECT {", ".join(select_columns)}
FROM scored
"""
