"""Targets: managers set goals for their reps and team; everyone watches attainment and pace."""
from flask.views import MethodView

from fieldsales.common import DAY_MS
from fieldsales.errors import answers
from fieldsales.extensions import Blueprint, db
from fieldsales.listing import Listing
from fieldsales.replica import reads_from_replica
from fieldsales.targets import service
from fieldsales.targets.models import Target
from fieldsales.targets.periods import day_ms
from fieldsales.targets.schemas import (
    TargetCreateSchema,
    TargetListArgs,
    TargetPageSchema,
    TargetSchema,
    TargetUpdateSchema,
)
from fieldsales.users.guard import current_user, require

blp = Blueprint("targets", __name__, url_prefix="/api/v1",
                description="Targets per rep or team, with attainment and pace.")

LISTING = Listing(
    name="targets",
    item_schema=TargetSchema,
    sorts={"period_start": Target.period_start, "created_at": Target.created_at,
           "goal": Target.goal, "metric": Target.metric},
    id_key=Target.id,
    filters={
        "team_id": lambda v: Target.team_id == v,
        "rep_id": lambda v: Target.rep_id == v,
        "team_wide": lambda v: Target.rep_id.is_(None) if v else Target.rep_id.is_not(None),
        "metric": lambda v: Target.metric == v,
        "period": lambda v: Target.period == v,
        "active_on": lambda v: (Target.period_start <= day_ms(v))
        & (Target.period_end >= day_ms(v) + DAY_MS),
    },
)


@blp.route("/targets")
class Targets(MethodView):
    @require("admin", "manager", "rep")
    @blp.arguments(TargetListArgs, location="query", unknown=None)
    @blp.response(200, TargetPageSchema)
    @reads_from_replica
    def get(self, args):
        """Targets with attainment so far and pace projection to the period end.

        Admins see all, managers their team's, reps their own and their team's.
        `?format=csv` (or `Accept: text/csv`) exports every matching target.
        """
        return LISTING.respond(args=args, query=service.visible_targets(current_user()),
                               decorate=service.as_items)

    @require("admin", "manager")
    @answers(409, "`duplicate_target`: a target on that metric and period exists; change it "
                  "instead (`details.existing_id`).")
    @blp.arguments(TargetCreateSchema)
    @blp.response(201, TargetSchema)
    def post(self, data):
        """Set a target for a rep, or for the whole team when `rep_id` is left out.

        Managers set targets for their own team only. One target per owner, metric and period.
        """
        target = service.create(viewer=current_user(), data=data)
        db.session.commit()
        return service.as_items([target])[0]


@blp.route("/targets/<target_id>")
class TargetById(MethodView):
    @require("admin", "manager", "rep")
    @blp.response(200, TargetSchema)
    def get(self, target_id):
        """One target with its attainment and pace."""
        return service.as_items([service.get_visible(viewer=current_user(),
                                                     target_id=target_id)])[0]

    @require("admin", "manager")
    @answers(409, "`duplicate_target`: a target on that metric and period exists "
                  "(`details.existing_id`).")
    @blp.arguments(TargetUpdateSchema)
    @blp.response(200, TargetSchema)
    def patch(self, data, target_id):
        """Change a target's goal, metric or period."""
        target = service.update(
            target=service.get_visible(viewer=current_user(), target_id=target_id), changes=data)
        db.session.commit()
        return service.as_items([target])[0]

    @require("admin", "manager")
    @blp.response(204)
    def delete(self, target_id):
        """Remove a target."""
        service.remove(target=service.get_visible(viewer=current_user(), target_id=target_id))
        db.session.commit()
