"""Forms and filters of the console, validated by the API's own schemas and services.

A page never checks a value itself: it loads the submitted fields with the schema the
matching API route uses (`load`), then calls the same service, whose `ApiError` is turned
into messages by field (`errors_of`). The template shows each message next to its field and
fills the fields back with what was typed, so nothing is lost.
"""
from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

import marshmallow as ma

from fieldsales.errors import ApiError
from fieldsales.extensions import db
from fieldsales.schemas import Flag

T = TypeVar("T")
FORM = "_form"  # the key of messages about the form as a whole


def load(schema: ma.Schema, submitted: Mapping[str, str], *, fields: Iterable[str],
         blank_as_none: Iterable[str] = (), verbatim: Iterable[str] = ()
         ) -> tuple[dict | None, dict[str, list[str]]]:
    """(data, {}) when `fields` of `submitted` pass `schema`, else (None, messages by field).

    Values are stripped of surrounding spaces, except `verbatim` ones (a password). An empty
    field is left out (so a required one says so), or is None for `blank_as_none` (an
    optional choice such as "the whole team"). A list field takes every value submitted
    under its name (checkboxes).
    """
    nullable, kept = set(blank_as_none), set(verbatim)
    raw: dict = {}
    for name in fields:
        field = schema.fields.get(name)
        if isinstance(field, ma.fields.List) and hasattr(submitted, "getlist"):
            # Checkboxes sharing a name: the ones ticked, as the JSON list the API takes.
            chosen = [value.strip() for value in submitted.getlist(name) if value.strip()]
            if chosen:
                raw[name] = chosen
            continue
        value = submitted.get(name) or ""
        value = value if name in kept else value.strip()
        if value and isinstance(field, ma.fields.Integer) and field.strict \
                and value.lstrip("-").isdigit():
            # A form's digits are the JSON integer a strict Integer field takes.
            raw[name] = int(value)
        elif value and isinstance(field, Flag):
            # A form's "true"/"false" is the JSON boolean the API's `Flag` takes; anything
            # else stays text, which the field refuses.
            raw[name] = {"true": True, "false": False}.get(value, value)
        elif value:
            raw[name] = value
        elif name in nullable:
            raw[name] = None
    try:
        return schema.load(raw), {}
    except ma.ValidationError as error:
        messages = error.messages if isinstance(error.messages, dict) else {FORM: error.messages}
        return None, {name: texts(problem) for name, problem in messages.items()}


def attempt(action: Callable[[], T]) -> tuple[T | None, dict[str, list[str]]]:
    """(result, {}) when the service call `action` passes (flushed, so the database's own
    refusals surface here); (None, messages by field) when it refuses, rolled back. The view
    commits on success, once."""
    try:
        result = action()
        db.session.flush()
    except ApiError as error:
        db.session.rollback()
        return None, errors_of(error)
    return result, {}


def errors_of(error: ApiError) -> dict[str, list[str]]:
    """A service's refusal as messages by field; what names no field is about the form."""
    fields = {name: texts(problem) for name, problem in error.details.items()
              if isinstance(problem, list)}
    return fields or {FORM: [error.message]}


def texts(problem) -> list[str]:
    """Every message of a (possibly nested) marshmallow or service problem, in order."""
    if isinstance(problem, dict):
        return [text for value in problem.values() for text in texts(value)]
    if isinstance(problem, list):
        return [str(text) for text in problem]
    return [str(problem)]
