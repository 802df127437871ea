"""What erasing a person removes (docs/privacy.md, "Erasure"): the one list of a person's
positions and free text across the domains, answered to `users.signals.user_erasing`.

Their positions (pings, visit and task coordinates) and what they wrote (notes, comments,
completion notes, descriptions of tasks they made, why they skipped a planned visit) go;
visits, tasks, orders, feedback and plans stay as business records: the sales happened.
Their sync history, quarantined records (which hold positions), failed sign-ins under their
email, and who looked at their positions go too.
"""
from sqlalchemy import and_, delete, or_, update

from fieldsales.auth.models import LoginFailure
from fieldsales.database import rowcount
from fieldsales.extensions import db
from fieldsales.feedback.models import Feedback
from fieldsales.locations.models import LocationPing, PositionView
from fieldsales.orders.models import Order
from fieldsales.plans.models import PlannedVisit
from fieldsales.sync.models import QuarantinedRecord, SyncLog
from fieldsales.tasks.models import Task
from fieldsales.users import signals
from fieldsales.users.models import User
from fieldsales.visits.models import Visit

# kind -> (its model, the rows of the person, the columns emptied in them)
EMPTIED = {
    "visits": (Visit, lambda user: Visit.rep_id == user.id,
               ("check_in_latitude", "check_in_longitude", "check_in_accuracy_m",
                "check_out_latitude", "check_out_longitude", "notes")),
    "tasks": (Task, lambda user: Task.assigned_rep_id == user.id,
              ("latitude", "longitude", "completion_note")),
    "tasks_written": (Task, lambda user: Task.created_by_id == user.id, ("description",)),
    "feedback": (Feedback, lambda user: Feedback.rep_id == user.id, ("comment",)),
    "orders": (Order, lambda user: Order.rep_id == user.id, ("notes",)),
    "planned_visits": (PlannedVisit, lambda user: PlannedVisit.rep_id == user.id,
                       ("skip_reason",)),
}
# kind -> (its model, the rows of the person, deleted whole)
DELETED = {
    "location_pings": (LocationPing, lambda user: LocationPing.rep_id == user.id),
    "position_views": (PositionView, lambda user: PositionView.rep_id == user.id),
    "sync_log": (SyncLog, lambda user: SyncLog.user_id == user.id),
    "sync_quarantine": (QuarantinedRecord, lambda user: QuarantinedRecord.user_id == user.id),
    "login_failures": (LoginFailure, lambda user: LoginFailure.email == user.email),
}


def connect() -> None:
    """Called by `create_app`; connecting again adds nothing."""
    signals.user_erasing.connect(erase_personal_data, weak=False)


def erase_personal_data(user: User) -> dict[str, int]:
    """Remove the person's positions and free text; how many rows each kind touched."""
    removed = {}
    for kind, (model, rows_of, columns) in EMPTIED.items():
        held = or_(*(getattr(model, column).is_not(None) for column in columns))
        removed[kind] = rowcount(db.session.execute(
            update(model).where(and_(rows_of(user), held))
            .values(dict.fromkeys(columns)).execution_options(synchronize_session=False)))
    for kind, (model, rows_of) in DELETED.items():
        removed[kind] = rowcount(db.session.execute(
            delete(model).where(rows_of(user)).execution_options(synchronize_session=False)))
    return removed
