"""Recording who gained or lost sight of a synced row, for the next pulls."""
from fieldsales.changes.clock import take_stamp
from fieldsales.changes.models import AccessChange
from fieldsales.extensions import SessionLike


def reassigned(session: SessionLike, *, table_name: str, record_id: str,
               old_rep_id: str | None, new_rep_id: str | None) -> None:
    """A row moved from one rep to another: a deletion for the old rep, a creation for the new."""
    if old_rep_id == new_rep_id:
        return
    stamp = take_stamp(session)
    if old_rep_id:
        session.add(AccessChange(table_name=table_name, record_id=record_id,
                                 user_id=old_rep_id, granted=False, stamp=stamp))
    if new_rep_id:
        session.add(AccessChange(table_name=table_name, record_id=record_id,
                                 user_id=new_rep_id, granted=True, stamp=stamp))
