"""What managers and procurement see: rep days, feedback, territories, data quality, backlog
and demand. Every report is scoped by the caller's role (see fieldsales/users/scope.py)."""
from fieldsales.common import now_ms
from fieldsales.errors import answers
from fieldsales.extensions import Blueprint, db
from fieldsales.listing import Listing
from fieldsales.replica import reads_from_replica
from fieldsales.reports import (
    activity,
    backlog,
    demand,
    duplicates,
    feedback_summary,
    team_overview,
    team_today,
    territory,
)
from fieldsales.reports.activity_schemas import ActivityArgs, ActivitySchema
from fieldsales.reports.backlog_schemas import (
    BacklogArgs,
    BacklogPageSchema,
    BacklogSummaryArgs,
    BacklogSummarySchema,
)
from fieldsales.reports.demand_schemas import DemandArgs, DemandPageSchema, DemandWeeksSchema
from fieldsales.reports.duplicates_schemas import (
    DuplicateArgs,
    DuplicatePageSchema,
    DuplicateSchema,
)
from fieldsales.reports.feedback_summary_schemas import FeedbackSummaryArgs, FeedbackSummarySchema
from fieldsales.reports.team_overview_schemas import OverviewArgs, TeamOverviewSchema
from fieldsales.reports.team_today_schemas import TeamTodaySchema
from fieldsales.reports.territory_schemas import (
    TerritoryArgs,
    TerritoryPageSchema,
    TerritorySchema,
)
from fieldsales.targets.periods import utc_today
from fieldsales.users import hours, scope
from fieldsales.users.guard import current_user, require

blp = Blueprint("reports", __name__, url_prefix="/api/v1",
                description="Reports for managers and procurement: rep days, feedback, "
                            "territories, duplicates, backlog and demand.")


@blp.route("/feedback/summary")
@require("admin", "manager", "procurement", "rep")
@answers(404, "`not_found`: no such team or rep (in your scope).")
@blp.arguments(FeedbackSummaryArgs, location="query", unknown=None)
@blp.response(200, FeedbackSummarySchema)
@reads_from_replica
def feedback_summary_view(args):
    """Feedback over a period: by category, weekly rating trend, most requested and most
    praised products, customers with repeated complaints.

    `from`/`to` are inclusive UTC days (default: the last 30 days). Admins and procurement
    see all feedback, managers their team's, reps their own.
    """
    return feedback_summary.visible(viewer=current_user(), args=args)


DUPLICATES = Listing(
    name="duplicates", item_schema=DuplicateSchema,
    sorts={"name_similarity": "name_similarity", "distance_m": "distance_m"}, id_key="id",
    filters={"reason": lambda reason: lambda pair: reason in pair["reasons"]},
)


@blp.route("/customers/duplicates")
@require("admin", "manager")
@answers(404, "`not_found`: no such team.")
@blp.arguments(DuplicateArgs, location="query", unknown=None)
@blp.response(200, DuplicatePageSchema)
@reads_from_replica
def customer_duplicates(args):
    """Likely duplicate customers: the same phone, or alike names a short distance apart.

    Each pair suggests which record to keep (the one with more visits and orders); merge the
    other into it with `POST /customers/<id>/merge`. Managers see their team's customers,
    admins all (or `team_id`). `?format=csv` exports every pair.
    """
    return DUPLICATES.respond(args=args, items=duplicates.find_visible(
        viewer=current_user(), team_id=args.get("team_id")), decorate=duplicates.add_activity)


TERRITORIES = Listing(
    name="territories", item_schema=TerritorySchema,
    sorts={"load": "load", "rep_name": "rep_name", "customers": "customers",
           "revenue_90d": "revenue_90d"},
    id_key="rep_id",
    filters={"flag": lambda flag: lambda row: row["flag"] == flag},
)


@blp.route("/territories/balance")
@require("admin", "manager")
@answers(404, "`not_found`: no such team.")
@blp.arguments(TerritoryArgs, location="query", unknown=None)
@blp.response(200, TerritoryPageSchema)
@reads_from_replica
def territory_balance(args):
    """Territory balance per rep: customers (accounts / prospects), trailing 90-day revenue,
    visits needed at the visit cadence vs visits possible, and a flag.

    Overloaded reps list the teammates who could take over customers, nearest first.
    Managers see their team, admins all (or `team_id`). `?format=csv` exports every rep.
    """
    rows = territory.visible(viewer=current_user(), team_id=args.get("team_id"))
    return TERRITORIES.respond(args=args, items=rows)


