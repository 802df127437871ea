"""Orders' answers to what other domains announce (connected by `create_app`)."""
from sqlalchemy import update

from fieldsales.extensions import db
from fieldsales.orders.models import Order


def move_orders_to_kept_customer(merged, *, kept_id: str, stamp: int) -> dict[str, int]:
    """Orders of a customer merged into another (fieldsales.customers.signals) move to the
    kept one, stamped so phones pull the change."""
    result = db.session.execute(
        update(Order).where(Order.customer_id == merged.id)
        .values(customer_id=kept_id, changed_seq=stamp)
        .execution_options(synchronize_session=False))
    return {"orders": result.rowcount}
