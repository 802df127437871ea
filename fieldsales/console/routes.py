"""The web console's pages (docs/console.md): server-rendered, over the same services and
reports as the API, scoped by the same rules (`users/scope.py`).

A page: `@blp.get(...)` + `@page(roles...)` (session.py), parse its query or form with the
API's schema (`forms.load`), call the report or service, render a template. Writes commit
once, then redirect (post/redirect/get) with a flashed message.
"""
import json
import logging
from datetime import timedelta
from typing import Any

import marshmallow as ma
from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from fieldsales.alerts import service as alerts_service
from fieldsales.alerts.schemas import AlertListArgs
from fieldsales.auth import service as auth_service
from fieldsales.auth.schemas import LoginSchema
from fieldsales.common import DAY_MS, ROLES, now_ms
from fieldsales.console import charts, forms, session
from fieldsales.console.session import page
from fieldsales.customers import service as customers_service
from fieldsales.customers.merge import merge
from fieldsales.customers.models import CUSTOMER_KINDS, Customer
from fieldsales.customers.routes import LISTING as CUSTOMERS
from fieldsales.customers.schemas import (
    CustomerCreateSchema,
    CustomerListArgs,
    CustomerUpdateSchema,
)
from fieldsales.errors import ApiError
from fieldsales.events.service import TYPES as EVENT_TYPES
from fieldsales.extensions import db
from fieldsales.imports import service as imports_service
from fieldsales.imports.routes import ROLES as IMPORT_ROLES
from fieldsales.jobs.models import JOB_STATUSES, JobRun
from fieldsales.jobs.routes import LOG as JOB_RUNS
from fieldsales.jobs.runner import job_names, run_job
from fieldsales.jobs.schemas import JobRunListArgs
from fieldsales.orders import service as orders_service
from fieldsales.orders.schemas import DeliveryCreateSchema
from fieldsales.plans import editing as plans_editing
from fieldsales.plans.models import PlannedVisit
from fieldsales.plans.schemas import PlannedVisitCreateSchema, PlannedVisitUpdateSchema
from fieldsales.replica import reads_from_replica
from fieldsales.reports import (
    activity,
    duplicates,
    feedback_summary,
    team_overview,
    team_today,
    territory,
)
from fieldsales.reports import backlog as backlog_report
from fieldsales.reports import demand as demand_report
from fieldsales.reports.activity_schemas import ActivityArgs
from fieldsales.reports.backlog_schemas import BacklogArgs, BacklogSummaryArgs
from fieldsales.reports.demand_schemas import DemandArgs
from fieldsales.reports.duplicates_schemas import DUPLICATE_REASONS, DuplicateArgs
from fieldsales.reports.feedback_summary_schemas import FeedbackSummaryArgs
from fieldsales.reports.routes import DUPLICATES, TERRITORIES
from fieldsales.reports.team_overview_schemas import OVERVIEW_PERIODS, OverviewArgs
from fieldsales.reports.territory_schemas import TERRITORY_FLAGS, TerritoryArgs
from fieldsales.sync import history as sync_history
from fieldsales.sync import quarantine
from fieldsales.sync.models import QuarantinedRecord
from fieldsales.sync.schemas import (
    QUARANTINE_STATUSES,
    QuarantineListArgs,
    ReplaySchema,
    SyncLogArgs,
)
from fieldsales.sync.tables import TABLES as SYNC_TABLES
from fieldsales.targets import periods
from fieldsales.targets import service as targets_service
from fieldsales.targets.models import TARGET_METRICS, TARGET_PERIODS
from fieldsales.targets.periods import utc_today
from fieldsales.targets.routes import LISTING as TARGETS
from fieldsales.targets.schemas import TargetCreateSchema, TargetListArgs, TargetUpdateSchema
from fieldsales.users import hours, scope
from fieldsales.users import service as users_service
from fieldsales.users.credentials import issue_token, revoke_token
from fieldsales.users.models import SELLING_STYLES, Team, User
from fieldsales.users.routes import LISTING as USERS
from fieldsales.users.schemas import (
    TeamWorkingHoursSchema,
    UserCreateSchema,
    UserListArgs,
    UserUpdateSchema,
)
from fieldsales.webhooks import service as webhooks_service
from fieldsales.webhooks.routes import LOG as WEBHOOK_LOG
from fieldsales.webhooks.schemas import DELIVERY_STATUSES, SubscriptionCreateSchema

log = logging.getLogger(__name__)

blp = Blueprint("console", __name__, template_folder="templates", static_folder="static",
                static_url_path="/console/static")
blp.before_request(session.check_csrf)

MANAGING = ("admin", "manager")
# The navigation: (endpoint, label, roles, group), in the menu's order. A new page adds its
# line here. On a phone a long menu (more than PHONE_MENU_AT links) folds into a "Menu"
# disclosure that lists the links by group; on a laptop it is one row.
NAV = (
    ("console.today", "Today", MANAGING, "Field"),
    ("console.my_day", "My day", ("rep",), "Field"),
    ("console.team", "Team", MANAGING, "Field"),
    ("console.plans", "Plans", MANAGING, "Field"),
    ("console.targets", "Targets", MANAGING, "Field"),
    ("console.alerts", "Alerts", MANAGING, "Field"),
    ("console.customers", "Customers", ("admin", "manager", "procurement", "rep"), "Customers"),
    ("console.duplicates_list", "Duplicates", MANAGING, "Customers"),
    ("console.backlog", "Backlog", ("admin", "procurement", "manager"), "Stock"),
    ("console.demand", "Demand", ("admin", "procurement", "manager"), "Stock"),
    ("console.feedback", "Feedback", ("admin", "manager", "procurement", "rep"), "Reports"),
    ("console.territories", "Territories", MANAGING, "Reports"),
    ("console.imports", "Imports", ("admin", "manager", "procurement"), "Admin"),
    ("console.job_runs", "Jobs", ("admin", "manager", "procurement"), "Admin"),
    ("console.quarantine_list", "Quarantine", ("admin",), "Admin"),
    ("console.sync_log", "Sync log", MANAGING, "Admin"),
    ("console.users", "Users", ("admin",), "Admin"),
    ("console.webhooks", "Webhooks", ("admin",), "Admin"),
)
PHONE_MENU_AT = 5
LANDING = {"admin": "console.today", "manager": "console.today", "rep": "console.my_day",
           "procurement": "console.backlog"}


@blp.app_context_processor
def _helpers():
    return {"csrf_token": session.csrf_token, "clock": clock, "moment": moment,
            "duration": duration,
            "tile_url": current_app.config["CONSOLE_TILE_URL"],
            "tile_attribution": current_app.config["CONSOLE_TILE_ATTRIBUTION"]}


def clock(ms: int | None) -> str:
    """An instant as the console shows it: HH:MM UTC (the reports' day is the UTC day)."""
    if ms is None:
        return "—"
    seconds = ms // 1000
    return f"{seconds // 3600 % 24:02d}:{seconds // 60 % 60:02d}"


def moment(ms: int | None) -> str:
    """An instant with its day when that is not today (UTC): "17:26" or "Tue 01 Dec 17:26"."""
    if ms is None:
        return "—"
    if ms // DAY_MS == now_ms() // DAY_MS:
        return clock(ms)
    return f"{periods.ms_date(ms).strftime('%a %d %b')} {clock(ms)}"


