"""Arguments and answers of the report endpoints."""
import marshmallow as ma
from marshmallow import validate

from fieldsales.listing import ListArgs, page_schema, sort_field
from fieldsales.reports import team_overview as overview_fields
from fieldsales.schemas import Day, IdField, StrictSchema


class DateRangeArgs(StrictSchema):
    from_ = Day(data_key="from", load_default=None, metadata={
        "description": "First day (UTC), YYYY-MM-DD; default 29 days before `to`."})
    to = Day(load_default=None, metadata={
        "description": "Last day (UTC), inclusive; default today."})

    @ma.validates_schema
    def _ordered(self, data, **_kwargs):
        if data.get("from_") and data.get("to") and data["from_"] > data["to"]:
            raise ma.ValidationError("Must not be after `to`.", "from")


# --- feedback summary ---------------------------------------------------------------------
class FeedbackSummaryArgs(DateRangeArgs):
    team_id = IdField(metadata={"description": "Admins and procurement: one team's reps."})
    rep_id = IdField(metadata={"description": "One rep's feedback (within your scope)."})
    top = ma.fields.Integer(load_default=10, validate=validate.Range(1, 100),
                            metadata={"description": "Length of the product lists."})


class FeedbackCategorySchema(ma.Schema):
    category = ma.fields.String()
    count = ma.fields.Integer()
    rated = ma.fields.Integer(metadata={"description": "How many carried a rating."})
    average_rating = ma.fields.Float(allow_none=True)


class FeedbackWeekSchema(ma.Schema):
    week_start_ms = ma.fields.Integer(metadata={"description": "Monday 00:00 UTC, epoch ms."})
    rated = ma.fields.Integer()
    average_rating = ma.fields.Float()


class RequestedProductSchema(ma.Schema):
    product_id = ma.fields.String()
    sku = ma.fields.String()
    name = ma.fields.String()
    requested_quantity = ma.fields.Float()
    requests = ma.fields.Integer()


class PraisedProductSchema(ma.Schema):
    product_id = ma.fields.String()
    sku = ma.fields.String()
    name = ma.fields.String()
    praises = ma.fields.Integer(metadata={"description": "Feedback rated 4 or 5."})
    average_rating = ma.fields.Float()


class RepeatedComplaintSchema(ma.Schema):
    customer_id = ma.fields.String()
    name = ma.fields.String()
    complaints = ma.fields.Integer(metadata={"description": "Feedback rated 1 or 2."})
    lowest_rating = ma.fields.Integer()
    last_complaint_at = ma.fields.Integer()


class FeedbackSummarySchema(ma.Schema):
    from_ms = ma.fields.Integer()
    to_ms = ma.fields.Integer(metadata={"description": "Exclusive."})
    total = ma.fields.Integer()
    average_rating = ma.fields.Float(allow_none=True)
    by_category = ma.fields.List(ma.fields.Nested(FeedbackCategorySchema))
    rating_trend = ma.fields.List(ma.fields.Nested(FeedbackWeekSchema))
    most_requested_products = ma.fields.List(ma.fields.Nested(RequestedProductSchema))
    most_praised_products = ma.fields.List(ma.fields.Nested(PraisedProductSchema))
    repeated_complaints = ma.fields.List(ma.fields.Nested(RepeatedComplaintSchema))


# --- duplicates ---------------------------------------------------------------------------
DUPLICATE_REASONS = ("same_phone", "similar_name_nearby")


class DuplicateArgs(ListArgs):
    sort = sort_field("name_similarity", "distance_m", default="-name_similarity")
    team_id = IdField(metadata={"description": "Admins: one team's customers."})
    reason = ma.fields.String(validate=validate.OneOf(DUPLICATE_REASONS))


