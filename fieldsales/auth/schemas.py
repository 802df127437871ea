import marshmallow as ma
from marshmallow import validate

from fieldsales.schemas import StrictSchema
from fieldsales.users.schemas import UserBriefSchema


class LoginSchema(StrictSchema):
    email = ma.fields.String(required=True, validate=validate.Length(1, 320))
    password = ma.fields.String(required=True, load_only=True, validate=validate.Length(1, 200))


class TokenSchema(ma.Schema):
    access_token = ma.fields.String()
    token_type = ma.fields.String()
    expires_in = ma.fields.Integer(metadata={"description": "Seconds until the token expires."})
    user = ma.fields.Nested(UserBriefSchema)