def duration(seconds: float | None) -> str:
    if not seconds:
        return "0 min"
    minutes = int(seconds // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def render(template: str, user: User | None, status: int = 200, **context):
    links = [(endpoint, label, group) for endpoint, label, roles, group in NAV
             if user is not None and user.role in roles]
    groups: dict[str, list[tuple[str, str]]] = {}
    for endpoint, label, group in links:
        groups.setdefault(group, []).append((endpoint, label))
    # The menu's current page: this endpoint's, or the page a form posted back to (POST
    # /imports answers the Imports page).
    here = next((label for endpoint, label, _ in links if endpoint == request.endpoint
                 or url_for(endpoint) == request.path), None)
    return render_template(template, user=user, nav=[link[:2] for link in links], here=here,
                           nav_groups=list(groups.items()) if len(links) > PHONE_MENU_AT
                           else [], **context), status


# --- errors: pages, not JSON ---------------------------------------------------------------
@blp.errorhandler(ApiError)
def _refused(error: ApiError):
    db.session.rollback()
    return render("error.html", session.signed_in_user(), error.status,
                  title=_TITLES.get(error.status, "Refused"), message=error.message)


@blp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    db.session.rollback()
    return render("error.html", session.signed_in_user(), error.code or 500,
                  title=error.name, message=error.description)


@blp.errorhandler(Exception)
def _unexpected(error: Exception):
    log.exception("Unhandled error in the console", exc_info=error)
    db.session.rollback()
    return render("error.html", None, 500, title="Something went wrong",
                  message="The page could not be shown. Try again shortly.")


_TITLES = {403: "Not allowed", 404: "Not found", 409: "Conflict", 422: "Check the form",
           429: "Too many attempts"}


# --- sign-in ----------------------------------------------------------------------------
@blp.route("/signin", methods=["GET", "POST"])
def signin():
    wanted = session.local_path(request.values.get("next"))
    user = session.signed_in_user()
    if request.method == "GET":
        if user is not None:
            return redirect(wanted or url_for("console.home"))
        return render("signin.html", None, values={}, errors={}, next=wanted)
    data, errors = forms.load(LoginSchema(), request.form, fields=("email", "password"),
                              verbatim=("password",))
    status = 422
    if data is not None:
        try:
            user = auth_service.authenticate(email=data["email"], password=data["password"],
                                             address=(request.remote_addr or "unknown")[:64])
        except ApiError as error:
            db.session.rollback()
            errors, status = {forms.FORM: [error.message]}, error.status
        else:
            token, _ttl = issue_token(user=user)
            db.session.commit()
            session.start(token=token)
            return redirect(wanted or url_for("console.home"))
    return render("signin.html", None, status, values={"email": request.form.get("email", "")},
                  errors=errors, next=wanted)


@blp.post("/signout")
def signout():
    token = session.end()
    if token:
        revoke_token(token=token)
        db.session.commit()
    flash("You are signed out.")
    return redirect(url_for("console.signin"))


@blp.get("/")
@page()
def home(user: User):
    if user.role in LANDING:
        return redirect(url_for(LANDING[user.role]))
    return render("home.html", user)


# --- today ------------------------------------------------------------------------------
def _teams(user: User) -> list[Team]:
    return list(db.session.scalars(select(Team).where(
        scope.team_clause(viewer=user, team_column=Team.id)).order_by(Team.name, Team.id)))


def _reps(user: User) -> list[User]:
    """The reps the user may look at, by name."""
    return list(db.session.scalars(
        select(User).where(User.role == "rep", User.deleted_at.is_(None),
                           scope.rep_clause(viewer=user, rep_column=User.id))
        .order_by(User.name, User.id)))


def _team(user: User, teams: list[Team]) -> Team | None:
    """The team a page shows: the manager's own; for admins `?team=`, else the first."""
    wanted = request.args.get("team") or (user.team_id if user.role == "manager" else None)
    if wanted:
        return scope.visible_team(viewer=user, team_id=wanted)
    return teams[0] if teams else None


@blp.get("/today")
@page(*MANAGING)
@reads_from_replica
def today(user: User):
    teams = _teams(user)
    team = _team(user, teams)
    if team is None:
        return render("no_team.html", user)
    live = team_today.get(viewer=user, team=team, now=now_ms())  # as GET /teams/<id>/today
    db.session.commit()  # the position access log
    overview = team_overview.get(team=team, period="day", day=utc_today())
    figures = {row["rep"]["id"]: row["figures"] for row in overview["reps"]}
    return render("today.html", user, teams=teams, team=team, live=live, overview=overview,
                  figures=figures)


# --- a rep's day --------------------------------------------------------------------------
@blp.get("/me")
@page("rep")
@reads_from_replica
def my_day(user: User):
    return rep_day.__wrapped__(user, rep_id=user.id)


@blp.get("/reps/<rep_id>/day")
@page("admin", "manager", "rep")
@reads_from_replica
def rep_day(user: User, rep_id: str):
    rep = scope.visible_rep(viewer=user, rep_id=rep_id)
    args, errors = forms.load(ActivityArgs(), request.args, fields=("date",))
    day = (args or {}).get("date") or hours.local_day(rep.team, now_ms())
    report = activity.get(viewer=user, rep=rep, day=day)
    db.session.commit()  # the position access log
    reps = [] if user.role == "rep" else _reps(user)
    skipped = {skip["customer_id"] for skip in report["plan"]["skips"]}
    skip_names = {c.id: c.name for c in db.session.scalars(customers_service.visible(
        viewer=user).where(Customer.id.in_(skipped)))} if skipped else {}
    return render("rep_day.html", user, 200 if not errors else 422, rep=rep, day=day,
                  skip_names=skip_names,
                  report=report, geofences=activity.geofences(report), reps=reps,
                  errors=errors, values=request.args, previous_day=day - timedelta(days=1),
                  next_day=day + timedelta(days=1))


# --- journey plans --------------------------------------------------------------------------
def _plan_page(user: User, status: int = 200, *, errors=None, failed: str | None = None,
               values=None):
    """A rep's planned visits of a day (as GET /planned-visits?rep_id=&planned_date=), the
    stops in order on the map from the start point; the forms of PATCH, DELETE and POST."""
    teams = _teams(user)
    team = _team(user, teams)
    if team is None:
        return render("no_team.html", user)
    reps = [rep for rep in _reps(user) if rep.team_id == team.id]
    wanted = (values or request.args).get("rep") or request.args.get("rep")
    rep = (scope.visible_rep(viewer=user, rep_id=wanted) if wanted
           else (reps[0] if reps else None))
    if rep is not None and rep.team is not None and rep.team_id != team.id:
        team = rep.team  # an admin's rep of another team: that team's page
        reps = [other for other in _reps(user) if other.team_id == team.id]
    query = dict(request.args)
    if values and values.get("back_date"):
        query["date"] = values["back_date"]
    args, query_errors = forms.load(ActivityArgs(), query, fields=("date",))
    day = ((args or {}).get("date") or hours.local_day(rep.team if rep else team, now_ms()))
    stops: list[PlannedVisit] = []
    customers: dict = {}
    assigned: list = []
    if rep is not None:
        stops = list(db.session.scalars(plans_editing.visible(viewer=user).where(
            PlannedVisit.rep_id == rep.id, PlannedVisit.planned_date == day.isoformat())
            .order_by(PlannedVisit.sequence, PlannedVisit.id)))
        assigned = list(db.session.scalars(customers_service.visible(viewer=user).where(
            Customer.assigned_rep_id == rep.id,
            Customer.merged_into_id.is_(None))
            .order_by(Customer.name, Customer.id)))
        customers = {c.id: c for c in assigned}
        missing = {s.customer_id for s in stops} - set(customers)
        if missing:
            customers.update((c.id, c) for c in db.session.scalars(
                select(Customer).where(
                    Customer.id.in_(missing))))
    start = (None if rep is None or rep.start_latitude is None or rep.start_longitude is None
             else {"latitude": rep.start_latitude, "longitude": rep.start_longitude})
    points = [{"latitude": customers[s.customer_id].latitude,
               "longitude": customers[s.customer_id].longitude,
               "number": number, "status": s.status,
               "label": f"{number}. {customers[s.customer_id].name} ({s.status})"}
              for number, s in enumerate(stops, start=1) if s.customer_id in customers]
    errors = {**query_errors, **(errors or {})}
    return render("plans.html", user, status if not query_errors else 422, teams=teams,
                  team=team, reps=reps, rep=rep, day=day, stops=stops, customers=customers,
                  assigned=assigned, start=start, points=points, errors=errors,
                  failed=failed, values=values or {}, previous_day=day - timedelta(days=1),
                  next_day=day + timedelta(days=1))


def _plan_back(planned: PlannedVisit, day: str | None = None):
    rep = db.session.get(User, planned.rep_id)
    return redirect(url_for("console.plans", rep=planned.rep_id, date=day or planned.planned_date,
                            team=rep.team_id if rep is not None else None))


@blp.get("/plans")
@page(*MANAGING)
def plans(user: User):
    return _plan_page(user)


@blp.post("/plans/add")
@page(*MANAGING)
def plan_add(user: User):
    """Add a stop, as POST /planned-visits (after the day's last stop, locked)."""
    data, errors = forms.load(PlannedVisitCreateSchema(), request.form,
                              fields=("rep_id", "customer_id", "planned_date"))
    if data is not None:
        planned, errors = forms.attempt(
            lambda: plans_editing.create(viewer=user, data=data))
        if not errors and planned is not None:
            db.session.commit()
            flash("Stop added.")
            return _plan_back(planned)
    return _plan_page(user, 422, errors=errors, failed="add",
                      values={**request.form, "rep": request.form.get("rep_id", "")})


_PLAN_ACTIONS = ("up", "down", "lock", "unlock", "move")


@blp.post("/plans/<planned_visit_id>/change")
@page(*MANAGING)
def plan_change(user: User, planned_visit_id: str):
    """Reorder (swap with the stop before or after), move to another day, lock or unlock:
    PATCH /planned-visits/<id>, the same service."""
    planned = plans_editing.get(viewer=user, planned_visit_id=planned_visit_id)
    action = request.form.get("action", "")
    errors: dict[str, list[str]] = {}
    if action not in _PLAN_ACTIONS:
        errors = {forms.FORM: [f"The action must be one of: {', '.join(_PLAN_ACTIONS)}."]}
    elif action in ("up", "down"):
        day = list(db.session.scalars(plans_editing.visible(viewer=user).where(
            PlannedVisit.rep_id == planned.rep_id,
            PlannedVisit.planned_date == planned.planned_date)
            .order_by(PlannedVisit.sequence, PlannedVisit.id)))
        at = day.index(planned)
        other_at = at - 1 if action == "up" else at + 1
        if not 0 <= other_at < len(day):
            end = "first" if action == "up" else "last"
            errors = {forms.FORM: [f"This stop is already the {end} of its day."]}
        else:
            other = day[other_at]
            # Distinct numbers in the new order, whatever the old ones were.
            first, second = sorted((planned.sequence, other.sequence))
            if first == second:
                second = first + 1
            mine, theirs = (first, second) if action == "up" else (second, first)

            def swap():
                plans_editing.update(planned=other, changes={"sequence": theirs})
                plans_editing.update(planned=planned, changes={"sequence": mine})
            _, errors = forms.attempt(swap)
    else:
        submitted = ({"locked": "true" if action == "lock" else "false"} if action != "move"
                     else request.form)
        fields = ("locked",) if action != "move" else ("planned_date",)
        data, errors = forms.load(PlannedVisitUpdateSchema(), submitted, fields=fields)
        if data is not None and action == "move" and "planned_date" not in data:
            data, errors = None, {"planned_date": ["Pick the day to move the stop to."]}
        if data is not None:
            _, errors = forms.attempt(
                lambda: plans_editing.update(planned=planned, changes=data))
    if not errors:
        db.session.commit()
        flash({"up": "Stop moved up.", "down": "Stop moved down.", "lock": "Stop locked.",
               "unlock": "Stop unlocked.", "move": "Stop moved to another day."}[action])
        return _plan_back(planned, day=request.form.get("back_date"))
    planned = plans_editing.get(viewer=user, planned_visit_id=planned_visit_id)
    return _plan_page(user, 422, errors=errors, failed=planned.id,
                      values={"back_date": planned.planned_date, **request.form,
                              "rep": planned.rep_id})


@blp.post("/plans/<planned_visit_id>/remove")
@page(*MANAGING)
def plan_remove(user: User, planned_visit_id: str):
    """Remove a stop, as DELETE /planned-visits/<id> (a done one stays)."""
    planned = plans_editing.get(viewer=user, planned_visit_id=planned_visit_id)
    _, errors = forms.attempt(lambda: plans_editing.remove(planned=planned))
    if not errors:
        db.session.commit()
        flash("Stop removed.")
        return _plan_back(planned)
    planned = plans_editing.get(viewer=user, planned_visit_id=planned_visit_id)
    return _plan_page(user, 409, errors=errors, failed=planned.id,
                      values={"rep": planned.rep_id, "back_date": planned.planned_date})


# --- imports ------------------------------------------------------------------------------
IMPORTERS = ("admin", "manager", "procurement")  # each imports the kinds IMPORT_ROLES gives


def _import_kinds(user: User) -> list[str]:
    return [kind for kind, roles in IMPORT_ROLES.items() if user.role in roles]


def _imports_page(user: User, status: int = 200, *, errors=None, values=None, report=None,
                  refusal=None):
    runs = imports_service.recent_runs(viewer=user)
    return render("imports.html", user, status, kinds=_import_kinds(user), runs=runs,
                  answers={run.id: json.loads(run.answer) for run in runs},
                  errors=errors or {}, values=values or {}, report=report, refusal=refusal)


@blp.get("/imports")
@page(*IMPORTERS)
def imports(user: User):
    return _imports_page(user)


@blp.post("/imports")
@page(*IMPORTERS)
def import_file(user: User):
    """Upload a CSV or XLSX file, as POST /imports/<kind> with a multipart file: the same
    service (imports.service.execute, all or nothing), its report shown as the API answers
    it; recorded in the import runs."""
    kind = request.form.get("kind", "")
    dry_run = request.form.get("dry_run") == "true"
    values = {"kind": kind, "dry_run": dry_run}
    errors: dict[str, list[str]] = {}
    kinds = _import_kinds(user)
    if kind not in kinds:
        errors["kind"] = [f"Choose one of: {', '.join(kinds)}."]
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        errors["file"] = ["Choose a .csv or .xlsx file."]
    elif not upload.filename.lower().endswith((".csv", ".xlsx")):
        errors["file"] = ["Only .csv and .xlsx files can be imported."]
    if errors or upload is None or not upload.filename:
        return _imports_page(user, 422, errors=errors, values=values)
    file_format = "xlsx" if upload.filename.lower().endswith(".xlsx") else "csv"
    source, digest = imports_service.spool(stream=upload.stream)
    try:
        with source:
            report, status, answer, refusal = imports_service.execute(
                kind=kind, viewer=user, dry_run=dry_run, source=source,
                file_format=file_format)
    except ApiError as error:  # the file cannot be read
        db.session.rollback()
        return _imports_page(user, error.status, values=values,
                             errors={"file": forms.errors_of(error).get("file")
                                     or [error.message]})
    if not (report.failed or report.dry_run):
        imports_service.record(
            viewer=user, kind=kind, key=None, report=report, status=status, answer=answer,
            hashed=imports_service.body_hash(kind=kind, dry_run=dry_run, digest=digest))
    db.session.commit()
    return _imports_page(user, status, values=values, report=answer if refusal is None else None,
                         refusal=answer["error"] if refusal is not None else None)


# --- team ---------------------------------------------------------------------------------
@blp.get("/team")
@page(*MANAGING)
@reads_from_replica
def team(user: User):
    teams = _teams(user)
    chosen = _team(user, teams)
    if chosen is None:
        return render("no_team.html", user)
    args, errors = forms.load(OverviewArgs(), request.args, fields=("period", "date"))
    args = args or OverviewArgs().load({})
    overview = team_overview.get(team=chosen, period=args["period"],
                                 day=args["date"] or utc_today())
    return render("team.html", user, 200 if not errors else 422, teams=teams, team=chosen,
                  overview=overview, periods=OVERVIEW_PERIODS, errors=errors,
                  values=request.args, components=team_overview.COMPONENTS)


# --- working hours ------------------------------------------------------------------------
def _hours_values(hours_now: dict) -> dict:
    """The API's working hours as the form's fields."""
    values = {"time_zone": hours_now["time_zone"],
              "keep_off_duty_positions": hours_now["keep_off_duty_positions"]}
    for day, span in hours_now["days"].items():
        values[f"{day}_off"] = span is None
        values[f"{day}_start"], values[f"{day}_end"] = span or ("", "")
    return values


def _hours_body(form) -> dict:
    """The form as the body of PUT /api/v1/teams/<id>/working-hours."""
    return {"time_zone": (form.get("time_zone") or "").strip(),
            "keep_off_duty_positions": form.get("keep_off_duty_positions") == "true",
            "days": {day: None if form.get(f"{day}_off") == "true" else
                     [(form.get(f"{day}_start") or "").strip(),
                      (form.get(f"{day}_end") or "").strip()]
                     for day in hours.WEEKDAYS}}


def _hours_errors(messages: dict) -> dict[str, list[str]]:
    """The schema's messages by the form's fields (a day's go next to its start)."""
    errors: dict[str, list[str]] = {}
    for name, problem in messages.items():
        if name == "days" and isinstance(problem, dict):
            for day, day_problem in problem.items():
                errors[f"{day}_start"] = forms.texts(day_problem)
        else:
            errors[forms.FORM if name == "_schema" else name] = forms.texts(problem)
    return errors


@blp.route("/hours", methods=["GET", "POST"])
@page(*MANAGING)
def working_hours(user: User):
    """A team's working hours, as PUT /api/v1/teams/<id>/working-hours sets them."""
    teams = _teams(user)
    team = _team(user, teams)
    if team is None:
        return render("no_team.html", user)
    values, errors = _hours_values(users_service.working_hours(team=team)), {}
    if request.method == "POST":
        body = _hours_body(request.form)
        try:
            data = TeamWorkingHoursSchema().load(body)
        except ma.ValidationError as error:
            errors = _hours_errors(error.messages_dict)
        else:
            users_service.set_working_hours(team=team, **data)
            db.session.commit()
            flash("Working hours saved.")
            return redirect(url_for("console.working_hours", team=team.id))
        values = {**request.form, **{f"{day}_off": request.form.get(f"{day}_off") == "true"
                                     for day in hours.WEEKDAYS},
                  "keep_off_duty_positions": body["keep_off_duty_positions"]}
    return render("hours.html", user, 422 if errors else 200, teams=teams, team=team,
                  values=values, errors=errors, weekdays=hours.WEEKDAYS)


# --- targets ------------------------------------------------------------------------------
TARGET_FIELDS = ("team_id", "rep_id", "metric", "period", "period_start", "goal")


TARGET_FILTERS = ("rep_id", "metric", "period", "active_on")


def _target_list_args(extra: dict) -> tuple[dict, dict]:
    """The list's arguments from the page's filters, as GET /targets takes them (a bad one:
    the page answers 422 with the message by its field, listing as without it)."""
    args, errors = forms.load(TargetListArgs(), {**request.args, **extra},
                              fields=("cursor", "format", *TARGET_FILTERS))
    if errors:
        args, _ = forms.load(TargetListArgs(), extra, fields=("format",))
    return args or {}, errors


@blp.get("/targets")
@page(*MANAGING)
@reads_from_replica
def targets(user: User):
    """Targets as GET /targets, filtered by rep, metric, period and a day in the period; the
    exports carry the same filters."""
    args, errors = _target_list_args({})
    listing = TARGETS.respond(args=args, query=targets_service.visible_targets(user),
                              decorate=targets_service.as_items)
    keep = {k: v for k, v in request.args.items() if k in TARGET_FILTERS and v and not errors}
    return render("targets.html", user, 422 if errors else 200, page=listing,
                  names=_names(listing["items"]), errors=errors, values=request.args,
                  keep=keep, rep_options=[(r.id, r.name) for r in _reps(user)],
                  metric_options=[(m, m.replace("_", " ")) for m in TARGET_METRICS],
                  period_options=[(p, p) for p in TARGET_PERIODS])


@blp.get("/targets.csv")
@page(*MANAGING)
@reads_from_replica
def targets_csv(user: User):
    return _targets_export(user, "csv")


@blp.get("/targets.xlsx")
@page(*MANAGING)
@reads_from_replica
def targets_xlsx(user: User):
    return _targets_export(user, "xlsx")


def _targets_export(user: User, export: str):
    args, errors = _target_list_args({"format": export})
    if errors:
        raise ApiError(422, "validation_error", _sentence(errors))
    return TARGETS.respond(args=args, query=targets_service.visible_targets(user),
                           decorate=targets_service.as_items)


def _names(items: list[dict]) -> dict[str, str]:
    ids = {i["rep_id"] for i in items if i["rep_id"]} | {i["team_id"] for i in items}
    users = db.session.execute(select(User.id, User.name).where(User.id.in_(ids))).tuples()
    teams = db.session.execute(select(Team.id, Team.name).where(Team.id.in_(ids))).tuples()
    return {**dict(users.all()), **dict(teams.all())}


def _target_form(user: User, status: int, *, target: dict | None, values, errors):
    teams, reps = _teams(user), _reps(user)
    owner = None if target is None else _names([target]).get(target["rep_id"] or
                                                             target["team_id"])
    return render("target_form.html", user, status, target=target, owner=owner, values=values,
                  errors=errors, team_options=[(t.id, t.name) for t in teams],
                  rep_options=[(r.id, r.name) for r in reps],
                  metric_options=[(m, m.replace("_", " ")) for m in TARGET_METRICS],
                  period_options=[(p, p) for p in TARGET_PERIODS])


@blp.route("/targets/new", methods=["GET", "POST"])
@page(*MANAGING)
def target_new(user: User):
    if request.method == "GET":
        start = utc_today().replace(day=1)
        return _target_form(user, 200, target=None, errors={}, values={
            "period": "month", "period_start": start.isoformat(), "metric": "visits"})
    data, errors = forms.load(TargetCreateSchema(), request.form, fields=TARGET_FIELDS,
                              blank_as_none=("team_id", "rep_id"))
    if data is not None:
        _, errors = forms.attempt(lambda: targets_service.create(viewer=user, data=data))
        if not errors:
            db.session.commit()
            flash("Target created.")
            return redirect(url_for("console.targets"))
    return _target_form(user, 422, target=None, values=request.form, errors=errors)


@blp.route("/targets/<target_id>/edit", methods=["GET", "POST"])
@page(*MANAGING)
def target_edit(user: User, target_id: str):
    target = targets_service.get_visible(viewer=user, target_id=target_id)
    item = targets_service.as_items([target])[0]
    if request.method == "GET":
        return _target_form(user, 200, target=item, values=item, errors={})
    data, errors = forms.load(TargetUpdateSchema(), request.form,
                              fields=("metric", "period", "period_start", "goal"))
    if data is not None:
        _, errors = forms.attempt(lambda: targets_service.update(target=target, changes=data))
        if not errors:
            db.session.commit()
            flash("Target saved.")
            return redirect(url_for("console.targets"))
    return _target_form(user, 422, target=item, values=request.form, errors=errors)


@blp.post("/targets/<target_id>/delete")
@page(*MANAGING)
def target_delete(user: User, target_id: str):
    targets_service.remove(target=targets_service.get_visible(viewer=user, target_id=target_id))
    db.session.commit()
    flash("Target deleted.")
    return redirect(url_for("console.targets"))



# === Admin and customers (branch console-admin): the sync quarantine, duplicate customers ===
# The same services as the API's routes: sync/quarantine.py (GET/POST /sync/quarantine...),
# reports/duplicates.py and customers/merge.py (GET /customers/duplicates, POST .../merge).
def _user_names(ids) -> dict[str, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return dict(db.session.execute(select(User.id, User.name).where(User.id.in_(wanted)))
                .tuples().all())


@blp.get("/admin/quarantine")
@page("admin")
@reads_from_replica
def quarantine_list(user: User):
    args, errors = forms.load(QuarantineListArgs(), {"status": "pending", **request.args},
                              fields=("status", "table", "cursor"))
    listing = quarantine.LOG.page(args=args or QuarantineListArgs().load({"status": "pending"}),
                                  query=select(QuarantinedRecord))
    return render("quarantine.html", user, 200 if not errors else 422, page=listing,
                  names=_user_names(e.user_id for e in listing["items"]), errors=errors,
                  values={"status": "pending", **request.args},
                  status_options=[(s, s.capitalize()) for s in QUARANTINE_STATUSES],
                  table_options=[(t, t.replace("_", " ")) for t in SYNC_TABLES])


def _quarantine_entry_page(user: User, entry: QuarantinedRecord, status: int = 200, *,
                           record: str | None = None, errors=None):
    original = json.dumps(entry.payload, indent=2, sort_keys=True, ensure_ascii=False)
    return render("quarantine_entry.html", user, status, entry=entry,
                  names=_user_names((entry.user_id, entry.resolved_by_id)),
                  record=original if record is None else record, original=original,
                  errors=errors or {})


@blp.get("/admin/quarantine/<quarantine_id>")
@page("admin")
def quarantine_entry(user: User, quarantine_id: str):
    return _quarantine_entry_page(user, quarantine.get(quarantine_id=quarantine_id))


@blp.post("/admin/quarantine/<quarantine_id>/replay")
@page("admin")
def quarantine_replay(user: User, quarantine_id: str):
    """The record as edited in the form (unchanged: replayed as pushed); bad JSON or a record
    that still fails is shown by the field, the entry stays pending."""
    entry = quarantine.get(quarantine_id=quarantine_id)
    typed = request.form.get("record", "")
    try:
        record = json.loads(typed)
    except ValueError as error:
        return _quarantine_entry_page(user, entry, 422, record=typed, errors={
            "record": [f"Not valid JSON: {error}."]})
    try:
        data = ReplaySchema().load({"record": record})
    except ma.ValidationError as error:
        return _quarantine_entry_page(user, entry, 422, record=typed, errors={
            "record": ["Must be a JSON object: the record's columns and values."]
            if "record" in error.messages else [str(error.messages)]})
    fixed = None if data["record"] == entry.payload else data["record"]
    try:
        quarantine.replay(entry=entry, record=fixed, admin=user)
    except ApiError as error:
        db.session.rollback()
        reasons = [f"{column}: {text}" for column, texts in error.details.items()
                   if isinstance(texts, list) for text in texts]
        return _quarantine_entry_page(user, quarantine.get(quarantine_id=quarantine_id),
                                      error.status, record=typed,
                                      errors={"record": [error.message, *reasons]})
    db.session.commit()
    flash(f"Record {entry.id} replayed: it is stored as the rep's.")
    return redirect(url_for("console.quarantine_list"))


@blp.post("/admin/quarantine/<quarantine_id>/discard")
@page("admin")
def quarantine_discard(user: User, quarantine_id: str):
    entry = quarantine.get(quarantine_id=quarantine_id)
    try:
        quarantine.discard(entry=entry, admin=user)
    except ApiError as error:
        db.session.rollback()
        return _quarantine_entry_page(user, quarantine.get(quarantine_id=quarantine_id),
                                      error.status, errors={forms.FORM: [error.message]})
    db.session.commit()
    flash(f"Record {entry.id} discarded.")
    return redirect(url_for("console.quarantine_list"))


def _duplicates_page(user: User, status: int = 200, *, errors=None):
    """The pairs, each side by side, as GET /customers/duplicates lists them (its Listing,
    filters and order); merge keeps the side chosen (the API's suggestion preselected)."""
    teams = _teams(user) if user.role == "admin" else []
    args, problems = forms.load(DuplicateArgs(), request.args,
                                fields=("team_id", "reason", "cursor"))
    args = args or DuplicateArgs().load({})
    listing = DUPLICATES.respond(args={**args, "format": "json"}, items=duplicates.find_visible(
        viewer=user, team_id=args.get("team_id")), decorate=duplicates.add_activity)
    shown = {pair["id"] for pair in listing["items"]}
    for key, texts in (errors or {}).items():  # a refusal of a pair not listed: the form's
        problems.setdefault(key if key in shown else forms.FORM, []).extend(texts)
    return render("duplicates.html", user, 422 if problems and status == 200 else status,
                  page=listing, errors=problems, values=request.args,
                  team_options=[(t.id, t.name) for t in teams],
                  reason_options=[(r, r.replace("_", " ")) for r in DUPLICATE_REASONS])


@blp.get("/customers/duplicates")
@page(*MANAGING)
@reads_from_replica
def duplicates_list(user: User):
    return _duplicates_page(user)


@blp.post("/customers/duplicates/merge")
@page(*MANAGING)
def duplicates_merge(user: User):
    """Merge the pair's other customer into the one chosen to keep (`keep`): the service of
    POST /customers/<other>/merge {"into_id": keep}. A refusal is shown by its pair."""
    pair = request.form.get("pair", "")
    first, _, second = pair.partition(":")
    keep = request.form.get("keep", "")
    if not first or not second or keep not in (first, second):
        return _duplicates_page(user, 422, errors={
            pair or forms.FORM: ["Choose which customer of the pair to keep."]})
    try:
        result = merge(viewer=user, customer_id=second if keep == first else first,
                       into_id=keep)
    except ApiError as error:
        db.session.rollback()
        return _duplicates_page(user, error.status, errors={pair: [
            text for texts in forms.errors_of(error).values() for text in texts]})
    db.session.commit()
    flash(f"Merged into {result['kept'].name}: the other record is gone; its visits, orders, "
          "tasks and feedback moved to the kept one.")
    return redirect(url_for("console.duplicates_list"))


def _customers_page(user: User, status: int = 200, *, errors=None):
    """Customers as GET /customers lists them (its Listing: search `q`, filters, sorts, pages),
    scoped as the API (admins and procurement all, managers their team's, reps their own)."""
    values = {"sort": "name", **request.args}  # by name unless asked otherwise
    args, problems = forms.load(CustomerListArgs(), values,
                                fields=("q", "kind", "sort", "cursor"))
    listing = CUSTOMERS.respond(args={**(args or CustomerListArgs().load({"sort": "name"})),
                                      "format": "json"},
                                query=customers_service.visible(viewer=user))
    return render("customers.html", user, 422 if problems else status, page=listing,
                  errors={**problems, **(errors or {})}, values=values,
                  names=_user_names(c.assigned_rep_id for c in listing["items"]),
                  rep_options=[(r.id, r.name) for r in _reps(user)]
                  if user.role in MANAGING else [],
                  kind_options=[(k, k) for k in CUSTOMER_KINDS],
                  sort_options=[("name", "Name"), ("-name", "Name, Z to A"), ("kind", "Kind"),
                                ("segment", "Segment")])


@blp.get("/customers")
@page()
@reads_from_replica
def customers(user: User):
    return _customers_page(user)


@blp.post("/customers/<customer_id>/assign")
@page(*MANAGING)
def customer_assign(user: User, customer_id: str):
    """Assign a rep (or none), as PATCH /customers/<id> {"assigned_rep_id"}; the list comes
    back with its search, a refusal shown by the customer's row."""
    customer = customers_service.get(viewer=user, customer_id=customer_id)
    data, errors = forms.load(CustomerUpdateSchema(), request.form, fields=("assigned_rep_id",),
                              blank_as_none=("assigned_rep_id",))
    if data is not None:
        _, errors = forms.attempt(lambda: customers_service.update(
            viewer=user, customer=customer, changes=data))
        if not errors:
            db.session.commit()
            rep = _user_names([data["assigned_rep_id"]]).get(data["assigned_rep_id"] or "")
            flash(f"{customer.name}: assigned to {rep}." if rep else
                  f"{customer.name}: no rep now.")
            back: dict[str, Any] = request.args.to_dict()  # the list's search, kept
            return redirect(url_for("console.customers", **back))
    return _customers_page(user, 422, errors={customer_id: [
        text for texts in errors.values() for text in texts]})


CUSTOMER_FIELDS = ("name", "address", "latitude", "longitude", "geofence_radius_m", "segment",
                   "phone", "kind", "visit_cadence_days", "opens_at", "closes_at")
CUSTOMER_CLEARABLE = ("address", "segment", "phone", "visit_cadence_days", "opens_at",
                      "closes_at")


def _customer_values(customer: Customer) -> dict:
    return {name: getattr(customer, name) for name in CUSTOMER_FIELDS}


NEW_CUSTOMER_FIELDS = ("name", "address", "latitude", "longitude", "segment", "kind",
                       "assigned_rep_id")


@blp.route("/customers/new", methods=["GET", "POST"])
@page(*MANAGING)
def customer_new(user: User):
    """Create a customer, as POST /customers (the same schema and service: a manager's
    customer is in their team with a rep of their team; an admin's in the rep's team)."""
    kinds = [(k, k) for k in CUSTOMER_KINDS]
    reps = [(r.id, r.name) for r in _reps(user)]
    if request.method == "GET":
        return render("customer_form.html", user, customer=None, kind_options=kinds,
                      rep_options=reps, values={"kind": "prospect"}, errors={})
    data, errors = forms.load(CustomerCreateSchema(), request.form, fields=NEW_CUSTOMER_FIELDS,
                              blank_as_none=("address", "segment", "assigned_rep_id"))
    if data is not None:
        made, errors = forms.attempt(lambda: customers_service.create(viewer=user, data=data))
        if made is not None:
            db.session.commit()
            flash(f"{made.name}: created.")
            return redirect(url_for("console.customers", q=made.name))
    return render("customer_form.html", user, 422, customer=None, kind_options=kinds,
                  rep_options=reps, values=request.form, errors=errors)


@blp.route("/customers/<customer_id>/edit", methods=["GET", "POST"])
@page(*MANAGING)
def customer_edit(user: User, customer_id: str):
    """A customer's own page: edit it, as PATCH /customers/<id> (the same schema and
    service); an empty optional field clears it (null), an empty required one keeps it."""
    customer = customers_service.get(viewer=user, customer_id=customer_id)
    kinds = [(k, k) for k in CUSTOMER_KINDS]
    if request.method == "GET":
        return render("customer_form.html", user, customer=customer, kind_options=kinds,
                      values=_customer_values(customer), errors={})
    data, errors = forms.load(CustomerUpdateSchema(), request.form, fields=CUSTOMER_FIELDS,
                              blank_as_none=CUSTOMER_CLEARABLE)
    if data is not None:
        _, errors = forms.attempt(lambda: customers_service.update(
            viewer=user, customer=customer, changes=data))
        if not errors:
            db.session.commit()
            flash(f"{customer.name}: saved.")
            return redirect(url_for("console.customers", q=customer.name))
        customer = customers_service.get(viewer=user, customer_id=customer_id)
    return render("customer_form.html", user, 422, customer=customer, kind_options=kinds,
                  values=request.form, errors=errors)


# --- job runs (GET /api/v1/jobs/runs; running one is `flask jobs run NAME` on the API side) ---
@blp.get("/admin/jobs")
@page("admin", "manager", "procurement")
@reads_from_replica
def job_runs(user: User):
    """The recorded runs, newest first, as GET /jobs/runs (its log and filters); admins see
    where each ran and its error, and may run a job now."""
    args, errors = forms.load(JobRunListArgs(), request.args, fields=("job", "status", "cursor"))
    listing = JOB_RUNS.page(args=args or JobRunListArgs().load({}), query=select(JobRun))
    return render("job_runs.html", user, 200 if not errors else 422, page=listing,
                  errors=errors, values=request.args,
                  job_options=[(name, name) for name in job_names()],
                  status_options=[(s, s) for s in JOB_STATUSES])


@blp.get("/admin/sync-log")
@page(*MANAGING)
@reads_from_replica
def sync_log(user: User):
    """Every push and pull, newest first, as GET /sync/log (its filters and scope: an admin's
    every rep, a manager's team)."""
    args, errors = forms.load(SyncLogArgs(), request.args,
                              fields=("user_id", "direction", "outcome", "cursor"))
    listing = sync_history.LOG.page(args=args or SyncLogArgs().load({}),
                                    query=sync_history.visible_entries(viewer=user))
    reps = _reps(user)
    return render("sync_log.html", user, 200 if not errors else 422, page=listing,
                  errors=errors, values=request.args, names={r.id: r.name for r in reps},
                  rep_options=[(r.id, r.name) for r in reps],
                  direction_options=[("push", "push"), ("pull", "pull")])


@blp.post("/admin/jobs/run")
@page("admin")
def job_run_now(user: User):
    """Run a job now, under its lock, as `flask jobs run NAME` does (a manual run: the runner
    records and commits it; another instance running it means skipped)."""
    name = request.form.get("job", "")
    try:
        result = run_job(name, trigger="manual")
    except ValueError as error:
        db.session.rollback()
        raise ApiError(422, "validation_error", str(error)) from None
    flash(f"Job {result.job}: {result.status}"
          + (f", {result.rows_written} rows written." if result.status == "ok" else
             f". {result.error or ''}".rstrip()))
    return redirect(url_for("console.job_runs"))


# --- users (admins: GET/POST /users, PATCH /users/<id>) ------------------------------------
def _user_form(user: User, status: int, *, person: User | None, values, errors):
    teams = _teams(user)
    managers = db.session.scalars(select(User).where(
        User.role == "manager", User.deleted_at.is_(None)).order_by(User.name, User.id))
    return render("user_form.html", user, status, person=person, values=values, errors=errors,
                  team_names={t.id: t.name for t in teams},
                  team_options=[(t.id, t.name) for t in teams],
                  manager_options=[(m.id, m.name) for m in managers],
                  role_options=[(r, r) for r in ROLES],
                  style_options=[(s, s) for s in SELLING_STYLES])


@blp.get("/admin/users")
@page("admin")
@reads_from_replica
def users(user: User):
    """Users as GET /users lists them (its Listing), by name; filters role and team."""
    values = {"sort": "name", **request.args}
    args, errors = forms.load(UserListArgs(), values, fields=("role", "team_id", "sort",
                                                              "cursor"))
    listing = USERS.respond(args={**(args or UserListArgs().load({"sort": "name"})),
                                  "format": "json"},
                            query=users_service.visible_users(viewer=user))
    teams = _teams(user)
    return render("users.html", user, 200 if not errors else 422, page=listing, errors=errors,
                  values=values, team_names={t.id: t.name for t in teams},
                  team_options=[(t.id, t.name) for t in teams],
                  role_options=[(r, r) for r in ROLES])


@blp.route("/admin/users/new", methods=["GET", "POST"])
@page("admin")
def user_new(user: User):
    if request.method == "GET":
        return _user_form(user, 200, person=None, values={"role": "rep"}, errors={})
    data, errors = forms.load(UserCreateSchema(), request.form, fields=(
        "email", "password", "name", "role", "manager_id", "selling_style"),
        verbatim=("password",), blank_as_none=("manager_id", "selling_style"))
    if data is not None:
        made, errors = forms.attempt(lambda: users_service.create(
            email=data["email"], password=data["password"], name=data["name"],
            role=data["role"], selling_style=data.get("selling_style"),
            manager=users_service.get_named_manager(manager_id=data.get("manager_id"))))
        if made is not None:
            db.session.commit()
            flash(f"{made.name} can sign in now.")
            return redirect(url_for("console.users"))
    values = {k: v for k, v in request.form.items() if k != "password"}
    return _user_form(user, 422, person=None, values=values, errors=errors)


@blp.route("/admin/users/<user_id>", methods=["GET", "POST"])
@page("admin")
def user_edit(user: User, user_id: str):
    """Rename, move a rep to another team, reset the password, deactivate or reactivate:
    PATCH /users/<id> (a new password or a deactivation revokes their tokens)."""
    person = users_service.get_visible(viewer=user, user_id=user_id)
    current = {"name": person.name, "team_id": person.team_id or "",
               "active": "true" if person.active else "false"}
    if request.method == "GET":
        return _user_form(user, 200, person=person, values=current, errors={})
    fields = ["name", "password", "active"] + (["team_id"] if person.role == "rep" else [])
    data, errors = forms.load(UserUpdateSchema(), request.form, fields=fields,
                              verbatim=("password",))
    if data is not None:
        changes = {k: v for k, v in data.items()
                   if k == "password" or v != getattr(person, k)}
        _, errors = forms.attempt(lambda: users_service.update(user=person, changes=changes,
                                                               by=user))
        if not errors:
            db.session.commit()
            flash(f"{person.name}: saved." + (" Their sessions were signed out."
                                              if "password" in changes
                                              or changes.get("active") is False else ""))
            return redirect(url_for("console.users"))
    values = {k: v for k, v in request.form.items() if k != "password"}
    return _user_form(user, 422, person=person, values=values, errors=errors)


REMOVALS = {"remove": "Remove: deactivate, sign out everywhere, leave the lists",
            "erase": "Erase: remove, and erase their positions, free text, name and email"}


@blp.route("/admin/users/<user_id>/remove", methods=["GET", "POST"])
@page("admin")
def user_remove(user: User, user_id: str):
    """Remove or erase a user, as DELETE /users/<id> (`?erase=true`): the page is the
    confirmation; the form says which (`action`). `users.service` refuses removing or erasing
    yourself, and a rep with customers or open tasks (shown on the form)."""
    person = users_service.get_erasable(user_id=user_id)
    options = list(REMOVALS.items())
    if request.method == "GET":
        return render("user_remove.html", user, person=person, options=options, values={},
                      errors={})
    action = request.form.get("action", "")
    errors: dict[str, list[str]] = {}
    if action not in REMOVALS:
        errors = {"action": ["Choose remove or erase."]}
    else:
        name = person.name
        _, errors = forms.attempt(
            (lambda: users_service.erase(user=person, by=user)) if action == "erase" else
            (lambda: users_service.remove(user=users_service.get_visible(
                viewer=user, user_id=user_id), by=user)))
        if not errors:
            db.session.commit()
            flash(f"{name}: erased (positions and free text removed; orders and visits stay, "
                  "anonymous)." if action == "erase" else
                  f"{name}: removed and signed out everywhere.")
            return redirect(url_for("console.users"))
        person = users_service.get_erasable(user_id=user_id)
    return render("user_remove.html", user, 422, person=person, options=options,
                  values=request.form, errors=errors)


# --- procurement: backlog, deliveries, demand ------------------------------------------------
# The same report and service calls as GET /api/v1/backlog, /backlog/summary, /demand and
# POST /api/v1/orders/<id>/deliveries, scoped the same (reports/backlog.py, orders/service.py).
BACKLOG_READERS = ("admin", "procurement", "manager")
DELIVERERS = ("procurement", "admin")  # as POST /orders/<id>/deliveries
DEMAND_READERS = ("admin", "procurement", "manager")  # as GET /demand


@blp.app_context_processor
def _procurement_helpers():
    return {"calendar_day": calendar_day}


def calendar_day(ms: int | None) -> str:
    """A date as the backlog shows promised and requested dates: "Tue 01 Dec 2026" (UTC)."""
    return "—" if ms is None else periods.ms_date(ms).strftime("%a %d %b %Y")


PAGE_SIZE = "20"  # orders or products a page of the console shows; "More" pages on


def _list_args(schema, fields: tuple[str, ...], extra: dict | None = None) -> tuple[dict, dict]:
    """A list's query by the API's schema; on bad input its defaults, and the errors."""
    extra = {"limit": PAGE_SIZE, **(extra or {})}
    args, errors = forms.load(schema, {**request.args, **extra}, fields=(*fields, "limit"))
    return (args if args is not None else schema.load(extra)), errors


BACKLOG_FILTERS = ("late_only", "min_age_days", "sort", "cursor")


@blp.get("/backlog")
@page(*BACKLOG_READERS)
@reads_from_replica
def backlog(user: User):
    args, errors = _list_args(BacklogArgs(), BACKLOG_FILTERS)
    listing = backlog_report.respond(viewer=user, args=args)  # as GET /api/v1/backlog
    period, period_errors = forms.load(BacklogSummaryArgs(), request.args, fields=("from", "to"))
    health = backlog_report.health(viewer=user, args=period or {})  # as /backlog/summary
    errors = {**errors, **period_errors}
    current = health["current"]
    return render("backlog.html", user, 422 if errors else 200, page=listing, health=health,
                  period_days=(current["end_ms"] - current["start_ms"]) // DAY_MS,
                  errors=errors, values=request.args, can_deliver=user.role in DELIVERERS,
                  csv_args={k: v for k, v in request.args.items()
                            if k in ("late_only", "min_age_days", "sort") and v})


@blp.get("/backlog.csv")
@page(*BACKLOG_READERS)
@reads_from_replica
def backlog_csv(user: User):
    return _backlog_export(user, "csv")


@blp.get("/backlog.xlsx")
@page(*BACKLOG_READERS)
@reads_from_replica
def backlog_xlsx(user: User):
    return _backlog_export(user, "xlsx")


def _backlog_export(user: User, export: str):
    args, errors = _list_args(BacklogArgs(), (*BACKLOG_FILTERS[:-1], "format"),
                              {"format": export})
    if errors:
        raise ApiError(422, "validation_error", _sentence(errors))
    return backlog_report.respond(viewer=user, args=args)


def _sentence(errors: dict[str, list[str]]) -> str:
    return "; ".join(f"{name}: {' '.join(texts)}" for name, texts in errors.items())


def _backlog_order(user: User, order_id: str) -> dict:
    """One order as the backlog shows it (its pending lines and the stock that can fill
    them); 404 when the user may not see it, 409 when nothing of it is pending."""
    orders_service.get(viewer=user, order_id=order_id)
    found = backlog_report.respond(viewer=user, args=BacklogArgs().load({}),
                                   order_id=order_id)["items"]
    if not found:
        raise ApiError(409, "nothing_pending", "Nothing of this order is left to deliver.")
    return found[0]


def _line_field(line_id: str) -> str:
    return f"line-{line_id}"


@blp.route("/backlog/<order_id>/delivery", methods=["GET", "POST"])
@page(*DELIVERERS)
def delivery(user: User, order_id: str):
    order = _backlog_order(user, order_id)
    lines = order["lines"]
    if request.method == "GET":
        values = {_line_field(line["line_id"]): f"{line['available_quantity']:g}"
                  for line in lines if line["available_quantity"] > 0}
        return render("delivery.html", user, order=order, values=values, errors={})
    # The form's quantities as the API's body: the lines with a quantity typed, in order.
    named = [line for line in lines if (request.form.get(_line_field(line["line_id"])) or
                                        "").strip()]
    body = {"lines": [{"order_line_id": line["line_id"],
                       "quantity": request.form[_line_field(line["line_id"])].strip()}
                      for line in named]}
    errors: dict[str, list[str]] = {}
    try:
        data = DeliveryCreateSchema().load(body)
    except ma.ValidationError as error:
        errors = _delivery_errors(error.messages, named)
    else:
        try:
            locked = orders_service.get(viewer=user, order_id=order_id, for_update=True)
            orders_service.deliver(order=locked, lines=data["lines"], delivered_at=None, by=user)
        except ApiError as error:
            db.session.rollback()
            errors = _delivery_errors(error.details, named, refusal=error.message)
        else:
            db.session.commit()
            flash(f"Delivery recorded for {order['customer_name']}.")
            return redirect(url_for("console.backlog"))
    return render("delivery.html", user, 422, order=order, values=request.form, errors=errors)


def _delivery_errors(details, named: list[dict], refusal: str | None = None
                     ) -> dict[str, list[str]]:
    """Messages by quantity field from the schema's or the service's details, which name a
    line by its place in the body (`lines.<n>`) or the product short of stock."""
    errors: dict[str, list[str]] = {}
    per_line = details.get("lines") if isinstance(details, dict) else None
    if isinstance(per_line, dict):
        for n, problem in per_line.items():
            errors[_line_field(named[int(n)]["line_id"])] = forms.texts(problem)
    elif per_line is not None:  # about the body as a whole: no line has a quantity
        errors[forms.FORM] = ["Type a quantity for at least one line."]
    if isinstance(details, dict) and details.get("product_id"):
        for line in named:
            if line["product_id"] == details["product_id"]:
                errors[_line_field(line["line_id"])] = [refusal or "Not enough stock."]
    return errors or {forms.FORM: [refusal or "The delivery could not be recorded."]}


DEMAND_FILTERS = ("flagged", "q", "sort", "cursor")


@blp.get("/demand")
@page(*DEMAND_READERS)
@reads_from_replica
def demand(user: User):
    args, errors = _list_args(DemandArgs(), DEMAND_FILTERS)
    listing = demand_report.respond(args=args)  # as GET /api/v1/demand
    history = demand_report.weeks(product_ids=[item["product_id"]
                                               for item in listing["items"]])
    charts_by_product = {item["product_id"]: charts.weekly_demand(
        history.get(item["product_id"], []), forecast=item["forecast"])
        for item in listing["items"]}
    return render("demand.html", user, 422 if errors else 200, page=listing,
                  charts=charts_by_product, errors=errors, values=request.args,
                  csv_args={k: v for k, v in request.args.items()
                            if k in ("flagged", "q", "sort") and v})


@blp.get("/demand.csv")
@page(*DEMAND_READERS)
@reads_from_replica
def demand_csv(user: User):
    return _demand_export("csv")


@blp.get("/demand.xlsx")
@page(*DEMAND_READERS)
@reads_from_replica
def demand_xlsx(user: User):
    return _demand_export("xlsx")


def _demand_export(export: str):
    args, errors = _list_args(DemandArgs(), (*DEMAND_FILTERS[:-1], "format"), {"format": export})
    if errors:
        raise ApiError(422, "validation_error", _sentence(errors))
    return demand_report.respond(args=args)


# --- reports: feedback and territories ------------------------------------------------------
# The same calls as GET /api/v1/feedback/summary and /territories/balance, scoped the same.
FEEDBACK_READERS = ("admin", "manager", "procurement", "rep")  # as GET /feedback/summary


FEEDBACK_FILTERS = ("from", "to", "team_id", "rep_id")
FEEDBACK_PERIODS = (7, 30, 90)  # the quick periods, in days up to today


@blp.get("/feedback")
@page(*FEEDBACK_READERS)
@reads_from_replica
def feedback(user: User):
    """The feedback summary of a period (inclusive UTC days `from`/`to`, default the last
    30), of a team (admins, procurement) or a rep (everyone but reps, who see their own), as
    GET /feedback/summary: categories, the weekly rating trend, most requested and praised
    products, repeat complainers. A bad filter is shown by its field, with the default
    figures; a team or rep out of the user's scope is a 404 page, as the API's 404."""
    args, errors = forms.load(FeedbackSummaryArgs(), request.args, fields=FEEDBACK_FILTERS)
    default = FeedbackSummaryArgs().load({})
    try:
        summary = feedback_summary.visible(viewer=user, args=args or default)
    except ApiError as error:
        if error.status != 422:
            raise
        errors = {**errors, **forms.errors_of(error)}  # a range the report refuses
        summary = feedback_summary.visible(viewer=user, args=default)
    today = utc_today()
    return render("feedback.html", user, 422 if errors else 200, summary=summary,
                  chart=charts.rating_trend(summary["rating_trend"]), errors=errors,
                  values=request.args,
                  last_day=periods.ms_date(summary["to_ms"] - DAY_MS),
                  team_options=[(t.id, t.name) for t in _teams(user)]
                  if user.role in ("admin", "procurement") else [],
                  rep_options=[(r.id, r.name) for r in _reps(user)]
                  if user.role != "rep" else [],
                  quick=[(days, {"from": (today - timedelta(days=days - 1)).isoformat(),
                                 "to": today.isoformat(),
                                 **{k: v for k, v in request.args.items()
                                    if k in ("team_id", "rep_id") and v}})
                         for days in FEEDBACK_PERIODS])


TERRITORY_FILTERS = ("flag", "sort", "cursor", "team_id")
REP_COLOURS = 8  # map colours (console.css `.rep-N`, console.js); reps beyond share them


@blp.get("/territories")
@page(*MANAGING)
@reads_from_replica
def territories(user: User):
    """Territory balance per rep, as GET /territories/balance: a map of each rep's
    customers, a load bar per rep, takeover suggestions for the overloaded."""
    args, errors = _list_args(TerritoryArgs(), TERRITORY_FILTERS)
    listing = TERRITORIES.respond(args=args, items=territory.visible(
        viewer=user, team_id=args.get("team_id")))
    colour = {row["rep_id"]: n % REP_COLOURS for n, row in enumerate(listing["items"])}
    names = {row["rep_id"]: row["rep_name"] for row in listing["items"]}
    points = [{**c, "rep_name": names[c["rep_id"]], "colour": colour[c["rep_id"]]}
              for c in territory.customer_points(rep_ids=list(colour))]
    tolerance = current_app.config["TERRITORY_TOLERANCE"]
    return render("territories.html", user, 422 if errors else 200, page=listing,
                  customers=points, colour=colour, errors=errors, values=request.args,
                  bars={row["rep_id"]: charts.load_bar(row["load"], tolerance=tolerance)
                        for row in listing["items"]},
                  team_options=[(t.id, t.name) for t in _teams(user)]
                  if user.role == "admin" else [],
                  flag_options=[(f, f) for f in TERRITORY_FLAGS],
                  keep={k: v for k, v in request.args.items()
                        if k in ("flag", "sort", "team_id") and v})


# --- alerts (GET /api/v1/alerts, POST /api/v1/alerts/<id>/acknowledge) -------------------
ALERTS_PAGE = 100

@blp.get("/alerts")
@page("admin", "manager")
def alerts(user: User):
    """The alerts feed, newest first, as GET /alerts (a manager's team's, an admin's all);
    `?all=1` shows the acknowledged ones too."""
    everything = request.args.get("all") == "1"
    args, errors = forms.load(AlertListArgs(), request.args, fields=("cursor",))
    if errors:
        raise ApiError(422, "validation_error", _sentence(errors))
    found = alerts_service.feed(viewer=user, team_id=None, unacknowledged=not everything,
                                limit=ALERTS_PAGE, cursor=(args or {}).get("cursor"))
    return render("alerts.html", user, items=found["items"], everything=everything,
                  next_cursor=found["next_cursor"])


@blp.post("/alerts/<alert_id>/acknowledge")
@page("admin", "manager")
def alert_acknowledge(user: User, alert_id: str):
    alerts_service.acknowledge(viewer=user, alert_id=alert_id)  # 404 page for another team's
    db.session.commit()
    flash(f"Alert {alert_id} acknowledged.")
    return redirect(url_for("console.alerts"))


# --- webhooks (/api/v1/webhooks: subscriptions, delivery log, redelivery) -----------------
WEBHOOK_LOG_ROWS = 100


def _webhooks_page(user: User, status: int = 200, *, errors=None, values=None, made=None):
    """The page; `values`: the form as submitted (its ticked event types stay ticked)."""
    return render("webhooks.html", user, status, subscriptions=[
        webhooks_service.as_shown(row) for row in webhooks_service.list_subscriptions()],
        event_types=list(EVENT_TYPES), team_names={t.id: t.name for t in _teams(user)},
        errors=errors or {}, values=values or {},
        chosen=set(values.getlist("event_types")) if values else set(), made=made)


@blp.get("/webhooks")
@page("admin")
def webhooks(user: User):
    """The subscriptions, as GET /webhooks, and a form to subscribe a URL."""
    return _webhooks_page(user)


@blp.post("/webhooks")
@page("admin")
def webhook_create(user: User):
    """Subscribe, as POST /webhooks; the page shows the secret this once (no redirect: it
    is not kept anywhere the next page could read it)."""
    data, errors = forms.load(SubscriptionCreateSchema(), request.form,
                              fields=("url", "event_types", "team_id", "description"),
                              blank_as_none=("team_id", "description"))
    if data is None:
        return _webhooks_page(user, 422, values=request.form, errors=errors)
    made, errors = forms.attempt(lambda: webhooks_service.create_subscription(
        creator=user, **data))
    if errors or made is None:
        return _webhooks_page(user, 422, values=request.form, errors=errors)
    db.session.commit()
    return _webhooks_page(user, made=webhooks_service.as_shown(made, with_secret=True))


@blp.post("/webhooks/<subscription_id>/active")
@page("admin")
def webhook_active(user: User, subscription_id: str):
    """Disable or enable, as PATCH /webhooks/<id> with `active`."""
    active = request.form.get("active") == "true"
    webhooks_service.update_subscription(subscription_id=subscription_id,
                                         changes={"active": active})
    db.session.commit()
    flash("Subscription enabled." if active else "Subscription disabled.")
    return redirect(url_for("console.webhook", subscription_id=subscription_id))


@blp.post("/webhooks/<subscription_id>/delete")
@page("admin")
def webhook_delete(user: User, subscription_id: str):
    webhooks_service.delete_subscription(subscription_id=subscription_id)
    db.session.commit()
    flash("Subscription removed, with its delivery log.")
    return redirect(url_for("console.webhooks"))


@blp.get("/webhooks/<subscription_id>")
@page("admin")
def webhook(user: User, subscription_id: str):
    """One subscription and its delivery log, newest first (`?status=`), as
    GET /webhooks/<id>/deliveries."""
    subscription = webhooks_service.get_subscription(subscription_id=subscription_id)
    wanted = request.args.get("status") or None
    args = {"limit": WEBHOOK_LOG_ROWS, "cursor": None,
            "status": wanted if wanted in DELIVERY_STATUSES else None}
    log = WEBHOOK_LOG.page(args=args, query=webhooks_service.deliveries_of(
        subscription_id=subscription_id))
    return render("webhook.html", user, subscription=webhooks_service.as_shown(subscription),
                  deliveries=log["items"], statuses=DELIVERY_STATUSES, shown=args["status"])


@blp.post("/webhooks/<subscription_id>/deliveries/<delivery_id>/redeliver")
@page("admin")
def webhook_redeliver(user: User, subscription_id: str, delivery_id: str):
    webhooks_service.redeliver(subscription_id=subscription_id, delivery_id=delivery_id)
    db.session.commit()
    flash(f"Delivery {delivery_id} goes out again at the webhooks job's next run.")
    return redirect(url_for("console.webhook", subscription_id=subscription_id))