class DuplicateSideSchema(ma.Schema):
    class Meta:
        ordered = True

    id = ma.fields.String()
    name = ma.fields.String()
    phone = ma.fields.String(allow_none=True)
    address = ma.fields.String(allow_none=True)
    kind = ma.fields.String()
    latitude = ma.fields.Float()
    longitude = ma.fields.Float()
    team_id = ma.fields.String(allow_none=True)
    assigned_rep_id = ma.fields.String(allow_none=True)
    activity = ma.fields.Integer(metadata={"description": "Visits and orders on record."})


class DuplicateSchema(ma.Schema):
    class Meta:
        ordered = True

    id = ma.fields.String(metadata={"description": "The pair: '<customer id>:<duplicate id>'."})
    reasons = ma.fields.List(ma.fields.String(validate=validate.OneOf(DUPLICATE_REASONS)))
    distance_m = ma.fields.Float()
    name_similarity = ma.fields.Float(metadata={"description": "0..1, difflib ratio."})
    suggested_into_id = ma.fields.String(metadata={
        "description": "Keep this one (more history); merge the other into it."})
    customer = ma.fields.Nested(DuplicateSideSchema)
    duplicate = ma.fields.Nested(DuplicateSideSchema)


DuplicatePageSchema = page_schema(DuplicateSchema, "DuplicatePage")


class MergeSchema(StrictSchema):
    into_id = IdField(required=True, metadata={"description": "The customer to keep."})


class MergeKeptSchema(ma.Schema):
    id = ma.fields.String()
    name = ma.fields.String()
    kind = ma.fields.String()
    phone = ma.fields.String(allow_none=True)


class MergeMovedSchema(ma.Schema):
    visits = ma.fields.Integer()
    orders = ma.fields.Integer()
    tasks = ma.fields.Integer()
    feedback = ma.fields.Integer()


class MergeResultSchema(ma.Schema):
    kept = ma.fields.Nested(MergeKeptSchema)
    merged_id = ma.fields.String()
    moved = ma.fields.Nested(MergeMovedSchema)


# --- territory balance --------------------------------------------------------------------
TERRITORY_FLAGS = ("overloaded", "balanced", "underloaded")


class TerritoryArgs(ListArgs):
    sort = sort_field("load", "rep_name", "customers", "revenue_90d", default="-load")
    team_id = IdField(metadata={"description": "Admins: one team."})
    flag = ma.fields.String(validate=validate.OneOf(TERRITORY_FLAGS))


class TerritoryCentroidSchema(ma.Schema):
    latitude = ma.fields.Float()
    longitude = ma.fields.Float()


class TakeoverCandidateSchema(ma.Schema):
    rep_id = ma.fields.String()
    rep_name = ma.fields.String()
    distance_km = ma.fields.Float(allow_none=True, metadata={
        "description": "Between the centroids of both reps' customers; null if none."})
    spare_visits = ma.fields.Float()


class TerritorySchema(ma.Schema):
    class Meta:
        ordered = True

    rep_id = ma.fields.String()
    rep_name = ma.fields.String()
    team_id = ma.fields.String()
    customers = ma.fields.Integer()
    accounts = ma.fields.Integer()
    prospects = ma.fields.Integer()
    revenue_90d = ma.fields.Float(metadata={"description": "Orders at the rep's customers, "
                                                           "trailing 90 days."})
    visits_needed = ma.fields.Float(metadata={"description": "Over the planning horizon, at "
                                                             "each customer's cadence."})
    visits_possible = ma.fields.Float(metadata={"description": "Visits per day x working days."})
    load = ma.fields.Float(metadata={"description": "needed / possible."})
    flag = ma.fields.String(validate=validate.OneOf(TERRITORY_FLAGS))
    centroid = ma.fields.Nested(TerritoryCentroidSchema, allow_none=True)
    takeover_candidates = ma.fields.List(ma.fields.Nested(TakeoverCandidateSchema), metadata={
        "description": "Overloaded reps: teammates with spare visits, nearest first."})


TerritoryPageSchema = page_schema(TerritorySchema, "TerritoryPage")


