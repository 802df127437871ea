"""The answer of where a team is now (GET /teams/<id>/today)."""
import marshmallow as ma
from marshmallow import validate

from fieldsales.reports.team_overview_schemas import TeamRefSchema
from fieldsales.reports.team_today import STATUSES


class _Ref(ma.Schema):
    id = ma.fields.String()
    name = ma.fields.String()


class PositionSchema(ma.Schema):
    latitude = ma.fields.Float()
    longitude = ma.fields.Float()
    recorded_at = ma.fields.Integer(metadata={"description": "Epoch ms (phone time)."})
    speed_mps = ma.fields.Float(allow_none=True)


class TodayRepSchema(ma.Schema):
    rep = ma.fields.Nested(_Ref)
    status = ma.fields.String(validate=validate.OneOf(STATUSES), metadata={
        "description": "on_visit, travelling, idle, silent (no on-duty ping for "
                       "TODAY_SILENT_MINUTES) or off_duty."})
    since = ma.fields.Integer(allow_none=True, metadata={
        "description": "on_visit: the check-in; otherwise the newest on-duty ping."})
    silent_minutes = ma.fields.Integer(allow_none=True)
    customer = ma.fields.Nested(_Ref, allow_none=True, metadata={
        "description": "The customer of the open visit."})
    position = ma.fields.Nested(PositionSchema, allow_none=True, metadata={
        "description": "The newest ping inside working hours within TODAY_LOOKBACK_DAYS."})


class TeamTodaySchema(ma.Schema):
    team = ma.fields.Nested(TeamRefSchema)
    now = ma.fields.Integer(metadata={"description": "The server's time of the answer."})
    reps = ma.fields.List(ma.fields.Nested(TodayRepSchema))
    counts = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), metadata={
        "description": "Reps per status."})
