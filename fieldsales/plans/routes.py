"""Planned visits REST: managers see and change their reps' journey plans; reps read theirs.
Phones get them through sync schema version 2 (fieldsales/sync)."""
from flask.views import MethodView
from sqlalchemy import BigInteger, cast, func

from fieldsales.errors import answers
from fieldsales.extensions import Blueprint, db
from fieldsales.listing import Listing
from fieldsales.plans import editing
from fieldsales.plans.models import PlannedVisit
from fieldsales.plans.schemas import (
    MAX_SEQUENCE,
    PlannedVisitCreateSchema,
    PlannedVisitListArgs,
    PlannedVisitPageSchema,
    PlannedVisitSchema,
    PlannedVisitUpdateSchema,
)
from fieldsales.replica import reads_from_replica
from fieldsales.users.guard import current_user, require

blp = Blueprint("plans", __name__, url_prefix="/api/v1",
                description="Journey plans: each rep's planned visits, day by day.")

# Day, then place in the day: YYYYMMDD * 10,000 + sequence.
_ROUTE = (cast(func.replace(PlannedVisit.planned_date, "-", ""), BigInteger) * (MAX_SEQUENCE + 1)
          + PlannedVisit.sequence)

LISTING = Listing(
    name="planned-visits",
    item_schema=PlannedVisitSchema,
    sorts={"route": _ROUTE, "id": PlannedVisit.id, "planned_date": PlannedVisit.planned_date,
           "sequence": PlannedVisit.sequence, "status": PlannedVisit.status},
    id_key=PlannedVisit.id,
    filters={"rep_id": lambda v: PlannedVisit.rep_id == v,
             "customer_id": lambda v: PlannedVisit.customer_id == v,
             "planned_date": lambda v: PlannedVisit.planned_date == v.isoformat(),
             "date_from": lambda v: PlannedVisit.planned_date >= v.isoformat(),
             "date_to": lambda v: PlannedVisit.planned_date <= v.isoformat(),
             "status": lambda v: PlannedVisit.status == v},
)


@blp.route("/planned-visits")
class PlannedVisits(MethodView):
    @require("admin", "manager", "rep")
    @blp.arguments(PlannedVisitListArgs, location="query", unknown=None)
    @blp.response(200, PlannedVisitPageSchema)
    @reads_from_replica
    def get(self, args):
        """List planned visits: all for admins, their reps' for managers, their own for reps.

        Filter by `rep_id` and one `planned_date` or a range (`date_from`, `date_to`, both
        inclusive; days are the rep's local days). Sort by `route` (the default: day, then
        sequence), `id`, `planned_date`, `sequence` or `status`; `-field` descending, ties on
        the id. Removed ones are left out. Pass `next_cursor` back as `cursor` until it is
        null. `?format=csv` (or `Accept: text/csv`) exports every matching planned visit.
        """
        return LISTING.respond(args=args, query=editing.visible(viewer=current_user()))

    @require("admin", "manager")
    @answers(409, "`duplicate_id`: a planned visit has this id.")
    @blp.arguments(PlannedVisitCreateSchema)
    @blp.response(201, PlannedVisitSchema)
    def post(self, data):
        """Add a stop to a rep's day (admin, manager); its `reason` is `manual`.

        Managers plan reps of their own team. The customer must be one the caller can see
        and assigned to the rep; the day the rep's today or later. Without `sequence` it
        comes after the day's last stop. It reaches the rep's phone on its next version-2
        pull.
        """
        planned = editing.create(viewer=current_user(), data=data)
        db.session.commit()
        return planned


@blp.route("/planned-visits/<planned_visit_id>")
class PlannedVisitById(MethodView):
    @require("admin", "manager", "rep")
    @blp.response(200, PlannedVisitSchema)
    def get(self, planned_visit_id):
        """One planned visit, if the caller may see it (404 otherwise)."""
        return editing.get(viewer=current_user(), planned_visit_id=planned_visit_id)

    @require("admin", "manager")
    @answers(409, "`planned_visit_closed`: a move of a planned visit that is no longer "
                  "planned (done, missed or skipped).")
    @blp.arguments(PlannedVisitUpdateSchema)
    @blp.response(200, PlannedVisitSchema)
    def patch(self, changes, planned_visit_id):
        """Move a planned visit (day, sequence, times) or lock or unlock it (admin, manager).

        Only a visit still `planned` moves, to the rep's today or later. The change reaches
        the rep's phone on its next version-2 pull.
        """
        planned = editing.update(changes=changes, planned=editing.get(
            viewer=current_user(), planned_visit_id=planned_visit_id))
        db.session.commit()
        return planned

    @require("admin", "manager")
    @answers(409, "`planned_visit_closed`: the planned visit is done (its visit carried "
                  "it out); it stays.")
    @blp.response(204)
    def delete(self, planned_visit_id):
        """Remove a planned visit (admin, manager).

        The removal is soft: it answers 404 from now on and reaches the rep's next
        version-2 pull as a deleted id.
        """
        editing.remove(planned=editing.get(viewer=current_user(),
                                           planned_visit_id=planned_visit_id))
        db.session.commit()
