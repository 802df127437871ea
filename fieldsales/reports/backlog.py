"""The backlog as procurement works it: open orders in dispatch-priority order.

Which orders: those that count with a line still pending (fieldsales/orders/rules.py), read
live, so an order delivered since the backlog job last ran is gone at once. Their rank and
score come from the backlog job (fieldsales/scoring/backlog.py, docs/scoring.md), and their
reasons are worded here from the components it stored (`reasons`); an order taken since its
last run has no rank yet and sorts last. The promised dispatch date is the
order's, as phones show it.

Stock availability per line: the stock on hand of each product is handed out to the pending
lines in dispatch-priority order (a running sum per product over every open line, in SQL), so
each line shows what stock can fill now: full, partial or none.

The summary is the health figures (`backlog_health`, live from the orders) for a period and
for the period of the same length just before it, with the change between them.
"""
import math
from typing import Any

from sqlalchemy import BigInteger, Float, case, cast, exists, func, literal, select

from fieldsales.common import DAY_MS, now_ms
from fieldsales.customers.models import Customer
from fieldsales.extensions import db
from fieldsales.listing import NO_DATE, Listing
from fieldsales.orders import rules as order_rules
from fieldsales.orders.models import Delivery, DeliveryLine, Order, OrderLine
from fieldsales.orders.rules import PENDING_QUANTITY as PENDING
from fieldsales.products.models import Product
from fieldsales.reports.backlog_schemas import BacklogOrderSchema
from fieldsales.reports.ranges import date_range
from fieldsales.scoring.backlog import POINTS
from fieldsales.scoring.models import BacklogPriority
from fieldsales.users import scope
from fieldsales.users.models import User

UNRANKED = 2_000_000_000
# Percent rank from which an order's value or its customer's revenue is worth a reason.
TOP_RANK = 0.8
AGE_BUCKETS = (("0-7", 7), ("8-30", 30), ("31-90", 90), ("90+", None))


def _open_lines():
    return order_rules.pending_line(), order_rules.counted()


def open_orders_query():
    """Every open order with its live pending figures and its last computed priority."""
    pending = (select(OrderLine.order_id.label("order_id"),
                      func.sum(PENDING).label("pending_quantity"),
                      func.sum(PENDING * OrderLine.unit_price).label("pending_value"),
                      func.count(OrderLine.id).label("open_lines"))
               .join(Order, Order.id == OrderLine.order_id)
               .where(*_open_lines())
               .group_by(OrderLine.order_id).subquery("pending"))
    query = (select(Order.id.label("id"), Order.status, Order.customer_id,
                    Customer.name.label("customer_name"), Order.rep_id,
                    User.name.label("rep_name"), Order.ordered_at, Order.requested_delivery_at,
                    Order.promised_dispatch_at, pending.c.pending_quantity,
                    pending.c.pending_value, pending.c.open_lines, BacklogPriority.rank,
                    BacklogPriority.score, BacklogPriority.fill,
                    BacklogPriority.computed_at.label("ranked_at"), *_REASON_FACTS)
             .join(pending, pending.c.order_id == Order.id)
             .join(Customer, Customer.id == Order.customer_id)
             .join(User, User.id == Order.rep_id)
             .outerjoin(BacklogPriority, BacklogPriority.order_id == Order.id))
    sorts = {
        "rank": func.coalesce(BacklogPriority.rank, UNRANKED),
        "ordered_at": Order.ordered_at,
        "requested_delivery_at": func.coalesce(Order.requested_delivery_at, NO_DATE),
        "promised_dispatch_at": func.coalesce(Order.promised_dispatch_at, NO_DATE),
        "pending_value": cast(pending.c.pending_value, Float),
    }
    return query, sorts


