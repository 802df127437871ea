"""Backlog dispatch priority and promised dispatch dates.

An order is backlog while any of its lines has pending quantity (ordered - delivered) and it
counts (fieldsales/orders/rules.py). The job scores every such order (queries/backlog_rank.sql,
formulas in docs/scoring.md), allocates stock to their lines in priority order with a running
sum per product, ranks them, and writes each order's promised dispatch date back to `orders`
where it changed, so phones pull it. It stores the components; the report words the reasons.
"""
from flask import current_app
from sqlalchemy import func, select, text

from fieldsales.changes.clock import take_stamp
from fieldsales.common import DAY_MS
from fieldsales.database import rowcount
from fieldsales.events.service import emit
from fieldsales.extensions import db
from fieldsales.orders import rules as order_rules
from fieldsales.scoring import sql
from fieldsales.scoring.models import BacklogPriority
from fieldsales.users.models import User

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
    top_before = top_orders()
    db.session.execute(text("DELETE FROM backlog_priorities"))
    written = rank_backlog(now=now)
    emit_top_changes(before=top_before, after=top_orders(), now=now)
    return written + promise_dispatch()


def top_orders() -> dict[str | None, list[str]]:
    """Each team's top `EVENTS_BACKLOG_TOP_N` orders, first first (one query, a window per
    team; what is held is teams x N ids)."""
    n = current_app.config["EVENTS_BACKLOG_TOP_N"]
    if n <= 0:
        return {}
    b = BacklogPriority
    ranked = select(User.team_id.label("team_id"), b.order_id, b.rank,
                    func.row_number().over(partition_by=User.team_id,
                                           order_by=(b.rank, b.order_id)).label("place")) \
        .join(User, User.id == b.rep_id).subquery()
    top: dict[str | None, list[str]] = {}
    for team_id, order_id in db.session.execute(
            select(ranked.c.team_id, ranked.c.order_id).where(ranked.c.place <= n)
            .order_by(ranked.c.team_id, ranked.c.place)):
        top.setdefault(team_id, []).append(order_id)
    return top


def emit_top_changes(*, before: dict, after: dict, now: int) -> None:
    """`backlog.priority_changed` for each team whose top N (the orders, in order) differs
    from the previous run's."""
    for team_id in sorted(set(before) | set(after), key=lambda t: t or ""):
        if before.get(team_id, []) != after.get(team_id, []):
            emit(type="backlog.priority_changed", team_id=team_id, subject_id=team_id or "",
                 payload={"team_id": team_id, "before": before.get(team_id, []),
                          "after": after.get(team_id, [])}, occurred_at=now)


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
