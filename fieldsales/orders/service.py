"""Orders: who sees which, deliveries against pending quantities, and cancelling.

Orders are taken on the phones (sync push); the server moves them on: deliveries raise line
`delivered_quantity`, set the order's status and take the stock, all through the ORM so the
sync stamps follow and phones pull the change.
"""
from sqlalchemy import Select, select

from fieldsales.changes.clock import take_stamp
from fieldsales.common import MINUTE_MS, now_ms
from fieldsales.errors import ApiError
from fieldsales.events.service import emit
from fieldsales.extensions import db
from fieldsales.orders.models import Delivery, DeliveryLine, Order, OrderLine
from fieldsales.products.models import Product
from fieldsales.users import scope
from fieldsales.users.models import User

# A delivery time this far ahead of the server clock is a typo, not a clock skew.
FUTURE_TOLERANCE_MS = 5 * MINUTE_MS
# Float quantities: differences below this are rounding, not over-delivery.
EPSILON = 1e-9


def visible(*, viewer: User) -> Select:
    """Live orders the viewer may read: admins and procurement all, managers their team's
    reps', reps their own."""
    return select(Order).where(Order.deleted_at.is_(None),
                               scope.rep_clause(viewer=viewer, rep_column=Order.rep_id))


def get(*, viewer: User, order_id: str, for_update: bool = False) -> Order:
    """A visible order; `for_update` locks it for a change (one writer per order at a time).

    A writer takes the sync clock before any row lock, the order every writer keeps (sync
    pushes and the backlog job stamp first too), so two writers never wait on each other in a
    circle.
    """
    query = visible(viewer=viewer).where(Order.id == order_id)
    if for_update:
        take_stamp(db.session)
        query = query.with_for_update().execution_options(populate_existing=True)
    order = db.session.scalar(query)
    if order is None:
        raise ApiError(404, "not_found", "No such order.")
    return order


def detail(*, order: Order) -> dict:
    """The order with its live lines, its deliveries and its values."""
    lines = db.session.scalars(select(OrderLine).where(
        OrderLine.order_id == order.id, OrderLine.deleted_at.is_(None))
        .order_by(OrderLine.id)).all()
    deliveries = db.session.scalars(select(Delivery).where(Delivery.order_id == order.id)
                                    .order_by(Delivery.delivered_at, Delivery.id)).all()
    shipped: dict[str, list] = {}
    if deliveries:
        for line in db.session.scalars(select(DeliveryLine).where(
                DeliveryLine.delivery_id.in_([d.id for d in deliveries]))
                .order_by(DeliveryLine.id)):
            shipped.setdefault(line.delivery_id, []).append(line)
    return {
        **{name: getattr(order, name) for name in (
            "id", "rep_id", "customer_id", "visit_id", "ordered_at", "requested_delivery_at",
            "notes", "status", "promised_dispatch_at", "delivered_at", "time_flags")},
        "lines": lines,
        "deliveries": [{"id": d.id, "delivered_at": d.delivered_at,
                        "created_by_id": d.created_by_id, "lines": shipped.get(d.id, [])}
                       for d in deliveries],
        "value": round(sum(line.quantity * line.unit_price for line in lines), 2),
        "pending_value": round(sum(max(line.quantity - line.delivered_quantity, 0)
                                   * line.unit_price for line in lines), 2),
    }