def respond(*, viewer: User, args: dict, order_id: str | None = None):
    """The backlog the viewer may see (GET /backlog and the console's Backlog): a page of
    `args`, or every matching order as CSV; `order_id` narrows it to that one order.

    Admins and procurement see every order, managers their team's, reps their own.
    """
    now = now_ms()
    query, sorts = open_orders_query()
    query = query.where(scope.rep_clause(viewer=viewer, rep_column=Order.rep_id))
    if order_id is not None:
        query = query.where(Order.id == order_id)
    listing = Listing(name="backlog", item_schema=BacklogOrderSchema, sorts=sorts,
                      id_key=Order.id, filters=filters(now))
    return listing.respond(args=args, query=query, decorate=LineStock(now))


def health(*, viewer: User, args: dict) -> dict:
    """The summary of the orders the viewer may cover (GET /backlog/summary, the console):
    managers their team's (or one of its reps), reps their own, the others all or
    `team_id` / `rep_id`; over the period of `args` (default the last 30 days)."""
    team_id, rep_id = scope.orders_owner(viewer=viewer, team_id=args.get("team_id"),
                                         rep_id=args.get("rep_id"))
    start, end = date_range(args)
    return summary(start=start, end=end, team_id=team_id, rep_id=rep_id)


def filters(now: int) -> dict:
    return {
        "customer_id": lambda v: Order.customer_id == v,
        "rep_id": lambda v: Order.rep_id == v,
        "product_id": lambda v: exists().where(OrderLine.order_id == Order.id,
                                               OrderLine.product_id == v,
                                               order_rules.pending_line()),
        "min_age_days": lambda v: Order.ordered_at <= now - v * DAY_MS,
        "late_only": lambda v: (Order.requested_delivery_at < now) if v
        else ((Order.requested_delivery_at.is_(None)) | (Order.requested_delivery_at >= now)),
    }


# What the job stored that the reasons are worded from (as of its run, `computed_at`).
REASON_FACTS = ("computed_at", "requested_delivery_at", "ordered_at", "lateness_days", "fill",
                "fill_share", "wait_days", "value_points", "customer_points", "segment_points",
                "segment", "negative_feedback_30d")
_REASON_FACTS = tuple(getattr(BacklogPriority, name).label(f"r_{name}") for name in REASON_FACTS)
_REASON_NAMES = tuple(f"r_{name}" for name in REASON_FACTS)


def _days(count: int) -> str:
    return "1 day" if count == 1 else f"{count} days"


def reasons(*, computed_at: int, requested_delivery_at: int | None, ordered_at: int,
            lateness_days: float, fill: str, fill_share: float, wait_days: int | None,
            value_points: float, customer_points: float, segment_points: float,
            segment: str | None, negative_feedback_30d: int) -> list[str]:
    """The rank's reasons, one short sentence each, worded from what the job stored.

    Whole days are counted at the job's run (`computed_at`), as the job saw them.
    """
    late_days = ((computed_at - requested_delivery_at) // DAY_MS
                 if requested_delivery_at is not None and requested_delivery_at < computed_at
                 else 0)
    age_days = (computed_at - ordered_at) // DAY_MS if ordered_at < computed_at else 0
    sentences = []
    if late_days >= 1:
        sentences.append(f"Late: {_days(late_days)} past the requested delivery date.")
    elif lateness_days > 0:
        sentences.append("Due today: the requested delivery time has passed.")
    sentences.append(f"Ordered {_days(age_days)} ago.")
    if fill == "full":
        sentences.append("Stock on hand covers it in full.")
    elif wait_days is not None and fill == "partial":
        sentences.append(f"Stock covers {math.floor(fill_share * 100)}% now; the rest waits on "
                         f"stock (lead time {_days(wait_days)}).")
    elif wait_days is not None:
        sentences.append(f"Waiting on stock (lead time {_days(wait_days)}).")
    # A percent rank of TOP_RANK or more needs two orders at least (one alone ranks 0).
    if value_points >= TOP_RANK * POINTS["value"]:
        sentences.append("High value: among the top 20% of the backlog by value.")
    if customer_points >= TOP_RANK * POINTS["customer"]:
        sentences.append("Valuable customer: 90-day revenue among the top 20% of the backlog.")
    if segment_points > 0 and segment is not None:
        sentences.append(f"Key segment: {segment}.")
    if negative_feedback_30d == 1:
        sentences.append("The customer reported a delivery problem in the last 30 days.")
    elif negative_feedback_30d > 1:
        sentences.append(f"The customer reported {negative_feedback_30d} delivery problems in "
                         "the last 30 days.")
    # One reason a line, as a segment name with a line break always read.
    return [line for line in "\n".join(sentences).split("\n") if line]


