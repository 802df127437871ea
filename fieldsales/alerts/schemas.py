"""Alert payloads: a team's rules (what the API takes and answers), the feed's query and
its items."""
import marshmallow as ma
from marshmallow import validate

from fieldsales.events.service import TYPES
from fieldsales.listing import NewestFirstArgs
from fieldsales.schemas import Flag, StrictSchema

EVENT_TYPES = tuple(TYPES)
THRESHOLD_TYPES = ("rep.silent", "order.late", "feedback.complaint")


class AlertRuleSchema(StrictSchema):
    event_type = ma.fields.String(required=True, validate=validate.OneOf(EVENT_TYPES), metadata={
        "description": "The event type that alerts (the outbox's types)."})
    threshold = ma.fields.Integer(strict=True, load_default=None, allow_none=True,
                                  validate=validate.Range(0, 1_000_000), metadata={
        "description": "rep.silent: minutes silent at least; order.late: days late at least; "
                       "feedback.complaint: rating at most. Null: every event of the type. "
                       "Other types take none."})
    email = Flag(load_default=True, metadata={"description": "Whether the alert is e-mailed."})
    recipients = ma.fields.List(ma.fields.Email(validate=validate.Length(max=320)),
                                load_default=None, allow_none=True,
                                validate=validate.Length(max=50), metadata={
        "description": "Who is e-mailed; null or empty: the team's managers."})


class AlertRulesSchema(StrictSchema):
    """A team's alert rules: the event types listed alert, the others do not."""

    rules = ma.fields.List(ma.fields.Nested(AlertRuleSchema), required=True)
    team_id = ma.fields.String(dump_only=True)

    @ma.validates_schema
    def _each_type_once_and_thresholds_where_they_mean_something(self, data, **_):
        types = [rule["event_type"] for rule in data.get("rules", [])]
        if len(types) != len(set(types)):
            raise ma.ValidationError("Each event type at most once.", "rules")
        odd = [rule["event_type"] for rule in data.get("rules", [])
               if rule.get("threshold") is not None and rule["event_type"] not in THRESHOLD_TYPES]
        if odd:
            raise ma.ValidationError(f"No threshold for {', '.join(odd)} (only "
                                     f"{', '.join(THRESHOLD_TYPES)} take one).", "rules")


class AlertListArgs(NewestFirstArgs):
    team_id = ma.fields.String(load_default=None, validate=validate.Length(max=64), metadata={
        "description": "Admins: one team's alerts (a manager's own team only)."})
    unacknowledged = ma.fields.Boolean(load_default=False,
                          metadata={"description": "Only the alerts nobody acknowledged yet."})


class AlertSchema(ma.Schema):
    id = ma.fields.Integer()
    team_id = ma.fields.String()
    event_id = ma.fields.Integer()
    event_type = ma.fields.String()
    subject_id = ma.fields.String()
    payload = ma.fields.Dict()
    occurred_at = ma.fields.Integer(metadata={"description": "The event's time, epoch ms."})
    created_at = ma.fields.Integer()
    acknowledged_at = ma.fields.Integer(allow_none=True)
    acknowledged_by_id = ma.fields.String(allow_none=True)
    mail_wanted = ma.fields.Boolean()
    mailed_at = ma.fields.Integer(allow_none=True)
    mail_error = ma.fields.String(allow_none=True)


class AlertPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(AlertSchema))
    next_cursor = ma.fields.String(allow_none=True, metadata={
        "description": "Pass back as `cursor` for the next page; null on the last page."})