# --- rep day ------------------------------------------------------------------------------
class ActivityArgs(StrictSchema):
    date = Day(load_default=None, metadata={
        "description": "The day (UTC), YYYY-MM-DD; default today."})


class ActivityCustomerSchema(ma.Schema):
    id = ma.fields.String()
    name = ma.fields.String()
    kind = ma.fields.String()


class StopCustomerSchema(ma.Schema):
    id = ma.fields.String()
    name = ma.fields.String()
    distance_m = ma.fields.Float(metadata={"description": "From the stop to the customer."})


class ActivityCustomerNameSchema(ma.Schema):
    id = ma.fields.String()
    name = ma.fields.String()


class ActivityVisitSchema(ma.Schema):
    id = ma.fields.String()
    customer = ma.fields.Nested(ActivityCustomerSchema)
    check_in_at = ma.fields.Integer()
    check_out_at = ma.fields.Integer(allow_none=True)
    time_on_site_s = ma.fields.Float(allow_none=True)
    verified = ma.fields.Boolean(metadata={"description": "Checked in inside the geofence."})
    distance_m = ma.fields.Float(allow_none=True, metadata={
        "description": "Check-in point to the customer."})
    outcome = ma.fields.String(allow_none=True)


class ActivityStopSchema(ma.Schema):
    started_at = ma.fields.Integer()
    ended_at = ma.fields.Integer()
    duration_s = ma.fields.Float()
    latitude = ma.fields.Float()
    longitude = ma.fields.Float()
    pings = ma.fields.Integer()
    flagged_pings = ma.fields.Integer()
    customer = ma.fields.Nested(StopCustomerSchema, allow_none=True, metadata={
        "description": "The customer whose geofence holds the stop; null: a stop at no "
                       "customer."})
    visit_id = ma.fields.String(allow_none=True, metadata={
        "description": "The visit at that customer during the stop, if one was recorded."})


class ActivityPingSchema(ma.Schema):
    recorded_at = ma.fields.Integer()
    latitude = ma.fields.Float()
    longitude = ma.fields.Float()
    accuracy_m = ma.fields.Float(allow_none=True)
    speed_mps = ma.fields.Float(allow_none=True)
    flagged = ma.fields.Boolean(metadata={"description": "Left out of distances and stops."})
    flags = ma.fields.List(ma.fields.String())


class ActivityLegSchema(ma.Schema):
    from_stop = ma.fields.Integer(allow_none=True, metadata={
        "description": "Index in `stops`; null: the start of the day."})
    to_stop = ma.fields.Integer(allow_none=True, metadata={
        "description": "Index in `stops`; null: the end of the day."})
    started_at = ma.fields.Integer()
    ended_at = ma.fields.Integer()
    distance_m = ma.fields.Float(metadata={"description": "Over unflagged pings."})
    pings = ma.fields.List(ma.fields.Nested(ActivityPingSchema))


class ActivityTaskSchema(ma.Schema):
    id = ma.fields.String()
    title = ma.fields.String()
    category = ma.fields.String()
    customer_id = ma.fields.String(allow_none=True)
    due_at = ma.fields.Integer(allow_none=True)
    completed_at = ma.fields.Integer()


class ActivityOrderSchema(ma.Schema):
    id = ma.fields.String()
    customer = ma.fields.Nested(ActivityCustomerNameSchema)
    ordered_at = ma.fields.Integer()
    status = ma.fields.String()
    visit_id = ma.fields.String(allow_none=True)
    lines = ma.fields.Integer()
    value = ma.fields.Float()


class ActivityFeedbackSchema(ma.Schema):
    id = ma.fields.String()
    customer = ma.fields.Nested(ActivityCustomerNameSchema)
    recorded_at = ma.fields.Integer()
    category = ma.fields.String()
    rating = ma.fields.Integer(allow_none=True)
    product_id = ma.fields.String(allow_none=True)
    requested_quantity = ma.fields.Float(allow_none=True)
    comment = ma.fields.String(allow_none=True)


