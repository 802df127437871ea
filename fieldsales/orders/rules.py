"""Which orders count and which are still to deliver: the one definition that every report,
job and sync query uses, in Core and in the scoring jobs' SQL files (as expanding binds).

- counted: taken and not cancelled (revenue, orders taken, demand, targets);
- pending: still to deliver (open or partially delivered): what phones keep on hand;
- a pending line: quantity ordered but not yet delivered, on a live line.
"""
from sqlalchemy import ColumnElement, and_

from fieldsales.orders.models import ORDER_STATUSES, Order, OrderLine

CANCELLED = "cancelled"
DELIVERED = "delivered"
COUNTED_STATUSES = tuple(status for status in ORDER_STATUSES if status != CANCELLED)
PENDING_STATUSES = ("open", "partially_delivered")

PENDING_QUANTITY = OrderLine.quantity - OrderLine.delivered_quantity


def counted(order=Order) -> ColumnElement:
    """A live order that was not cancelled."""
    return and_(order.status.in_(COUNTED_STATUSES), order.deleted_at.is_(None))


def pending_line(line=OrderLine) -> ColumnElement:
    """A live line with quantity still to deliver."""
    return and_(line.deleted_at.is_(None), line.quantity > line.delivered_quantity)


def sql_params() -> dict:
    """The binds the SQL files use for these rules (`status IN :counted_statuses`)."""
    return {"counted_statuses": list(COUNTED_STATUSES), "delivered": DELIVERED}
