"""Customers' answers to what users announce (fieldsales.users.signals)."""
from sqlalchemy import func, select

from fieldsales.customers.models import Customer
from fieldsales.extensions import db
from fieldsales.users import signals
from fieldsales.users.models import User


def connect() -> None:
    """Called by `create_app`; connecting again adds nothing."""
    signals.rep_joining_team.connect(bring_teamless_customers, weak=False)
    signals.rep_leaving_team.connect(count_assigned_customers, weak=False)


def bring_teamless_customers(rep: User, *, team_id: str) -> None:
    """A rep in no team (the CLI makes one without --manager-email) joins a team with the
    customers assigned to them that are in no team either, so the new manager sees them."""
    for customer in db.session.scalars(select(Customer).where(
            Customer.assigned_rep_id == rep.id, Customer.team_id.is_(None))):
        customer.team_id = team_id


def count_assigned_customers(rep: User) -> dict[str, int]:
    """Customers belong to the old team (its manager keeps seeing them)."""
    return {"assigned_customers": db.session.execute(
        select(func.count()).select_from(Customer).where(
            Customer.assigned_rep_id == rep.id, Customer.deleted_at.is_(None))).scalar_one()}