class LineStock:
    """Adds each order's pending lines and what stock can fill of them now.

    One window query per set of products not seen yet; its lines are kept, so a CSV export
    walking the whole backlog page by page hands stock out once, not once per page.
    """

    def __init__(self, now: int | None = None):
        self.now = now_ms() if now is None else now
        self.lines: dict[str, list[dict]] = {}
        self.products: set[str] = set()

    def __call__(self, rows: list[dict]) -> list[dict]:
        order_ids = [row["id"] for row in rows]
        if order_ids:
            needed = set(db.session.scalars(select(OrderLine.product_id).distinct()
                                            .where(OrderLine.order_id.in_(order_ids))))
            missing = sorted(needed - self.products)
            for start in range(0, len(missing), 900):  # the window partitions by product
                self._allocate(missing[start:start + 900])
            self.products |= needed
        now, out = self.now, []
        for row in rows:
            requested = row["requested_delivery_at"]
            out.append({
                **{k: v for k, v in row.items() if k not in _REASON_NAMES},
                "reasons": ([] if row["ranked_at"] is None else reasons(
                    **{name: row[f"r_{name}"] for name in REASON_FACTS})),
                "pending_quantity": float(row["pending_quantity"]),
                "pending_value": round(float(row["pending_value"]), 2),
                "age_days": round(max(now - row["ordered_at"], 0) / DAY_MS, 2),
                "lateness_days": (round((now - requested) / DAY_MS, 2)
                                  if requested is not None and requested < now else 0.0),
                "lines": sorted(self.lines.get(row["id"], []),
                                key=lambda line: (line["sku"], line["line_id"])),
            })
        return out

    def _allocate(self, products: list[str]) -> None:
        """Running sum of pending quantity per product in dispatch-priority order."""
        priority = func.coalesce(BacklogPriority.rank, UNRANKED)
        before = func.sum(PENDING).over(
            partition_by=OrderLine.product_id,
            order_by=(priority, Order.ordered_at, Order.id, OrderLine.id),
            rows=(None, 0)) - PENDING
        ranked = (select(OrderLine.id.label("line_id"), OrderLine.order_id, OrderLine.product_id,
                         OrderLine.quantity, OrderLine.delivered_quantity, OrderLine.unit_price,
                         PENDING.label("pending"), Product.sku, Product.name,
                         Product.stock_on_hand, before.label("pending_before"))
                  .join(Order, Order.id == OrderLine.order_id)
                  .join(Product, Product.id == OrderLine.product_id)
                  .outerjoin(BacklogPriority, BacklogPriority.order_id == Order.id)
                  .where(*_open_lines(), OrderLine.product_id.in_(products))
                  .subquery("ranked"))
        left = func.coalesce(ranked.c.stock_on_hand, 0) - ranked.c.pending_before
        available = case((left <= 0, 0.0), (left >= ranked.c.pending, ranked.c.pending),
                         else_=left)
        for line in db.session.execute(select(ranked, available.label("available"))).mappings():
            pending, free = float(line["pending"]), float(line["available"])
            self.lines.setdefault(line["order_id"], []).append({
                "line_id": line["line_id"], "product_id": line["product_id"],
                "sku": line["sku"], "name": line["name"], "quantity": line["quantity"],
                "delivered_quantity": line["delivered_quantity"], "pending_quantity": pending,
                "unit_price": float(line["unit_price"]),
                "stock_on_hand": float(line["stock_on_hand"] or 0), "available_quantity": free,
                "availability": "full" if free >= pending else "partial" if free > 0 else "none",
            })


