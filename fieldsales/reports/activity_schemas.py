"""Arguments and answer of a rep's day (GET /reps/<id>/activity)."""
import marshmallow as ma

from fieldsales.plans.schemas import PlanComplianceSchema
from fieldsales.schemas import Day, StrictSchema


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
        "description": "The customer whose geofence holds the stop, among the customers "
                       "the viewer may see; null: a stop at no such customer (another "
                       "team's customer is never named)."})
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
    plan = ma.fields.Nested(PlanComplianceSchema, metadata={
        "description": "The rep's journey plan of the day (the team's local day) and how it "
                       "was kept; route efficiency against the day's travel distance."})
    visits = ma.fields.List(ma.fields.Nested(ActivityVisitSchema))
    stops = ma.fields.List(ma.fields.Nested(ActivityStopSchema))
    trail = ma.fields.List(ma.fields.Nested(ActivityLegSchema))
    tasks_done = ma.fields.List(ma.fields.Nested(ActivityTaskSchema))
    orders = ma.fields.List(ma.fields.Nested(ActivityOrderSchema))
    feedback = ma.fields.List(ma.fields.Nested(ActivityFeedbackSchema))
