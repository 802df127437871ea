"""Visits' answers to what other domains announce (connected by `create_app`)."""
from sqlalchemy import update

from fieldsales.extensions import db
from fieldsales.visits.models import Visit


def move_visits_to_kept_customer(merged, *, kept_id: str, stamp: int) -> dict[str, int]:
    """Visits of a customer merged into another (fieldsales.customers.signals) move to the
    kept one, stamped so phones pull the change."""
    result = db.session.execute(
        update(Visit).where(Visit.customer_id == merged.id)
        .values(customer_id=kept_id, changed_seq=stamp)
        .execution_options(synchronize_session=False))
    return {"visits": result.rowcount}
