from flask.views import MethodView

from fieldsales.alerts import service
from fieldsales.alerts.schemas import (
    AlertListArgs,
    AlertPageSchema,
    AlertRulesSchema,
    AlertSchema,
)
from fieldsales.errors import answers
from fieldsales.extensions import Blueprint, db
from fieldsales.users import scope
from fieldsales.users.guard import current_user, require

blp = Blueprint("alerts", __name__, url_prefix="/api/v1",
                description="Manager alerts: rules per team over events, the feed, e-mail.")


@blp.route("/teams/<team_id>/alert-rules")
class TeamAlertRules(MethodView):
    @require("admin", "manager")
    @blp.response(200, AlertRulesSchema)
    def get(self, team_id):
        """A team's alert rules (admins; a manager, their own team's)."""
        return service.rules_of(team=scope.visible_team(viewer=current_user(),
                                                        team_id=team_id))

    @require("admin", "manager")
    @blp.arguments(AlertRulesSchema)
    @blp.response(200, AlertRulesSchema)
    def put(self, data, team_id):
        """Replace a team's alert rules: the event types listed alert from the `alerts`
        job's next run, the others stop."""
        team = scope.visible_team(viewer=current_user(), team_id=team_id)
        answer = service.set_rules(team=team, rules=data["rules"])
        db.session.commit()
        return answer


@blp.route("/alerts")
@require("admin", "manager")
@answers(404, "`not_found`: a manager asked for another team's alerts.")
@blp.arguments(AlertListArgs, location="query", unknown=None)
@blp.response(200, AlertPageSchema)
def alerts(args):
    """The alerts feed, newest first: a manager's team's, an admin's all (or `team_id`'s).
    Pass `next_cursor` back as `cursor` for the next page."""
    return service.feed(viewer=current_user(), **args)


@blp.route("/alerts/<alert_id>/acknowledge", methods=["POST"])
@require("admin", "manager")
@blp.response(200, AlertSchema)
def acknowledge(alert_id):
    """Acknowledge an alert (again: the first acknowledgement stays)."""
    answer = service.acknowledge(viewer=current_user(), alert_id=alert_id)
    db.session.commit()
    return answer
