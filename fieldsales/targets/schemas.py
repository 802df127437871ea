import marshmallow as ma
from marshmallow import validate

from fieldsales.listing import ListArgs, page_schema, sort_field
from fieldsales.schemas import Day, IdField, StrictSchema
from fieldsales.targets.models import TARGET_METRICS, TARGET_PERIODS


class TargetCreateSchema(StrictSchema):
    team_id = IdField(load_default=None, allow_none=True, metadata={
        "description": "The team (managers: their own, may be left out). With `rep_id`, "
                       "the rep's team."})
    rep_id = IdField(load_default=None, allow_none=True, metadata={
        "description": "The rep; leave out for a target of the whole team."})
    metric = ma.fields.String(required=True, validate=validate.OneOf(TARGET_METRICS))
    period = ma.fields.String(required=True, validate=validate.OneOf(TARGET_PERIODS))
    period_start = Day(required=True, metadata={
        "description": "First day of the period (UTC): any day, a Monday, the 1st of a month, "
                       "or the 1st of January/April/July/October."})
    goal = ma.fields.Float(required=True, validate=validate.Range(min=0, min_inclusive=False))


class TargetUpdateSchema(StrictSchema):
    metric = ma.fields.String(validate=validate.OneOf(TARGET_METRICS))
    period = ma.fields.String(validate=validate.OneOf(TARGET_PERIODS))
    period_start = Day()
    goal = ma.fields.Float(validate=validate.Range(min=0, min_inclusive=False))


class TargetSchema(ma.Schema):
    class Meta:
        ordered = True

    id = ma.fields.String()
    team_id = ma.fields.String()
    rep_id = ma.fields.String(allow_none=True)
    metric = ma.fields.String()
    period = ma.fields.String()
    period_start = ma.fields.String(metadata={"description": "First day (UTC), YYYY-MM-DD.",
                                              "format": "date"})
    starts_at = ma.fields.Integer(metadata={"description": "Epoch ms."})
    ends_at = ma.fields.Integer(metadata={"description": "Epoch ms, exclusive."})
    goal = ma.fields.Float()
    actual = ma.fields.Float(metadata={"description": "The metric so far this period."})
    attainment = ma.fields.Float(metadata={"description": "actual / goal."})
    elapsed_share = ma.fields.Float(metadata={"description": "Share of the period gone by."})
    projected = ma.fields.Float(allow_none=True, metadata={
        "description": "actual extrapolated to the period end at the pace so far."})
    pace = ma.fields.Float(allow_none=True, metadata={
        "description": "projected / goal: 1.0 means on track to meet the goal exactly."})
    created_by_id = ma.fields.String(allow_none=True)
    created_at = ma.fields.Integer()


class TargetListArgs(ListArgs):
    sort = sort_field("period_start", "created_at", "goal", "metric", default="-period_start")
    team_id = IdField()
    rep_id = IdField(metadata={"description": "Targets of this rep (not team-wide ones)."})
    team_wide = ma.fields.Boolean(metadata={"description": "true: only whole-team targets."})
    metric = ma.fields.String(validate=validate.OneOf(TARGET_METRICS))
    period = ma.fields.String(validate=validate.OneOf(TARGET_PERIODS))
    active_on = Day(metadata={"description": "Targets whose period contains this day."})


TargetPageSchema = page_schema(TargetSchema, "TargetPage")
