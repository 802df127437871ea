import marshmallow as ma
from marshmallow import validate

from fieldsales.jobs.models import JOB_STATUSES
from fieldsales.listing import NewestFirstArgs


class JobRunSchema(ma.Schema):
    id = ma.fields.Integer()
    job = ma.fields.String()
    status = ma.fields.String(metadata={"description": "running, ok, failed or skipped "
                                        "(another instance held the job's lock)."})
    started_at = ma.fields.Integer()
    finished_at = ma.fields.Integer(allow_none=True)
    rows_written = ma.fields.Integer()
    error = ma.fields.String(allow_none=True, metadata={
        "description": "Why the run failed (the error's kind and a short sentence) or was "
                       "skipped."})
    error_detail = ma.fields.String(allow_none=True, metadata={
        "description": "A failure's full error text: for admins; null for everyone else."})
    summary = ma.fields.Dict(allow_none=True, metadata={
        "description": "What the run reports beyond its row count (the plan job: planned, "
                       "overflow and unplannable counts); null for most jobs."})
    trigger = ma.fields.String(metadata={"description": "scheduler or manual."})
    host = ma.fields.String()
    pid = ma.fields.Integer()


class JobRunListArgs(NewestFirstArgs):
    job = ma.fields.String(validate=validate.Length(1, 32))
    status = ma.fields.String(validate=validate.OneOf(JOB_STATUSES))


class JobRunPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(JobRunSchema))
    next_cursor = ma.fields.String(allow_none=True)
