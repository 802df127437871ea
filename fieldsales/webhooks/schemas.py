"""Webhook payloads: a subscription as created, changed and answered; the delivery log."""
import marshmallow as ma
from marshmallow import validate

from fieldsales.common import ID_PATTERN
from fieldsales.events.service import TYPES
from fieldsales.listing import NewestFirstArgs
from fieldsales.schemas import Flag, StrictSchema

DELIVERY_STATUSES = ("pending", "succeeded", "failed")


_URL = {"description": "Where deliveries are POSTed: http(s), a public address (or one named "
                       "in WEBHOOKS_ALLOWED_HOSTS)."}
_TYPES = {"description": "The event types it receives."}
_TEAM = {"description": "One team's events only; null: every team's, and the team-less ones "
                        "(demand.flagged)."}


def _types_field(**kwargs) -> ma.fields.List:
    return ma.fields.List(ma.fields.String(validate=validate.OneOf(list(TYPES))),
                          validate=validate.Length(1, len(TYPES)), metadata=_TYPES, **kwargs)


class SubscriptionUpdateSchema(StrictSchema):
    """The fields a PATCH may change; omitted fields stay as they are."""

    url = ma.fields.String(validate=validate.Length(1, 2000), metadata=_URL)
    event_types = _types_field()
    team_id = ma.fields.String(allow_none=True, validate=validate.Regexp(ID_PATTERN),
                               metadata=_TEAM)
    description = ma.fields.String(allow_none=True, validate=validate.Length(max=200))
    active = Flag(metadata={"description": "false disables it; true enables it again (its "
                                           "pending deliveries go out, its failure count "
                                           "starts again)."})


class SubscriptionCreateSchema(SubscriptionUpdateSchema):
    class Meta(StrictSchema.Meta):
        exclude = ("active",)  # a new subscription is active

    url = ma.fields.String(required=True, validate=validate.Length(1, 2000), metadata=_URL)
    event_types = _types_field(required=True)
    team_id = ma.fields.String(load_default=None, allow_none=True,
                               validate=validate.Regexp(ID_PATTERN), metadata=_TEAM)
    description = ma.fields.String(load_default=None, allow_none=True,
                                   validate=validate.Length(max=200))


class SubscriptionSchema(ma.Schema):
    id = ma.fields.String()
    url = ma.fields.String()
    description = ma.fields.String(allow_none=True)
    event_types = ma.fields.List(ma.fields.String())
    team_id = ma.fields.String(allow_none=True)
    active = ma.fields.Boolean()
    disabled_reason = ma.fields.String(allow_none=True)
    failures_in_a_row = ma.fields.Integer()
    created_at = ma.fields.Integer()
    updated_at = ma.fields.Integer()
    secret = ma.fields.String(allow_none=True, metadata={
        "description": "The signing secret (`whsec_...`), only in the answer that made it "
                       "(create, rotate-secret); null elsewhere."})
    secret_hint = ma.fields.String(metadata={"description": "Its first characters."})


class SubscriptionListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(SubscriptionSchema))


class DeliverySchema(ma.Schema):
    id = ma.fields.Integer()
    event_id = ma.fields.Integer(metadata={
        "description": "The event; its `webhook-id` is `evt_<event_id>`."})
    status = ma.fields.String(metadata={"description": "pending, succeeded or failed."})
    attempts = ma.fields.Integer()
    created_at = ma.fields.Integer()
    next_attempt_at = ma.fields.Integer(allow_none=True)
    give_up_at = ma.fields.Integer(metadata={
        "description": "Still failing then: the delivery has failed."})
    last_attempt_at = ma.fields.Integer(allow_none=True)
    response_code = ma.fields.Integer(allow_none=True, metadata={
        "description": "The last attempt's HTTP status; null: no answer."})
    duration_ms = ma.fields.Integer(allow_none=True)
    error = ma.fields.String(allow_none=True)


class DeliveryListArgs(NewestFirstArgs):
    status = ma.fields.String(validate=validate.OneOf(DELIVERY_STATUSES))


class DeliveryPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(DeliverySchema))
    next_cursor = ma.fields.String(allow_none=True)
