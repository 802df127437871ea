import marshmallow as ma
from marshmallow import validate

from fieldsales.listing import NewestFirstArgs
from fieldsales.locations.models import POSITION_VIEWS
from fieldsales.privacy.export import FORMATS
from fieldsales.schemas import StrictSchema


class ExportArgs(StrictSchema):
    format = ma.fields.String(load_default="zip", validate=validate.OneOf(FORMATS), metadata={
        "description": "`zip`: a zip of CSV files, one per kind; `json`: one JSON object "
                       "with a list per kind."})


class ViewerSchema(ma.Schema):
    id = ma.fields.String()
    name = ma.fields.String()
    role = ma.fields.String()


class PositionViewSchema(ma.Schema):
    id = ma.fields.Integer()
    viewed_at = ma.fields.Integer()
    what = ma.fields.String(metadata={"description": f"One of {', '.join(POSITION_VIEWS)}."})
    detail = ma.fields.String(allow_none=True, metadata={
        "description": "What the view covered: a day, a list's filters."})
    viewer = ma.fields.Nested(ViewerSchema)


class PositionViewListArgs(NewestFirstArgs):
    pass


class PositionViewPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(PositionViewSchema))
    next_cursor = ma.fields.String(allow_none=True)
