"""The backlog as procurement works it: open orders in dispatch-priority order.

Which orders: those not cancelled with a line still pending (ordered - delivered), read live,
so an order delivered since the backlog job last ran is gone at once. Their rank, score and
reasons come from the backlog job (fieldsales/scoring/backlog.py, docs/scoring.md); an order
taken since its last run has no rank yet and sorts last. The promised dispatch date is the
order's, as phones show it.

Stock availability per line: the stock on hand of each product is handed out to the pending
lines in dispatch-priority order (a running sum per product over every open line, in SQL), so
each line shows what stock can fill now: full, partial or none.

The summary is the job's health figures (`backlog_health`) for a period and for the period of
the same length just before it, with the change between them.
"""
from sqlalchemy import Float, case, cast, exists, func, select

from fieldsales.common import DAY_MS, now_ms
from fieldsales.customers.models import Customer
from fieldsales.extensions import db
from fieldsales.listing import NO_DATE
from fieldsales.orders.models import Order, OrderLine
from fieldsales.products.models import Product
from fieldsales.scoring.backlog import backlog_health
from fieldsales.scoring.models import BacklogPriority
from fieldsales.users.models import User

UNRANKED = 2_000_000_000
PENDING = OrderLine.quantity - OrderLine.delivered_quantity


def _open_lines():
    return (OrderLine.deleted_at.is_(None), OrderLine.quantity > OrderLine.delivered_quantity,
            Order.status != "cancelled", Order.deleted_at.is_(None))


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
                    BacklogPriority.score, BacklogPriority.reasons, BacklogPriority.fill,
                    BacklogPriority.computed_at.label("ranked_at"))
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


def filters(now: int) -> dict:
    return {
        "customer_id": lambda v: Order.customer_id == v,
        "rep_id": lambda v: Order.rep_id == v,
        "product_id": lambda v: exists().where(OrderLine.order_id == Order.id,
                                               OrderLine.product_id == v,
                                               OrderLine.deleted_at.is_(None),
                                               OrderLine.quantity > OrderLine.delivered_quantity),
        "min_age_days": lambda v: Order.ordered_at <= now - v * DAY_MS,
        "late_only": lambda v: (Order.requested_delivery_at < now) if v
        else ((Order.requested_delivery_at.is_(None)) | (Order.requested_delivery_at >= now)),
    }


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
                **row,
                "reasons": [r for r in (row["reasons"] or "").split("\n") if r],
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

