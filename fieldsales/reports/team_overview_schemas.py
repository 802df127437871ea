"""Arguments and answer of the team overview (GET /teams/<id>/overview)."""
import marshmallow as ma
from marshmallow import validate

from fieldsales.plans.schemas import PlanComplianceSchema
from fieldsales.reports import team_overview as overview_fields
from fieldsales.reports.activity_schemas import ActivityRepSchema
from fieldsales.schemas import Day, StrictSchema

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
    plan = ma.fields.Nested(PlanComplianceSchema, metadata={
        "description": "The journey plans of the period's days (route efficiency against "
                       "the scores' travel distance)."})


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
    plan = ma.fields.Nested(PlanComplianceSchema, metadata={
        "description": "The reps' plans together: counts summed, rates from the sums."})


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
