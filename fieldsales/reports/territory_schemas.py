"""Arguments and answer of the territory balance (GET /territories/balance)."""
import marshmallow as ma
from marshmallow import validate

from fieldsales.listing import ListArgs, page_schema, sort_field
from fieldsales.schemas import IdField

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
    # Shadows Schema.load: fine for a schema that only dumps (the name is the response's).
    load = ma.fields.Float(  # type: ignore[assignment]
        metadata={"description": "needed / possible."})
    flag = ma.fields.String(validate=validate.OneOf(TERRITORY_FLAGS))
    centroid = ma.fields.Nested(TerritoryCentroidSchema, allow_none=True)
    takeover_candidates = ma.fields.List(ma.fields.Nested(TakeoverCandidateSchema), metadata={
        "description": "Overloaded reps: teammates with spare visits, nearest first."})


TerritoryPageSchema = page_schema(TerritorySchema, "TerritoryPage")
