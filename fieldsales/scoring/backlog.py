"""Backlog dispatch priority and promised dispatch dates.

An order is backlog while any of its lines has pending quantity (ordered - delivered) and it
counts (fieldsales/orders/rules.py). The job scores every such order (queries/backlog_rank.sql,
formulas in docs/scoring.md), allocates stock to their lines in priority order with a running
sum per product, ranks them, and writes each order's promised dispatch date back to `orders`
where it changed, so phones pull it. It stores the components; the report words the reasons.
"""
from flask import current_app
from sqlalchemy import text

from fieldsales.changes.clock import take_stamp
from fieldsales.common import DAY_MS
from fieldsales.database import rowcount
from fieldsales.extensions import db
from fieldsales.orders import rules as order_rules
from fieldsales.scoring import sql

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


def run(*, now: int) -> int:
    """Replace the priority rows, then write changed promised dates to orders."""
    db.session.execute(text("DELETE FROM backlog_priorities"))
    written = rank_backlog(now=now)
    return written + promise_dispatch()


def rank_backlog(*, now: int) -> int:
    capacity = current_app.config["SCORING_DISPATCH_CAPACITY_PER_DAY"]
    segments = [s.lower() for s in current_app.config["SCORING_KEY_SEGMENTS"]]
    today = now // DAY_MS * DAY_MS
    params = {
        "now": now, "day": DAY_MS, "today": today,
        "revenue_since": now - REVENUE_DAYS * DAY_MS,
        "feedback_since": now - FEEDBACK_DAYS * DAY_MS,
        "capacity": capacity if capacity > 0 else 1_000_000_000, "segments": segments or [""],
        # Full marks as floats: the SQL divides by them.
        "age_full_days": float(AGE_FULL_DAYS), "lateness_full_days": float(LATENESS_FULL_DAYS),
        "feedback_full_count": float(FEEDBACK_FULL_COUNT),
        **{f"p_{name}": points for name, points in POINTS.items()},
        "p_segment": float(POINTS["segment"]),
        **order_rules.sql_params(),
    }
    return sql.execute(db.session, "backlog_rank", params)


# An order whose promised date differs from its rank's.
_PROMISE_DIFFERS = text("""
    SELECT COUNT(*) FROM orders
    WHERE EXISTS (SELECT 1 FROM backlog_priorities bp WHERE bp.order_id = orders.id
                  AND (orders.promised_dispatch_at IS NULL
                       OR orders.promised_dispatch_at <> bp.promised_dispatch_at))
""")
_PROMISE = text("""
    UPDATE orders
    SET promised_dispatch_at = (SELECT bp.promised_dispatch_at FROM backlog_priorities bp
                                WHERE bp.order_id = orders.id),
        changed_seq = :stamp
    WHERE EXISTS (SELECT 1 FROM backlog_priorities bp WHERE bp.order_id = orders.id
                  AND (orders.promised_dispatch_at IS NULL
                       OR orders.promised_dispatch_at <> bp.promised_dispatch_at))
""")


def promise_dispatch() -> int:
    """Copy each ranked order's promised date to `orders` where it differs, stamped for sync.

    ORM-free: one UPDATE. The stamp is taken here, at the end of the job, because taking it
    locks the sync clock until the job commits.
    """
    if not db.session.execute(_PROMISE_DIFFERS).scalar():
        return 0
    stamp = take_stamp(db.session)
    result = db.session.execute(_PROMISE, {"stamp": stamp})
    return max(rowcount(result) or 0, 0)
