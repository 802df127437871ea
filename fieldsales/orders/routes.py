"""Orders REST: read orders by role, record deliveries (procurement), cancel."""
from flask.views import MethodView
from sqlalchemy import func

from fieldsales.errors import answers
from fieldsales.extensions import Blueprint, db
from fieldsales.listing import NO_DATE, Listing
from fieldsales.orders import service
from fieldsales.orders.models import Order
from fieldsales.orders.schemas import (
    DeliveryCreateSchema,
    OrderDetailSchema,
    OrderListArgs,
    OrderPageSchema,
    OrderSchema,
)
from fieldsales.replica import reads_from_replica
from fieldsales.users.guard import current_user, require

blp = Blueprint("orders", __name__, url_prefix="/api/v1",
                description="Orders taken by reps, their deliveries and the backlog they leave.")

LISTING = Listing(
    name="orders",
    item_schema=OrderSchema,
    sorts={"id": Order.id, "ordered_at": Order.ordered_at,
           "requested_delivery_at": func.coalesce(Order.requested_delivery_at, NO_DATE),
           "status": Order.status},
    id_key=Order.id,
    filters={"status": lambda v: Order.status == v,
             "customer_id": lambda v: Order.customer_id == v,
             "rep_id": lambda v: Order.rep_id == v},
)


@blp.route("/orders")
class Orders(MethodView):
    @require()
    @blp.arguments(OrderListArgs, location="query", unknown=None)
    @blp.response(200, OrderPageSchema)
    @reads_from_replica
    def get(self, args):
        """List orders: all for admins and procurement, the team's for managers, a rep's own.

        Filter by `status`, `customer_id`, `rep_id`. Sort by `id` (the default), `ordered_at`,
        `requested_delivery_at` (orders without one last) or `status`; `-field` descending,
        ties on the id. Pass `next_cursor` back as `cursor` until it is null. `?format=csv`
        (or `Accept: text/csv`) exports every matching order (without its lines).
        """
        query = service.visible(viewer=current_user())
        return LISTING.respond(args=args, query=query)


@blp.route("/orders/<order_id>")
class OrderById(MethodView):
    @require()
    @blp.response(200, OrderDetailSchema)
    def get(self, order_id):
        """One order with its lines (delivered and pending quantities) and its deliveries."""
        return service.detail(order=service.get(viewer=current_user(), order_id=order_id))


@blp.route("/orders/<order_id>/deliveries", methods=["POST"])
@require("procurement", "admin")
@answers(409, "`order_cancelled` / `order_delivered`: nothing is to deliver; `over_delivery`: more "
              "than a line has pending; `insufficient_stock`: more than is on hand.")
@blp.arguments(DeliveryCreateSchema)
@blp.response(201, OrderDetailSchema)
def deliveries(data, order_id):
    """Record a delivery of some pending line quantities (procurement, admin).

    Raises each line's `delivered_quantity`, takes the quantities from the products' stock on
    hand, and moves the order to `partially_delivered`, or to `delivered` (with
    `delivered_at`) when every line is complete. More than a line's pending quantity is refused
    with 409 `over_delivery` naming the line; more than the stock on hand with 409
    `insufficient_stock`. Answers the order as it now stands.
    """
    viewer = current_user()
    order = service.get(viewer=viewer, order_id=order_id, for_update=True)
    service.deliver(order=order, lines=data["lines"], delivered_at=data.get("delivered_at"),
                    by=viewer)
    db.session.commit()
    return service.detail(order=order)


@blp.route("/orders/<order_id>/cancel", methods=["POST"])
@require("admin", "procurement", "manager")
@answers(409, "`order_delivered`: a delivered order cannot be cancelled.")
@blp.response(200, OrderDetailSchema)
def cancel(order_id):
    """Cancel an order (admin, procurement, or the manager of the rep who took it).

    What was already delivered stays delivered; the rest leaves the backlog. A delivered order
    cannot be cancelled (409). Cancelling a cancelled order changes nothing.
    """
    order = service.cancel(order=service.get(viewer=current_user(), order_id=order_id,
                                             for_update=True))
    db.session.commit()
    return service.detail(order=order)
