"""Schema pieces shared by every domain."""
import marshmallow as ma
from marshmallow import validate

from fieldsales.common import ID_RE

ID_MESSAGE = "Must be 1-64 characters of A-Z a-z 0-9 _ - ."


def IdField(**kwargs) -> ma.fields.String:
    return ma.fields.String(validate=validate.Regexp(ID_RE, error=ID_MESSAGE), **kwargs)


def Latitude(**kwargs) -> ma.fields.Float:
    return ma.fields.Float(validate=validate.Range(-90, 90), **kwargs)


def Longitude(**kwargs) -> ma.fields.Float:
    return ma.fields.Float(validate=validate.Range(-180, 180), **kwargs)


def Text(max_length: int = 10_000, **kwargs) -> ma.fields.String:
    return ma.fields.String(validate=validate.Length(max=max_length), **kwargs)


class StrictSchema(ma.Schema):
    """Unknown fields are an error the client hears about, not a silent drop."""

    class Meta:
        unknown = ma.RAISE
        ordered = True


class PageArgs(StrictSchema):
    """Keyset pagination: pass back `next_cursor` as `cursor` until it is null."""

    limit = ma.fields.Integer(load_default=100, validate=validate.Range(1, 1000))
    cursor = ma.fields.String(load_default=None, validate=validate.Length(max=2000))