@blp.route("/reps/<rep_id>/activity")
@require("admin", "manager", "rep")
@blp.arguments(ActivityArgs, location="query", unknown=None)
@blp.response(200, ActivitySchema)
@reads_from_replica
def rep_activity(args, rep_id):
    """A rep's day: visits (verified or not, how far, time on site), stops detected from the
    pings (at a customer or at none), the trail between stops with travel distance (flagged
    pings shown, left out of distances; a stop is named only after a customer the viewer may
    see), tasks done, orders taken, feedback captured, first and last activity, and selling
    vs non-selling time.

    The day is the rep's team's local day (default: today there). Others never see the rep's
    positions outside the team's working hours, and each view of them is logged for the rep
    (`GET /api/v1/users/me/position-views`). Managers see their own reps, reps themselves,
    admins anyone; procurement never sees a rep's day (403).
    """
    viewer = current_user()
    rep = scope.visible_rep(viewer=viewer, rep_id=rep_id)
    report = activity.get(viewer=viewer, rep=rep,
                          day=args.get("date") or hours.local_day(rep.team, now_ms()))
    db.session.commit()  # the position access log
    return report


@blp.route("/teams/<team_id>/overview")
@require("admin", "manager")
@blp.arguments(OverviewArgs, location="query", unknown=None)
@blp.response(200, TeamOverviewSchema)
@reads_from_replica
def team_overview_view(args, team_id):
    """A team over a day, week or month: each rep's productivity score with its components,
    rates and figures, their target attainment, a leaderboard, and the team total.

    Scores come from the productivity job (`computed_at` says when; null: not run yet).
    A month is the weeks starting in it. Managers see their own team, admins any.
    """
    team = scope.visible_team(viewer=current_user(), team_id=team_id)
    return team_overview.get(team=team, period=args["period"],
                             day=args.get("date") or utc_today())


@blp.route("/teams/<team_id>/today")
@require("admin", "manager")
@blp.response(200, TeamTodaySchema)
@reads_from_replica
def team_today_view(team_id):
    """Where a team's reps are now: each rep's status (on a visit at a customer since when,
    travelling, idle, silent for N minutes, off duty) and last on-duty position.

    Positions are only pings inside the team's working hours, from the last
    TODAY_LOOKBACK_DAYS; flagged pings never count; each rep's shown position is logged for
    the rep. Managers see their own team, admins any.
    """
    viewer = current_user()
    team = scope.visible_team(viewer=viewer, team_id=team_id)
    report = team_today.get(viewer=viewer, team=team, now=now_ms())
    db.session.commit()  # the position access log
    return report


@blp.route("/backlog")
@require("admin", "procurement", "manager", "rep")
@blp.arguments(BacklogArgs, location="query", unknown=None)
@blp.response(200, BacklogPageSchema)
@reads_from_replica
def backlog_list(args):
    """Open orders in dispatch-priority order, with the reasons for their rank, the stock
    that can fill each line now and the promised dispatch date.

    Filter by `customer_id`, `rep_id`, `product_id`, `min_age_days` and `late_only`.
    Admins and procurement see every order, managers their team's, reps their own.
    `?format=csv` exports every matching order (lines as JSON in one cell).
    """
    return backlog.respond(viewer=current_user(), args=args)


@blp.route("/backlog/summary")
@require("admin", "procurement", "manager", "rep")
@answers(404, "`not_found`: no such team or rep (in your scope).")
@blp.arguments(BacklogSummaryArgs, location="query", unknown=None)
@blp.response(200, BacklogSummarySchema)
@reads_from_replica
def backlog_summary(args):
    """Backlog health over a period (default the last 30 days) and its trend against the
    period of the same length before: backlog value and quantity, age buckets, backlog ratio,
    average lead time and on-time share.

    Admins and procurement see all orders (or `team_id` / `rep_id`), managers their team's,
    reps their own.
    """
    return backlog.health(viewer=current_user(), args=args)


@blp.route("/demand")
@require("admin", "procurement", "manager")
@blp.arguments(DemandArgs, location="query", unknown=None)
@blp.response(200, DemandPageSchema)
@reads_from_replica
def demand_list(args):
    """Products with last week's demand, the forecast and its trend, the open backlog,
    feedback requests, stock, days of cover and the reorder suggestion; flagged products
    (rising demand, or stock short of the backlog) first, then the fewest days of cover.

    Figures are as of the demand job's last run (`computed_at`). `?format=csv` exports all.
    """
    return demand.respond(args=args)


@blp.route("/demand/<product_id>/weeks")
@require("admin", "procurement", "manager")
@blp.response(200, DemandWeeksSchema)
@reads_from_replica
def demand_weeks(product_id):
    """A product's weekly demand over the last 12 weeks the demand job kept, oldest first:
    the ordered quantity, the smoothed level and trend, and the forecast each week made for
    the next (the console's demand chart draws these)."""
    return demand.product_weeks(product_id=product_id)