def deliver(*, order: Order, lines: list[dict], delivered_at: int | None, by: User) -> Delivery:
    """Record a shipment: refuse anything beyond the pending quantity or the stock on hand."""
    now = now_ms()
    if delivered_at is None:
        delivered_at = now
    elif delivered_at > now + FUTURE_TOLERANCE_MS:
        raise ApiError(422, "validation_error", "The request is invalid: check delivered_at.",
                       {"delivered_at": ["Must not be in the future."]})
    elif delivered_at < order.ordered_at:
        raise ApiError(422, "validation_error", "The request is invalid: check delivered_at.",
                       {"delivered_at": ["Must not be before the order was taken."]})
    if order.status == "cancelled":
        raise ApiError(409, "order_cancelled", "The order is cancelled; nothing is to deliver.")
    if order.status == "delivered":
        raise ApiError(409, "order_delivered", "The order is already delivered in full.")

    order_lines = {line.id: line for line in db.session.scalars(
        select(OrderLine).where(OrderLine.order_id == order.id, OrderLine.deleted_at.is_(None))
        .with_for_update().execution_options(populate_existing=True))}
    seen = set()
    for n, item in enumerate(lines):
        line_id = item["order_line_id"]
        if line_id not in order_lines:
            raise ApiError(422, "validation_error",
                           f"The request is invalid: line '{line_id}' is not a line of this order.",
                           {"lines": {str(n): {"order_line_id": ["Not a line of this order."]}}})
        if line_id in seen:
            raise ApiError(422, "validation_error",
                           f"The request is invalid: line '{line_id}' is named twice.",
                           {"lines": {str(n): {"order_line_id": ["Named twice; send one "
                                                                 "quantity per line."]}}})
        seen.add(line_id)
        line = order_lines[line_id]
        pending = line.quantity - line.delivered_quantity
        if item["quantity"] > pending + EPSILON:
            raise ApiError(409, "over_delivery",
                           f"Line '{line_id}' has {pending:g} pending; a delivery of "
                           f"{item['quantity']:g} is more than that.",
                           {"lines": {str(n): {"quantity": [f"At most {pending:g} (pending)."]}},
                            "order_line_id": line_id, "pending_quantity": pending})

    taken: dict[str, float] = {}
    for item in lines:
        product_id = order_lines[item["order_line_id"]].product_id
        taken[product_id] = taken.get(product_id, 0.0) + item["quantity"]
    products = {p.id: p for p in db.session.scalars(
        select(Product).where(Product.id.in_(sorted(taken))).order_by(Product.id)
        .with_for_update().execution_options(populate_existing=True))}
    for product_id, quantity in taken.items():
        stock = products[product_id].stock_on_hand
        if quantity > stock + EPSILON:
            raise ApiError(409, "insufficient_stock",
                           f"Product '{products[product_id].sku}' has {stock:g} on hand; this "
                           f"delivery takes {quantity:g}. Correct the stock first "
                           f"(PATCH /api/v1/products/{product_id}).",
                           {"product_id": product_id, "stock_on_hand": stock,
                            "quantity": quantity})

    delivery = Delivery(order_id=order.id, delivered_at=delivered_at, created_by_id=by.id)
    db.session.add(delivery)
    db.session.flush()
    for item in lines:
        line = order_lines[item["order_line_id"]]
        line.delivered_quantity = min(line.delivered_quantity + item["quantity"], line.quantity)
        db.session.add(DeliveryLine(delivery_id=delivery.id, order_line_id=line.id,
                                    quantity=item["quantity"]))
    for product_id, quantity in taken.items():
        products[product_id].stock_on_hand -= quantity

    order.status = status_after_delivery(quantities=[
        (line.delivered_quantity, line.quantity) for line in order_lines.values()])
    if order.status == "delivered":
        order.delivered_at = delivered_at
    emit(type="order.delivered", team_id=db.session.scalar(
             select(User.team_id).where(User.id == order.rep_id)),
         subject_id=order.id,
         payload={"order_id": order.id, "delivery_id": delivery.id, "status": order.status,
                  "fully": order.status == "delivered", "delivered_at": delivered_at,
                  "lines": [{"order_line_id": item["order_line_id"],
                             "quantity": item["quantity"]} for item in lines]})
    return delivery


def status_after_delivery(*, quantities: list[tuple[float, float]]) -> str:
    """What a shipment leaves an order at, from each line's (delivered, ordered) quantities:
    delivered once every line is in full (the demo's orders follow it too)."""
    if all(delivered >= ordered - EPSILON for delivered, ordered in quantities):
        return "delivered"
    return "partially_delivered"


def cancel(*, order: Order) -> Order:
    """Cancel what is still to deliver; a delivered order cannot be cancelled."""
    if order.status == "cancelled":
        return order
    if order.status == "delivered":
        raise ApiError(409, "order_delivered", "The order is delivered in full; it cannot be "
                       "cancelled.")
    order.status = "cancelled"
    order.promised_dispatch_at = None
    return order