class DaySummarySchema(ma.Schema):
    first_activity_at = ma.fields.Integer(allow_none=True)
    last_activity_at = ma.fields.Integer(allow_none=True)
    visits = ma.fields.Integer()
    verified_visits = ma.fields.Integer()
    time_on_site_s = ma.fields.Float()
    selling_time_s = ma.fields.Float()
    non_selling_time_s = ma.fields.Float()
    selling_share = ma.fields.Float(allow_none=True)
    stops = ma.fields.Integer()
    stops_at_customers = ma.fields.Integer()
    travel_distance_m = ma.fields.Float()
    pings = ma.fields.Integer()
    flagged_pings = ma.fields.Integer()
    tasks_done = ma.fields.Integer()
    orders = ma.fields.Integer()
    order_value = ma.fields.Float()
    feedback = ma.fields.Integer()


class ActivityRepSchema(ma.Schema):
    id = ma.fields.String()
    name = ma.fields.String()
    selling_style = ma.fields.String(allow_none=True)


class WorkingHoursSchema(ma.Schema):
    start_ms = ma.fields.Integer()
    end_ms = ma.fields.Integer()


class ActivitySchema(ma.Schema):
    rep = ma.fields.Nested(ActivityRepSchema)
    date = ma.fields.String()
    working_hours = ma.fields.Nested(WorkingHoursSchema, metadata={
        "description": "Positions are shown only inside these hours."})
    summary = ma.fields.Nested(DaySummarySchema)
    visits = ma.fields.List(ma.fields.Nested(ActivityVisitSchema))
    stops = ma.fields.List(ma.fields.Nested(ActivityStopSchema))
    trail = ma.fields.List(ma.fields.Nested(ActivityLegSchema))
    tasks_done = ma.fields.List(ma.fields.Nested(ActivityTaskSchema))
    orders = ma.fields.List(ma.fields.Nested(ActivityOrderSchema))
    feedback = ma.fields.List(ma.fields.Nested(ActivityFeedbackSchema))


# --- team overview ------------------------------------------------------------------------
OVERVIEW_PERIODS = ("day", "week", "month")


class OverviewArgs(StrictSchema):
    period = ma.fields.String(load_default="week", validate=validate.OneOf(OVERVIEW_PERIODS))
    date = Day(load_default=None, metadata={
        "description": "A day in the period (UTC); default today."})


def _numbers(names, schema_name):
    return ma.Schema.from_dict({name: ma.fields.Float(allow_none=True) for name in names},
                               name=schema_name)


ScoreComponentsSchema = _numbers(overview_fields.COMPONENTS, "ScoreComponents")
ScoreRatesSchema = _numbers(overview_fields.RATES, "ScoreRates")
ScoreFiguresSchema = _numbers(overview_fields.FIGURES, "ScoreFigures")


class OverviewTargetSchema(ma.Schema):
    id = ma.fields.String()
    metric = ma.fields.String()
    goal = ma.fields.Float()
    actual = ma.fields.Float()
    attainment = ma.fields.Float()
    pace = ma.fields.Float(allow_none=True)


class OverviewRepSchema(ma.Schema):
    rank = ma.fields.Integer(allow_none=True, metadata={
        "description": "Place on the leaderboard; null when not scored."})
    rep = ma.fields.Nested(ActivityRepSchema)
    score = ma.fields.Float(allow_none=True, metadata={"description": "0-100."})
    base_score = ma.fields.Float(allow_none=True)
    suspect_penalty = ma.fields.Float(allow_none=True, metadata={
        "description": "Taken off for unverified visits and flagged pings."})
    components = ma.fields.Nested(ScoreComponentsSchema, metadata={
        "description": "0-1 each; null: does not apply to this rep."})
    rates = ma.fields.Nested(ScoreRatesSchema)
    figures = ma.fields.Nested(ScoreFiguresSchema)
    targets = ma.fields.List(ma.fields.Nested(OverviewTargetSchema))


