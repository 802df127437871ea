"""Task payloads: what the API accepts and what it answers."""
import marshmallow as ma
from marshmallow import validate

from fieldsales.listing import ListArgs, page_schema, sort_field
from fieldsales.schemas import IdField, Latitude, Longitude, StrictSchema, Text, TimeFlags
from fieldsales.tasks.models import TASK_CATEGORIES, TASK_STATUSES

_MS = validate.Range(0, 2**53, error="Must be a time in epoch milliseconds.")


def _ms(**kwargs) -> ma.fields.Integer:
    return ma.fields.Integer(strict=True, validate=_MS, **kwargs)


class TaskSchema(ma.Schema):
    """A task as stored."""

    id = ma.fields.String()
    assigned_rep_id = ma.fields.String()
    customer_id = ma.fields.String(allow_none=True)
    title = ma.fields.String()
    description = ma.fields.String(allow_none=True)
    category = ma.fields.String(metadata={"description": "selling or admin."})
    due_at = ma.fields.Integer(allow_none=True, metadata={"description": "Epoch ms."})
    status = ma.fields.String(metadata={"description": "open, done or cancelled."})
    completed_at = ma.fields.Integer(allow_none=True)
    completion_note = ma.fields.String(allow_none=True)
    latitude = ma.fields.Float(allow_none=True)
    longitude = ma.fields.Float(allow_none=True)
    created_by_id = ma.fields.String(allow_none=True)
    time_flags = TimeFlags()
    deleted_at = ma.fields.Integer(allow_none=True,
                                   metadata={"description": "Removal time (ms); null if live."})


class TaskUpdateSchema(StrictSchema):
    """The fields a PATCH may change; omitted fields stay as they are. Reps may change only
    `status`, `completed_at` and `completion_note` of their own tasks."""

    assigned_rep_id = IdField(metadata={"description": "Managers: a rep of their team."})
    customer_id = IdField(allow_none=True, metadata={
        "description": "A customer the caller can see; null for tasks at no customer."})
    title = ma.fields.String(validate=validate.Length(1, 200))
    description = Text(5000, allow_none=True)
    category = ma.fields.String(validate=validate.OneOf(TASK_CATEGORIES))
    due_at = _ms(allow_none=True)
    status = ma.fields.String(validate=validate.OneOf(TASK_STATUSES), metadata={
        "description": "Setting `done` sets `completed_at` to now unless given."})
    completed_at = _ms(allow_none=True)
    completion_note = Text(5000, allow_none=True)
    latitude = Latitude(allow_none=True)
    longitude = Longitude(allow_none=True)


class TaskCreateSchema(TaskUpdateSchema):
    id = IdField(metadata={
        "description": "Optional client-made id; the server makes one if absent."})
    assigned_rep_id = IdField(required=True,
                              metadata={"description": "Managers: a rep of their team."})
    title = ma.fields.String(required=True, validate=validate.Length(1, 200))
    category = ma.fields.String(load_default="selling", validate=validate.OneOf(TASK_CATEGORIES))
    status = ma.fields.String(load_default="open", validate=validate.OneOf(TASK_STATUSES))


class TaskListArgs(ListArgs):
    sort = sort_field("id", "due_at", "status", "title", default="id")
    assigned_rep_id = IdField()
    customer_id = IdField()
    status = ma.fields.String(validate=validate.OneOf(TASK_STATUSES))
    category = ma.fields.String(validate=validate.OneOf(TASK_CATEGORIES))
    due_from = ma.fields.Integer(validate=_MS, metadata={"description": "due_at >= this (ms)."})
    due_to = ma.fields.Integer(validate=_MS, metadata={"description": "due_at < this (ms)."})


TaskPageSchema = page_schema(TaskSchema, "TaskPage")
