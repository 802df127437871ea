"""Which orders count and which are still to deliver: the one definition that every report,
job and sync query uses, in Core and in the scoring jobs' SQL files (as expanding binds).

- counted: taken and not cancelled (revenue, orders taken, demand, targets);
- pending: still to deliver (open or partially delivered): what phones keep on hand;
- a pending line: quantity ordered but not yet delivered, on a live line;
- a line a rep adds (`check_new_line`): onto which order, at what price, how big.
"""
from sqlalchemy import ColumnElement, and_

from fieldsales.common import MINUTE_MS
from fieldsales.orders.models import ORDER_STATUSES, Order, OrderLine

CANCELLED = "cancelled"
DELIVERED = "delivered"
COUNTED_STATUSES = tuple(status for status in ORDER_STATUSES if status != CANCELLED)
PENDING_STATUSES = ("open", "partially_delivered")

PENDING_QUANTITY = OrderLine.quantity - OrderLine.delivered_quantity


def counted(order=Order) -> ColumnElement:
    """A live order that was not cancelled."""
    return and_(order.status.in_(COUNTED_STATUSES), order.deleted_at.is_(None))


def pending(order=Order) -> ColumnElement:
    """A live order still to deliver (open or partially delivered)."""
    return and_(order.status.in_(PENDING_STATUSES), order.deleted_at.is_(None))


def pending_line(line=OrderLine) -> ColumnElement:
    """A live line with quantity still to deliver."""
    return and_(line.deleted_at.is_(None), line.quantity > line.delivered_quantity)


def sql_params() -> dict:
    """The binds the SQL files use for these rules (`status IN :counted_statuses`)."""
    return {"counted_statuses": list(COUNTED_STATUSES), "delivered": DELIVERED}


# -- lines a phone adds (sync push; docs/sync.md, "Orders and their lines") --------------------

# Bounds of one line: beyond any real order, and small enough that no sum in a report can
# overflow or read as nonsense. A unit price fits `Money` (Numeric(14, 2)) with room to spare.
MAX_LINE_QUANTITY = 1_000_000
MAX_UNIT_PRICE = 1e11
# Half a cent: a price rounded to cents after a percentage discount stays within tolerance.
PRICE_SLACK = 0.005


def is_pending(status: str) -> bool:
    """Still to deliver (open or partially delivered): the order is still open."""
    return status in PENDING_STATUSES


def _duration(minutes: int) -> str:
    if minutes % 60 == 0:
        hours = minutes // 60
        return "1 hour" if hours == 1 else f"{hours} hours"
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def check_new_line(*, same_push: bool, order_status: str | None,
                   order_received_at: int | None, list_price: float, quantity: float,
                   unit_price: float, pushed_at: int, edit_window_minutes: int,
                   price_tolerance: float, max_line_value: float) -> dict[str, list[str]]:
    """Why a line a rep adds to an order is refused (column -> reasons; empty: it may join).

    - where: an order created in the same push, or a stored order that is still open (not
      delivered or cancelled) and reached the server at most `edit_window_minutes` before
      the line was pushed (`order_received_at` and `pushed_at`, the server's times: the
      phone's `ordered_at` proves nothing);
    - the price: the product's price (`list_price`), give or take `price_tolerance` (a
      fraction of it) and half a cent of rounding;
    - the value: quantity x unit price at most `max_line_value`.
    """
    errors: dict[str, list[str]] = {}
    if not same_push:
        assert order_status is not None and order_received_at is not None
        if not is_pending(order_status):
            errors["order_id"] = [f"This order is {order_status}: lines may only be added "
                                  "to an open order."]
        elif pushed_at - order_received_at > edit_window_minutes * MINUTE_MS:
            errors["order_id"] = [
                f"This order reached the server more than {_duration(edit_window_minutes)} "
                "before this line: lines may only be added within that time (or in the push "
                "that creates the order)."]
    if abs(unit_price - list_price) > price_tolerance * list_price + PRICE_SLACK:
        errors["unit_price"] = [
            f"Must be within {price_tolerance * 100:g}% of the product's price "
            f"({list_price:.2f})."]
    if quantity * unit_price > max_line_value:
        errors["_schema"] = [f"The line's value (quantity x unit price) must be at most "
                             f"{max_line_value:,.0f}."]
    return errors
