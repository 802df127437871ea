"""Customers REST: admins and managers keep them; reps and procurement read them."""
from flask.views import MethodView
from sqlalchemy import func

from fieldsales.customers import service
from fieldsales.customers.merge import merge
from fieldsales.customers.models import Customer
from fieldsales.customers.schemas import (
    CustomerCreateSchema,
    CustomerListArgs,
    CustomerPageSchema,
    CustomerSchema,
    CustomerUpdateSchema,
    MergeResultSchema,
    MergeSchema,
)
from fieldsales.errors import answers
from fieldsales.extensions import Blueprint, db
from fieldsales.listing import Listing
from fieldsales.replica import reads_from_replica
from fieldsales.users.guard import current_user, require

blp = Blueprint("customers", __name__, url_prefix="/api/v1",
                description="Customers: outlets with a position, a geofence and an assigned rep.")

LISTING = Listing(
    name="customers",
    item_schema=CustomerSchema,
    sorts={"id": Customer.id, "name": func.lower(Customer.name), "kind": Customer.kind,
           "segment": func.coalesce(Customer.segment, "")},
    id_key=Customer.id,
    filters={"assigned_rep_id": lambda v: Customer.assigned_rep_id == v,
             "kind": lambda v: Customer.kind == v,
             "segment": lambda v: Customer.segment == v,
             "q": lambda v: func.lower(Customer.name).contains(v.lower(), autoescape=True)},
)


@blp.route("/customers")
class Customers(MethodView):
    @require()
    @blp.arguments(CustomerListArgs, location="query", unknown=None)
    @blp.response(200, CustomerPageSchema)
    @reads_from_replica
    def get(self, args):
        """List customers.

        Admins and procurement see all, managers their team's, reps those assigned to them.
        Removed customers are left out. Sort by `id` (the default), `name` (any case), `kind`
        or `segment` (customers without one first); `-field` descending, ties on the id.
        Pass `next_cursor` back as `cursor` until it is null. `?format=csv` (or
        `Accept: text/csv`) exports every matching customer.
        """
        query = service.visible(viewer=current_user())
        return LISTING.respond(args=args, query=query)

    @require("admin", "manager")
    @answers(409, "`duplicate_id`: a customer has this id.")
    @blp.arguments(CustomerCreateSchema)
    @blp.response(201, CustomerSchema)
    def post(self, data):
        """Create a customer (admin, manager).

        Managers create customers in their own team and assign reps of their team only.
        For admins the team is `team_id` if given, else the assigned rep's team.
        An `id` already in use is 409.
        """
        customer = service.create(viewer=current_user(), data=data)
        db.session.commit()
        return customer


@blp.route("/customers/<customer_id>")
class CustomerById(MethodView):
    @require()
    @blp.response(200, CustomerSchema)
    def get(self, customer_id):
        """One customer, if the caller may see it (404 otherwise)."""
        return service.get(viewer=current_user(), customer_id=customer_id)

    @require("admin", "manager")
    @blp.arguments(CustomerUpdateSchema)
    @blp.response(200, CustomerSchema)
    def patch(self, changes, customer_id):
        """Change a customer (admin, manager).

        A new `assigned_rep_id` moves the customer from the old rep's phone to the new rep's
        on their next sync.
        """
        viewer = current_user()
        customer = service.update(viewer=viewer, changes=changes,
                                  customer=service.get(viewer=viewer, customer_id=customer_id))
        db.session.commit()
        return customer

    @require("admin", "manager")
    @blp.response(204)
    def delete(self, customer_id):
        """Remove a customer (admin, manager).

        The removal is soft: the customer answers 404 from now on and reaches the rep's next
        pull as a deleted id.
        """
        service.remove(customer=service.get(viewer=current_user(), customer_id=customer_id))
        db.session.commit()


@blp.route("/customers/<customer_id>/merge", methods=["POST"])
@require("admin", "manager")
@answers(409, "`conflict`: one of the customers was removed or merged meanwhile.")
@blp.arguments(MergeSchema)
@blp.response(200, MergeResultSchema)
def customer_merge(data, customer_id):
    """Merge this customer into `into_id`: its visits, orders, tasks and feedback move to the
    kept customer, and it stays behind as a tombstone (`merged_into_id`) that phones pull as
    a deletion. The kept customer takes over a phone, address or segment it lacked, and
    becomes an account if either was one. Managers merge within their own team.
    """
    result = merge(viewer=current_user(), customer_id=customer_id, into_id=data["into_id"])
    db.session.commit()
    return result
