"""Planned-visit payloads: what the API accepts and what it answers (sync contract, "Schema
version 2", set-up; glossary "Planned visit")."""
import marshmallow as ma
from marshmallow import validate

from fieldsales.listing import ListArgs, page_schema, sort_field
from fieldsales.plans.models import PLAN_STATUSES
from fieldsales.schemas import Day, Flag, IdField, StrictSchema

MAX_SEQUENCE = 9999  # stops in a day; the `route` sort's key holds four digits of it
MAX_DURATION_S = 86_400
_MS = validate.Range(0, 2**53, error="Must be a time in epoch milliseconds.")


class PlannedVisitSchema(ma.Schema):
    """A planned visit as stored."""

    id = ma.fields.String()
    rep_id = ma.fields.String()
    customer_id = ma.fields.String()
    planned_date = ma.fields.String(metadata={
        "description": "YYYY-MM-DD: the rep's local day, in the team's time zone."})
    sequence = ma.fields.Integer(metadata={"description": "1, 2, ... within the day."})
    planned_arrival_at = ma.fields.Integer(allow_none=True, metadata={"description": "Epoch ms."})
    planned_duration_s = ma.fields.Integer(allow_none=True)
    reason = ma.fields.String(metadata={
        "description": "cadence, task, backlog, complaint, prospect or manual."})
    status = ma.fields.String(metadata={"description": "planned, done, missed or skipped."})
    skip_reason = ma.fields.String(allow_none=True, metadata={
        "description": "Why the rep skipped it (from the phone)."})
    visit_id = ma.fields.String(allow_none=True, metadata={
        "description": "The verified visit that carried it out."})
    locked = ma.fields.Boolean(metadata={
        "description": "Re-planning leaves a locked planned visit where it is."})
    created_by_id = ma.fields.String(allow_none=True)
    deleted_at = ma.fields.Integer(allow_none=True,
                                   metadata={"description": "Removal time (ms); null if live."})


class PlannedVisitUpdateSchema(StrictSchema):
    """What a PATCH may change (omitted fields stay): move it (day, place in the day, times)
    while it is still planned, or lock and unlock it."""

    planned_date = Day(metadata={
        "description": "The rep's local day: from their today to 14 days ahead."})
    sequence = ma.fields.Integer(strict=True, validate=validate.Range(1, MAX_SEQUENCE))
    planned_arrival_at = ma.fields.Integer(strict=True, allow_none=True, validate=_MS)
    planned_duration_s = ma.fields.Integer(strict=True, allow_none=True,
                                           validate=validate.Range(0, MAX_DURATION_S))
    locked = Flag()


class PlannedVisitCreateSchema(PlannedVisitUpdateSchema):
    id = IdField(metadata={
        "description": "Optional client-made id; the server makes one if absent."})
    rep_id = IdField(required=True, metadata={"description": "Managers: a rep of their team."})
    customer_id = IdField(required=True, metadata={
        "description": "A customer the caller can see, assigned to the rep."})
    planned_date = Day(required=True, metadata={
        "description": "The rep's local day (YYYY-MM-DD): from their today to 14 days ahead "
                       "(what the phone holds)."})
    sequence = ma.fields.Integer(strict=True, validate=validate.Range(1, MAX_SEQUENCE),
                                 metadata={"description": "Absent: after the day's last stop."})
    locked = Flag(load_default=True, metadata={
        "description": "A manager's stop stays where it is when plans are made again "
                       "(default true)."})


class PlannedVisitListArgs(ListArgs):
    sort = sort_field("route", "id", "planned_date", "sequence", "status", default="route")
    rep_id = IdField()
    customer_id = IdField()
    planned_date = Day(metadata={"description": "One day (YYYY-MM-DD)."})
    date_from = Day(metadata={"description": "planned_date >= this day."})
    date_to = Day(metadata={"description": "planned_date <= this day."})
    status = ma.fields.String(validate=validate.OneOf(PLAN_STATUSES))


PlannedVisitPageSchema = page_schema(PlannedVisitSchema, "PlannedVisitPage")


class PlanSkipSchema(ma.Schema):
    planned_visit_id = ma.fields.String()
    customer_id = ma.fields.String()
    planned_date = ma.fields.String()
    skip_reason = ma.fields.String(allow_none=True)


class PlanComplianceSchema(ma.Schema):
    """How the rep kept to the plan (fieldsales/plans/compliance.py; docs/scoring.md)."""

    planned = ma.fields.Integer(metadata={"description": "Planned visits (not removed)."})
    done = ma.fields.Integer()
    missed = ma.fields.Integer()
    skipped = ma.fields.Integer()
    open = ma.fields.Integer(metadata={"description": "Still planned (the day not closed)."})
    call_rate = ma.fields.Float(allow_none=True, metadata={"description": "done / planned."})
    plan_adherence = ma.fields.Float(allow_none=True, metadata={
        "description": "Planned visits done in planned order, within their day / planned."})
    unplanned_visits = ma.fields.Integer(metadata={
        "description": "Visits that carried out no planned visit."})
    skips = ma.fields.List(ma.fields.Nested(PlanSkipSchema), metadata={
        "description": "Skipped planned visits with the rep's reasons."})
    planned_distance_m = ma.fields.Float(metadata={
        "description": "Straight-line distance from stop to stop in planned order."})
    route_efficiency = ma.fields.Float(allow_none=True, metadata={
        "description": "planned_distance_m / travelled distance; null without either."})