def summary(*, start: int, end: int, team_id: str | None, rep_id: str | None) -> dict:
    """Health figures of [start, end) and of the same length before, with the change."""
    now = now_ms()
    current = backlog_health(start_ms=start, end_ms=end, team_id=team_id, rep_id=rep_id, now=now)
    previous = backlog_health(start_ms=2 * start - end, end_ms=start, team_id=team_id,
                              rep_id=rep_id, now=now)
    trend = {}
    for name in ("backlog_orders", "backlog_quantity", "backlog_value", "orders_taken",
                 "backlog_ratio", "delivered_orders", "average_lead_time_days", "on_time_share"):
        now_value, before = current[name], previous[name]
        change = (None if now_value is None or before is None
                  else round(now_value - before, 4))
        trend[name] = {"current": now_value, "previous": before, "change": change,
                       "direction": (None if change is None else "up" if change > 0
                                     else "down" if change < 0 else "flat")}
    return {"current": current, "previous": previous, "trend": trend}


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
    scope = []
    if rep_id is not None:
        scope.append(Order.rep_id == rep_id)
    if team_id is not None:
        scope.append(Order.rep_id.in_(select(User.id).where(User.team_id == team_id)))

    shipped_since = (select(DeliveryLine.order_line_id,
                            func.sum(DeliveryLine.quantity).label("quantity"))
                     .join(Delivery, Delivery.id == DeliveryLine.delivery_id)
                     .where(Delivery.delivered_at >= as_of)
                     .group_by(DeliveryLine.order_line_id).cte("shipped_since"))
    pending_then = (select(OrderLine.order_id, OrderLine.unit_price,
                           (PENDING + func.coalesce(shipped_since.c.quantity, 0))
                           .label("quantity"))
                    .outerjoin(shipped_since, shipped_since.c.order_line_id == OrderLine.id)
                    .where(OrderLine.deleted_at.is_(None)).cte("pending_then"))
    per_order = (select(((literal(as_of, BigInteger) - Order.ordered_at) // DAY_MS).label("age"),
                        func.sum(pending_then.c.quantity).label("pending_quantity"),
                        func.sum(pending_then.c.quantity * pending_then.c.unit_price)
                        .label("pending_value"))
                 .join(pending_then, pending_then.c.order_id == Order.id)
                 .where(order_rules.counted(), pending_then.c.quantity > 0,
                        Order.ordered_at < as_of, *scope)
                 .group_by(Order.id, Order.ordered_at).subquery("per_order"))
    bucketed = select(case(*((per_order.c.age <= high, name) for name, high in AGE_BUCKETS
                             if high is not None), else_=AGE_BUCKETS[-1][0]).label("bucket"),
                      per_order.c.pending_quantity, per_order.c.pending_value
                      ).subquery("bucketed")
    rows = db.session.execute(
        select(bucketed.c.bucket, func.count(), func.sum(bucketed.c.pending_quantity),
               func.sum(bucketed.c.pending_value)).group_by(bucketed.c.bucket)).all()
    buckets: dict[str, dict[str, Any]] = {
        name: {"bucket": name, "orders": 0, "quantity": 0.0, "value": 0.0}
        for name, _high in AGE_BUCKETS}
    for name, orders, quantity, value in rows:
        buckets[name].update(orders=int(orders), quantity=float(quantity or 0),
                             value=round(float(value or 0), 2))
    backlog_orders = sum(b["orders"] for b in buckets.values())

    orders_taken = db.session.scalar(
        select(func.count()).select_from(Order)
        .where(order_rules.counted(), Order.ordered_at >= start_ms, Order.ordered_at < end_ms,
               *scope)) or 0

    delivered, average_lead_ms, with_date, on_time = db.session.execute(
        select(func.count(), func.avg(cast(Order.delivered_at - Order.ordered_at, Float)),
               func.sum(case((Order.requested_delivery_at.is_not(None), 1), else_=0)),
               func.sum(case((Order.delivered_at <= Order.requested_delivery_at, 1), else_=0)))
        .where(Order.status == order_rules.DELIVERED, Order.deleted_at.is_(None),
               Order.delivered_at.is_not(None), Order.delivered_at >= start_ms,
               Order.delivered_at < end_ms, *scope)).one()

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
