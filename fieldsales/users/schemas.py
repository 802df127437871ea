import marshmallow as ma
from marshmallow import validate

from fieldsales.common import ROLES
from fieldsales.listing import ListArgs, page_schema, sort_field
from fieldsales.schemas import Flag, IdField, StrictSchema
from fieldsales.users.models import SELLING_STYLES


class UserSchema(ma.Schema):
    id = ma.fields.String(dump_only=True)
    email = ma.fields.String()
    name = ma.fields.String()
    role = ma.fields.String()
    team_id = ma.fields.String(allow_none=True)
    selling_style = ma.fields.String(allow_none=True)
    active = ma.fields.Boolean()
    created_at = ma.fields.Integer()


class UserBriefSchema(ma.Schema):
    id = ma.fields.String()
    name = ma.fields.String()
    role = ma.fields.String()


class UserCreateSchema(StrictSchema):
    email = ma.fields.Email(required=True, validate=validate.Length(max=320))
    password = ma.fields.String(required=True, load_only=True, validate=validate.Length(8, 200))
    name = ma.fields.String(required=True, validate=validate.Length(1, 200))
    role = ma.fields.String(required=True, validate=validate.OneOf(
        ROLES, error="Unknown role '{input}': must be one of {choices}."))
    manager_id = IdField(load_default=None, allow_none=True, metadata={
        "description": "Required for a rep (they join this manager's team); only for reps."})
    selling_style = ma.fields.String(load_default=None, allow_none=True,
                                     validate=validate.OneOf(SELLING_STYLES))


class CliUserCreateSchema(UserCreateSchema):
    """`flask users create`: the API's rules, but the operator (or a test harness following
    the sync contract's set-up) picks any non-empty password."""

    password = ma.fields.String(required=True, load_only=True, validate=validate.Length(1, 200))


class UserUpdateSchema(StrictSchema):
    email = ma.fields.Email(validate=validate.Length(max=320))
    password = ma.fields.String(load_only=True, validate=validate.Length(8, 200))
    name = ma.fields.String(validate=validate.Length(1, 200))
    team_id = IdField(allow_none=True)
    selling_style = ma.fields.String(validate=validate.OneOf(SELLING_STYLES))
    active = Flag()


class UserListArgs(ListArgs):
    sort = sort_field("id", "name", "email", "role", default="id")
    role = ma.fields.String(validate=validate.OneOf(ROLES))
    team_id = IdField()


UserPageSchema = page_schema(UserSchema, "UserPage")


class TeamSchema(ma.Schema):
    id = ma.fields.String()
    name = ma.fields.String()
    visit_cadence_days = ma.fields.Integer()


class RevokedSchema(ma.Schema):
    revoked = ma.fields.Integer(metadata={"description": "How many live tokens were revoked."})