class LeaderSchema(ma.Schema):
    rank = ma.fields.Integer()
    rep_id = ma.fields.String()
    name = ma.fields.String()
    score = ma.fields.Float()


class TeamTotalSchema(ma.Schema):
    reps = ma.fields.Integer()
    reps_scored = ma.fields.Integer()
    score = ma.fields.Float(allow_none=True, metadata={"description": "Mean of the reps'."})
    components = ma.fields.Nested(ScoreComponentsSchema)
    rates = ma.fields.Nested(ScoreRatesSchema)
    figures = ma.fields.Nested(ScoreFiguresSchema, metadata={
        "description": "Sums over the reps."})
    targets = ma.fields.List(ma.fields.Nested(OverviewTargetSchema), metadata={
        "description": "Whole-team targets of this period."})


class TeamRefSchema(ma.Schema):
    id = ma.fields.String()
    name = ma.fields.String()


class TeamOverviewSchema(ma.Schema):
    team = ma.fields.Nested(TeamRefSchema)
    period = ma.fields.String()
    date = ma.fields.String()
    start_ms = ma.fields.Integer()
    end_ms = ma.fields.Integer(metadata={"description": "Exclusive."})
    computed_at = ma.fields.Integer(allow_none=True, metadata={
        "description": "When the scores were computed; null: not yet."})
    reps = ma.fields.List(ma.fields.Nested(OverviewRepSchema))
    leaderboard = ma.fields.List(ma.fields.Nested(LeaderSchema))
    team_total = ma.fields.Nested(TeamTotalSchema)


# --- backlog ------------------------------------------------------------------------------
class BacklogArgs(ListArgs):
    sort = sort_field("rank", "ordered_at", "requested_delivery_at", "promised_dispatch_at",
                      "pending_value", default="rank")
    customer_id = IdField()
    rep_id = IdField()
    product_id = IdField(metadata={"description": "Orders with this product pending."})
    min_age_days = ma.fields.Integer(validate=validate.Range(0, 100_000))
    late_only = ma.fields.Boolean(metadata={
        "description": "true: past the requested delivery date; false: not late."})


class BacklogLineSchema(ma.Schema):
    class Meta:
        ordered = True

    line_id = ma.fields.String()
    product_id = ma.fields.String()
    sku = ma.fields.String()
    name = ma.fields.String()
    quantity = ma.fields.Float()
    delivered_quantity = ma.fields.Float()
    pending_quantity = ma.fields.Float()
    unit_price = ma.fields.Float()
    stock_on_hand = ma.fields.Float()
    available_quantity = ma.fields.Float(metadata={
        "description": "What stock can fill of this line now, handing stock out in "
                       "dispatch-priority order."})
    availability = ma.fields.String(validate=validate.OneOf(("full", "partial", "none")))


class BacklogOrderSchema(ma.Schema):
    class Meta:
        ordered = True

    id = ma.fields.String()
    rank = ma.fields.Integer(allow_none=True, metadata={
        "description": "1 ships first; null: taken after the backlog job last ran."})
    score = ma.fields.Float(allow_none=True)
    reasons = ma.fields.List(ma.fields.String())
    status = ma.fields.String()
    customer_id = ma.fields.String()
    customer_name = ma.fields.String()
    rep_id = ma.fields.String()
    rep_name = ma.fields.String()
    ordered_at = ma.fields.Integer()
    requested_delivery_at = ma.fields.Integer(allow_none=True)
    promised_dispatch_at = ma.fields.Integer(allow_none=True)
    age_days = ma.fields.Float()
    lateness_days = ma.fields.Float(metadata={"description": "0 when not late."})
    pending_quantity = ma.fields.Float()
    pending_value = ma.fields.Float()
    open_lines = ma.fields.Integer()
    fill = ma.fields.String(allow_none=True, metadata={
        "description": "full / partial / none, as ranked by the job."})
    ranked_at = ma.fields.Integer(allow_none=True)
    lines = ma.fields.List(ma.fields.Nested(BacklogLineSchema))


