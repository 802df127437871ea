"""Merging one customer into another: its visits, orders, tasks and feedback move to the kept
customer (a `rows_follow` receiver per model answers `signals.customer_merging`) with bulk
UPDATEs that take the sync stamp, and it stays behind as a tombstone (`deleted_at`,
`merged_into_id`) that phones pull as a deletion.
"""
from functools import cache

from sqlalchemy import select, update

from fieldsales.changes.clock import take_stamp
from fieldsales.common import now_ms
from fieldsales.customers import service as customers
from fieldsales.customers import signals
from fieldsales.customers.models import Customer
from fieldsales.database import rowcount
from fieldsales.errors import ApiError
from fieldsales.extensions import db
from fieldsales.users.models import User


def merge(*, viewer: User, customer_id: str, into_id: str) -> dict:
    """Move everything of `customer_id` to `into_id` and leave a tombstone behind."""
    if customer_id == into_id:
        raise ApiError(422, "validation_error", "A customer cannot be merged into itself.",
                       {"into_id": ["Must be another customer."]})
    merged = customers.get(viewer=viewer, customer_id=customer_id)
    kept = customers.get_referenced(viewer=viewer, customer_id=into_id, field="into_id")
    # Lock both rows (PostgreSQL) in a fixed order, then make sure neither went away.
    db.session.execute(select(Customer).where(Customer.id.in_(sorted((merged.id, kept.id))))
                       .order_by(Customer.id).with_for_update()
                       .execution_options(populate_existing=True)).all()
    if merged.deleted_at is not None or kept.deleted_at is not None:
        raise ApiError(409, "conflict", "One of the customers was removed or merged meanwhile.")

    stamp = take_stamp(db.session)
    moved = {}
    for _receiver, counts in signals.customer_merging.send(merged, kept_id=kept.id, stamp=stamp):
        moved.update(counts)
    # Tombstones that pointed at the merged customer now point at the kept one.
    db.session.execute(
        update(Customer).where(Customer.merged_into_id == merged.id)
        .values(merged_into_id=kept.id, changed_seq=stamp)
        .execution_options(synchronize_session=False))

    for name in ("phone", "address", "segment", "visit_cadence_days"):
        if getattr(kept, name) is None and getattr(merged, name) is not None:
            setattr(kept, name, getattr(merged, name))
    if merged.kind == "account":
        kept.kind = "account"
    merged.deleted_at = now_ms()
    merged.merged_into_id = kept.id
    db.session.flush()
    return {"kept": kept, "merged_id": merged.id, "moved": moved}


@cache
def rows_follow(model, *, name: str):
    """A receiver of `signals.customer_merging` that moves `model`'s rows (a synced model with
    a `customer_id`) to the kept customer, stamped so phones pull the change. Customers may
    not import the models that name a customer, so `create_app` connects one per model. One
    receiver per model, so a second app connecting it adds nothing (a second would find the
    rows moved and report 0)."""

    def move(merged: Customer, *, kept_id: str, stamp: int) -> dict[str, int]:
        result = db.session.execute(
            update(model).where(model.customer_id == merged.id)
            .values(customer_id=kept_id, changed_seq=stamp)
            .execution_options(synchronize_session=False))
        return {name: rowcount(result)}

    return move
