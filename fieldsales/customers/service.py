"""Customers: who may see and change which, and who may be assigned to them."""
from collections.abc import Iterable
from typing import cast

from sqlalchemy import Select, Table, select
from sqlalchemy import update as update_rows

from fieldsales.changes.access import reassigned
from fieldsales.changes.clock import take_stamp
from fieldsales.common import now_ms
from fieldsales.customers.models import Customer
from fieldsales.customers.visiting import opening_hours_ok
from fieldsales.database import add_new, id_key
from fieldsales.errors import ApiError
from fieldsales.extensions import db
from fieldsales.users import scope
from fieldsales.users.models import Team, User

_CHUNK = 900  # ids per IN (...) list
_FIELDS = ("name", "address", "latitude", "longitude", "geofence_radius_m", "segment", "phone",
           "kind", "visit_cadence_days", "opens_at", "closes_at")
CUSTOMER_ID = id_key(Customer, what="customer")


def invalid(field: str, message: str) -> ApiError:
    return ApiError(422, "validation_error", f"The request is invalid: check {field}.",
                    {field: [message]})


def visible(*, viewer: User) -> Select:
    """Live customers the viewer may read: admins and procurement all, managers their team's,
    reps those assigned to them."""
    return select(Customer).where(Customer.deleted_at.is_(None), scope.rep_clause(
        viewer=viewer, rep_column=Customer.assigned_rep_id, team_column=Customer.team_id))


def get(*, viewer: User, customer_id: str) -> Customer:
    customer = db.session.scalar(visible(viewer=viewer).where(Customer.id == customer_id))
    if customer is None:
        raise ApiError(404, "not_found", "No such customer.")
    return customer


def get_referenced(*, viewer: User, customer_id: str, field: str = "customer_id") -> Customer:
    """A customer named in a payload: missing or not visible is the payload's fault (422)."""
    customer = db.session.scalar(visible(viewer=viewer).where(Customer.id == customer_id))
    if customer is None:
        raise invalid(field, "No such customer (or not visible to you).")
    return customer


def assignable_rep(*, viewer: User, rep_id: str, field: str = "assigned_rep_id") -> User:
    """An active rep the viewer may give work to: any for admins, their own team's for managers.

    The same answer for an unknown id and another team's rep, so ids from a payload reveal
    nothing and grant nothing.
    """
    rep = db.session.get(User, rep_id)
    if rep is None or not is_assignable(viewer=viewer, rep=rep):
        where = "in your team" if viewer.role == "manager" else ""
        raise invalid(field, f"No active rep with this id {where}".strip() + ".")
    return rep


def is_assignable(*, viewer: User, rep: User) -> bool:
    """Whether the viewer may give work to `rep`: an active rep, of their team for managers."""
    return (rep.role == "rep" and rep.active and rep.deleted_at is None
            and (viewer.role != "manager" or scope.manages(manager=viewer, user=rep)))


def owning_team_id(*, viewer: User, rep: User | None, changes: dict,
                   current: str | None) -> str | None:
    """The team that owns the customer: the manager's own, or for admins the explicit team,
    else the assigned rep's."""
    if viewer.role == "manager":
        if changes.get("team_id", viewer.team_id) != viewer.team_id:
            raise invalid("team_id", "Managers keep customers in their own team.")
        return viewer.team_id
    if "team_id" in changes:
        team_id = changes["team_id"]
        if team_id is not None and db.session.get(Team, team_id) is None:
            raise invalid("team_id", "No such team.")
    else:
        team_id = rep.team_id if rep is not None else current
    if rep is not None and team_id is not None and rep.team_id != team_id:
        raise invalid("team_id", "The assigned rep is not in this team.")
    return team_id


def create(*, viewer: User, data: dict) -> Customer:
    rep = (assignable_rep(viewer=viewer, rep_id=data["assigned_rep_id"])
           if data.get("assigned_rep_id") else None)
    customer = Customer(id=data.get("id"), **{k: data[k] for k in _FIELDS if k in data})
    customer.assigned_rep_id = rep.id if rep else None
    customer.team_id = owning_team_id(viewer=viewer, rep=rep, changes=data, current=None)
    if customer.id and db.session.get(Customer, customer.id) is not None:
        raise CUSTOMER_ID.error()
    add_new(customer, CUSTOMER_ID)
    return customer


def update(*, viewer: User, customer: Customer, changes: dict) -> Customer:
    """Change a customer; a new assigned rep makes it leave the old rep's phone and reach
    the new rep's on their next pulls."""
    rep_id = changes.get("assigned_rep_id", customer.assigned_rep_id)
    rep: User | None
    if "assigned_rep_id" in changes and rep_id is not None:
        rep = assignable_rep(viewer=viewer, rep_id=rep_id)
    else:
        rep = db.session.get(User, rep_id) if rep_id else None
    if "assigned_rep_id" in changes or "team_id" in changes:
        customer.team_id = owning_team_id(viewer=viewer, rep=rep, changes=changes,
                                          current=customer.team_id)
    if rep_id != customer.assigned_rep_id:
        reassigned(db.session, table_name="customers", record_id=customer.id,
                   old_rep_id=customer.assigned_rep_id, new_rep_id=rep_id)
        customer.assigned_rep_id = rep_id
    opens_at = changes.get("opens_at", customer.opens_at)
    if not opening_hours_ok(opens_at, changes.get("closes_at", customer.closes_at)):
        field = "closes_at" if "closes_at" in changes else "opens_at"
        raise invalid(field, "Opening hours must close after they open "
                             f"(stored: {customer.opens_at}-{customer.closes_at}).")
    for name in _FIELDS:
        if name in changes:
            setattr(customer, name, changes[name])
    return customer


def remove(*, customer: Customer) -> None:
    """Soft removal: the tombstone reaches the rep's next pull as a deleted id."""
    customer.deleted_at = now_ms()


def promote_prospects(*, customer_ids: Iterable[str]) -> None:
    """A prospect becomes an account with its first order (domain glossary). In Core, for
    a push's bulk writes: no rows loaded, stamped with the transaction's stamp."""
    ids = sorted(set(customer_ids))
    if not ids:
        return
    stamp = take_stamp(db.session)
    table = cast(Table, Customer.__table__)  # a declarative model's table is a Table
    for start in range(0, len(ids), _CHUNK):
        db.session.execute(update_rows(table).where(
            table.c.id.in_(ids[start:start + _CHUNK]), table.c.kind == "prospect")
            .values(kind="account", changed_seq=stamp))
