"""Sync payloads. The push body is parsed by hand (fieldsales/sync/push/parse.py); the pull's
and the push's answers are built by their services with the contract's exact JSON types
(WatermelonDB turns a wrong type into null). The push's is dumped by its schema without
converting a value; the pull's, thousands of records in a first pull, is sent as built, and
`PullSchema` documents it. They also shape the admin endpoints."""
import marshmallow as ma
from marshmallow import validate

from fieldsales.listing import NewestFirstArgs
from fieldsales.schemas import IdField, StrictSchema
from fieldsales.sync.tables import TABLES

_TABLE_DOC = "Tables: " + ", ".join(TABLES) + "."


class TableChangesSchema(ma.Schema):
    created = ma.fields.List(ma.fields.Dict(), metadata={"description": "Raw records."})
    updated = ma.fields.List(ma.fields.Dict(), metadata={"description": "Raw records, whole."})
    deleted = ma.fields.List(ma.fields.String(), metadata={"description": "Ids."})


class PullSchema(ma.Schema):
    changes = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Nested(TableChangesSchema),
                             metadata={"description": "Every table of the contract. " + _TABLE_DOC})
    timestamp = ma.fields.Integer(metadata={
        "description": "Server time (ms); send it as `last_pulled_at` next time."})


class QuarantinedBriefSchema(ma.Schema):
    table = ma.fields.String()
    id = ma.fields.String(allow_none=True)
    errors = ma.fields.Dict(metadata={"description": "Column -> reasons."})


class PushResultSchema(ma.Schema):
    accepted = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(),
                              metadata={"description":
                                        "Records stored (or already stored), per table."})
    quarantined = ma.fields.List(ma.fields.Nested(QuarantinedBriefSchema),
                                 metadata={"description": "Records refused and kept for an admin."})


class QuarantineSchema(ma.Schema):
    id = ma.fields.Integer()
    user_id = ma.fields.String()
    table = ma.fields.String(attribute="table_name")
    record_id = ma.fields.String(allow_none=True)
    operation = ma.fields.String(metadata={"description": "created, updated or deleted."})
    payload = ma.fields.Raw(metadata={"description": "The record exactly as pushed."})
    errors = ma.fields.Dict()
    received_at = ma.fields.Integer()
    status = ma.fields.String(metadata={"description": "pending, replayed or discarded."})
    resolved_at = ma.fields.Integer(allow_none=True)
    resolved_by_id = ma.fields.String(allow_none=True)
    replayed_record = ma.fields.Raw(allow_none=True, metadata={
        "description": "The fixed record an admin replayed, if not the original."})


QUARANTINE_STATUSES = ("pending", "replayed", "discarded")


class QuarantineListArgs(NewestFirstArgs):
    status = ma.fields.String(validate=validate.OneOf(QUARANTINE_STATUSES))
    user_id = IdField()
    table = ma.fields.String(validate=validate.OneOf(tuple(TABLES)))


class QuarantinePageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(QuarantineSchema))
    next_cursor = ma.fields.Integer(allow_none=True)


class ReplaySchema(StrictSchema):
    record = ma.fields.Dict(load_default=None, metadata={
        "description": "A fixed version of the record; omit to replay it as it was pushed."})


class SyncLogSchema(ma.Schema):
    id = ma.fields.Integer()
    user_id = ma.fields.String()
    device_id = ma.fields.String(allow_none=True)
    direction = ma.fields.String(metadata={"description": "push or pull."})
    started_at = ma.fields.Integer()
    duration_ms = ma.fields.Integer()
    outcome = ma.fields.String(metadata={
        "description": "ok, reset (a pull answered as a first pull: its "
                       "last_pulled_at was never handed out), conflict, bad_request, "
                       "unsupported_schema, too_large, quarantine_full, "
                       "quarantine_too_large or error."})
    last_pulled_at = ma.fields.Integer(allow_none=True)
    counts = ma.fields.Dict(metadata={
        "description": "Push: accepted records per table. "
                       "Pull: created/updated/deleted per table."})
    quarantined = ma.fields.Integer()


class SyncLogArgs(NewestFirstArgs):
    user_id = IdField()
    direction = ma.fields.String(validate=validate.OneOf(("push", "pull")))
    outcome = ma.fields.String(validate=validate.Length(max=32))


class SyncLogPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(SyncLogSchema))
    next_cursor = ma.fields.Integer(allow_none=True)