BacklogPageSchema = page_schema(BacklogOrderSchema, "BacklogPage")


class BacklogSummaryArgs(DateRangeArgs):
    team_id = IdField()
    rep_id = IdField()


class AgeBucketSchema(ma.Schema):
    bucket = ma.fields.String()
    orders = ma.fields.Integer()
    quantity = ma.fields.Float()
    value = ma.fields.Float()


class BacklogHealthSchema(ma.Schema):
    start_ms = ma.fields.Integer()
    end_ms = ma.fields.Integer()
    as_of = ma.fields.Integer(metadata={
        "description": "The moment the backlog figures describe: the period's end, or now."})
    backlog_orders = ma.fields.Integer()
    backlog_quantity = ma.fields.Float()
    backlog_value = ma.fields.Float()
    age_buckets = ma.fields.List(ma.fields.Nested(AgeBucketSchema))
    orders_taken = ma.fields.Integer()
    backlog_ratio = ma.fields.Float(allow_none=True)
    delivered_orders = ma.fields.Integer()
    average_lead_time_days = ma.fields.Float(allow_none=True)
    on_time_share = ma.fields.Float(allow_none=True)


class TrendSchema(ma.Schema):
    current = ma.fields.Float(allow_none=True)
    previous = ma.fields.Float(allow_none=True)
    change = ma.fields.Float(allow_none=True)
    direction = ma.fields.String(allow_none=True)


class BacklogSummarySchema(ma.Schema):
    current = ma.fields.Nested(BacklogHealthSchema)
    previous = ma.fields.Nested(BacklogHealthSchema, metadata={
        "description": "The period of the same length just before."})
    trend = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Nested(TrendSchema))


# --- demand -------------------------------------------------------------------------------
class DemandArgs(ListArgs):
    sort = sort_field("attention", "sku", "forecast", "days_of_cover", "reorder_suggestion",
                      default="attention")
    flagged = ma.fields.Boolean()
    rising_demand = ma.fields.Boolean()
    stock_short_of_backlog = ma.fields.Boolean()
    q = ma.fields.String(validate=validate.Length(max=200), metadata={
        "description": "Part of the name or SKU."})


class DemandSchema(ma.Schema):
    class Meta:
        ordered = True

    product_id = ma.fields.String()
    sku = ma.fields.String()
    name = ma.fields.String()
    unit = ma.fields.String()
    flagged = ma.fields.Boolean()
    rising_demand = ma.fields.Boolean()
    stock_short_of_backlog = ma.fields.Boolean()
    week_start = ma.fields.Integer(allow_none=True, metadata={
        "description": "The last complete week the job saw (Monday, epoch ms)."})
    ordered_quantity = ma.fields.Float(allow_none=True)
    feedback_requested_quantity = ma.fields.Float(allow_none=True)
    ordered_4w = ma.fields.Float(allow_none=True)
    requested_4w = ma.fields.Float(allow_none=True)
    forecast = ma.fields.Float(allow_none=True, metadata={"description": "Next week."})
    trend = ma.fields.Float(allow_none=True, metadata={"description": "Per week."})
    level = ma.fields.Float(allow_none=True)
    backlog_quantity = ma.fields.Float(allow_none=True)
    stock_on_hand = ma.fields.Float(allow_none=True)
    lead_time_days = ma.fields.Integer(allow_none=True)
    days_of_cover = ma.fields.Float(allow_none=True)
    reorder_suggestion = ma.fields.Float(allow_none=True)
    computed_at = ma.fields.Integer(allow_none=True)


DemandPageSchema = page_schema(DemandSchema, "DemandPage")
