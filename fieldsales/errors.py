"""One JSON error shape for every failure: `{"error": {"code", "message", "details"}}`."""
import logging
import re

import marshmallow as ma
from flask import jsonify
from sqlalchemy.exc import DataError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed

log = logging.getLogger(__name__)

# Werkzeug names that read badly as slugs.
_CODE_OVERRIDES = {
    413: "payload_too_large",
    422: "validation_error",
    429: "too_many_requests",
    500: "internal_error",
}


class ApiError(Exception):
    """Raised by services and routes for an error the client can act on."""

    def __init__(self, status: int, code: str, message: str, details: dict | None = None,
                 headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details = details or {}
        self.headers = headers or {}


def error_response(status: int, code: str, message: str, details: dict | None = None,
                   headers: dict | None = None):
    response = jsonify({"error": {"code": code, "message": message, "details": details or {}}})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _slug(error: HTTPException) -> str:
    return ((error.code is not None and _CODE_OVERRIDES.get(error.code))
            or re.sub(r"[^a-z0-9]+", "_", error.name.lower()).strip("_"))


def _message(error: HTTPException, details: dict) -> str:
    if error.code == 422 and details:
        fields = ", ".join(sorted(_field_names(details)))
        return f"The request is invalid: check {fields}."
    return error.description or error.name


def _field_names(messages: dict, prefix: str = "") -> list[str]:
    """Readable field paths of nested validation errors."""
    names = []
    for key, value in messages.items():
        if isinstance(value, dict):
            names += _field_names(value, f"{prefix}{key}.")
        else:
            names.append(f"{prefix}{key}")
    return names


_LOCATIONS = ("json", "query", "form", "headers", "path", "view_args", "files", "cookies")


def _by_field(messages: dict) -> dict:
    """webargs keys errors by location ({"json": {"email": [...]}}); services raise them by
    field. Clients get one shape: {"<field>": ["<problem>", ...]}."""
    if messages and all(key in _LOCATIONS for key in messages):
        merged: dict = {}
        for location_errors in messages.values():
            merged.update(location_errors if isinstance(location_errors, dict)
                          else {"_body": location_errors})
        return merged
    return messages


def http_error(error: HTTPException):
    data = getattr(error, "data", None) or {}
    details = _by_field(data.get("errors") or data.get("messages") or {})
    message = data.get("message") or _message(error, details)
    headers = dict(data.get("headers") or {})
    if isinstance(error, MethodNotAllowed) and error.code == 405 and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    return error_response(error.code or 500, _slug(error), message, details, headers)


class ErrorSchema(ma.Schema):
    """Documents the error body; responses are built by `error_response`."""

    class Inner(ma.Schema):
        code = ma.fields.String(required=True)
        message = ma.fields.String(required=True)
        details = ma.fields.Dict(required=True)

    error = ma.fields.Nested(Inner, required=True)


# --- the error answers the OpenAPI document declares ---------------------------------------
# `FieldsalesApi` (extensions.py) declares each operation's error answers from what the route
# is: a body (400, 413), a token and roles (401, 403), a path id (404), parsed arguments (422,
# by flask-smorest), the database (503). A route adds the answers its service gives beyond
# those with `@answers(409, ...)`; a query field the server reads past its schema (an opaque
# cursor) says so with `refused_with(...)` in its metadata. See docs/architecture.md.
ERROR_ANSWERS = {
    400: "`bad_request`: the body is absent, or not JSON (`Content-Type: application/json`).",
    401: "`unauthorized` / `invalid_token`: sign in and send 'Authorization: Bearer <token>'.",
    403: "`forbidden`: the signed-in role may not do this.",
    404: "`not_found`: no such record, or one the caller may not see.",
    409: "`conflict`: the request conflicts with the stored records.",
    413: "`payload_too_large`: the body is above MAX_CONTENT_LENGTH (once inflated, if gzip).",
    415: "`unsupported_media_type`: a `Content-Encoding` other than gzip.",
    422: "`validation_error`: invalid input; `details` names each field and its problems.",
    429: "`too_many_requests`: slow down; `Retry-After` says when to try again.",
    503: "`database_unavailable`: the database is not reachable; try again shortly.",
}
REFUSED_WITH = "x-refused-with"  # the metadata key `refused_with` writes


def answers(status: int, why: str | None = None):
    """Route decorator: an error answer beyond those declared for every route of its kind
    (a 409 of the service, a 404 of a query id), described by `why` or ERROR_ANSWERS.
    Stack one per status."""

    def decorator(view):
        # Read by FieldsalesApi's document (extensions.ErrorAnswers).
        view.error_answers = {**getattr(view, "error_answers", {}),
                              status: why or ERROR_ANSWERS[status]}
        return view

    return decorator


def refused_with(status: int, why: str) -> dict:
    """Field metadata: a value the schema admits that the server can still refuse (an opaque
    cursor that is not one it gave out); the document declares the answer on the operation."""
    return {REFUSED_WITH: {"status": status, "description": why}}


def api_error(error: ApiError):
    return error_response(error.status, error.code, error.message, error.details, error.headers)


def unexpected_error(error: Exception):
    if isinstance(error, HTTPException):
        return http_error(error)
    if isinstance(error, RecursionError):  # JSON nested thousands deep, from the body parser
        return error_response(400, "bad_request", "The request body is nested too deeply.")
    if isinstance(error, DataError):  # a client's value the database refuses: never a 500
        log.warning("Value refused by the database: %s", error.orig)
        return error_response(422, "validation_error", "A value in the request cannot be "
                              "stored: too long, out of range, or holding a NUL character.")
    if isinstance(error, OperationalError):  # the database is down or unreachable: retry later
        log.error("Database unavailable: %s", error.orig)
        return error_response(503, "database_unavailable",
                              "The database is not reachable; try again shortly.")
    log.exception("Unhandled error", exc_info=error)
    return http_error(InternalServerError())
