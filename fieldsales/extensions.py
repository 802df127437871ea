"""Extensions, created once and bound to the app in `create_app`."""
from functools import wraps
from typing import TYPE_CHECKING, Any

import flask_smorest
from apispec import BasePlugin
from flask import Flask, request
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session

from fieldsales.common import ROLES
from fieldsales.errors import ERROR_ANSWERS, REFUSED_WITH, ApiError, ErrorSchema, http_error
from fieldsales.replica import RoutingSession

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


_ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
_NOT_MODIFIED = ("Not modified: `If-None-Match` names the ETag this answer would carry; "
                 "no body.")
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"  # listing.py's
_EXPORT_CONTENT = {"text/csv": {"schema": {"type": "string"}},
                   _XLSX: {"schema": {"type": "string", "format": "binary"}}}


class ErrorAnswers(BasePlugin):
    """Declares every operation's error answers in the document, from what its route is, so a
    new route is covered without a line of its own:

    - a request body: 400 (absent or not JSON), 413 (above MAX_CONTENT_LENGTH) and 415 (a
      content coding other than gzip; `wire.py`);
    - a GET: 304 for `If-None-Match` (`wire.py`), unless the view is `without_etag`;
    - a query field with `refused_with(status, ...)` metadata: that status (a list cursor);
    - a `@require`d view: 401, and 403 unless every role may call it;
    - a path id: 404; every operation: 503 (the database is not reachable);
    - `@answers(...)` on the view: what its service adds (409 conflicts, 429, a 403 of scope);
    - a `format` query argument offering `csv`: `text/csv` and the XLSX type beside JSON on
      the success answer.

    422 comes from flask-smorest for `@blp.arguments`; there is no catch-all `default`, so an
    answer the document never declares fails the status-code check of the OpenAPI sweep
    (tests/hardening/test_fuzz_openapi.py)."""

    def __init__(self) -> None:
        self.app: Flask | None = None

    def operation_helper(self, path=None, operations=None, **kwargs):
        rule = kwargs.get("rule")
        for method, operation in (operations or {}).items():
            view = self._view(rule, method)
            found = self._found(path or "", operation, view)
            responses = operation.setdefault("responses", {})
            for status, why in sorted(found.items()):
                if str(status) not in responses and status not in responses:
                    responses[str(status)] = {"description": why, "content": _ERROR_CONTENT}
            if method == "get" and not getattr(view, "without_etag", False):
                responses.setdefault("304", {"description": _NOT_MODIFIED})
            if self._exports_csv(operation):
                success = next(code for code in responses if str(code).startswith("2"))
                responses[success].setdefault("content", {}).update(_EXPORT_CONTENT)

    def _view(self, rule, method: str):
        if self.app is None or rule is None:
            return None
        view = self.app.view_functions[rule.endpoint]
        return getattr(getattr(view, "view_class", None), method, view)

    @staticmethod
    def _found(path: str, operation: dict, view) -> dict[int, str]:
        found: dict[int, str] = {}

        def add(status: int, why: str | None = None) -> None:
            why = why or ERROR_ANSWERS[status]
            if why not in found.get(status, ""):
                found[status] = f"{found[status]} {why}" if status in found else why

        add(503)
        if "requestBody" in operation:
            add(400)
            add(413)
            add(415)
        for parameter in operation.get("parameters", []):
            refused = parameter.get("schema", {}).pop(REFUSED_WITH, None)
            if refused:
                add(refused["status"], refused["description"])
        roles = getattr(view, "required_roles", None)
        if roles is not None:
            add(401)
            if roles and set(roles) != set(ROLES):
                add(403)
        if "{" in path:
            add(404)
        for status, why in getattr(view, "error_answers", {}).items():
            add(status, why)
        return found

    @staticmethod
    def _exports_csv(operation: dict) -> bool:
        return any(parameter.get("in") == "query" and parameter.get("name") == "format"
                   and "csv" in parameter.get("schema", {}).get("enum", ())
                   for parameter in operation.get("parameters", []))


class FieldsalesApi(Api):
    """flask-smorest's Api with our one JSON error shape, through its documented hooks: the
    schema that documents error responses, and the handler it registers for HTTPException
    (`create_app` registers ours for ApiError and any other exception). Each operation's
    error answers are declared by `ErrorAnswers`, not by a catch-all `default`."""

    ERROR_SCHEMA = ErrorSchema
    DEFAULT_ERROR_RESPONSE_NAME = None

    def __init__(self) -> None:
        self.error_answers = ErrorAnswers()
        super().__init__(spec_kwargs={"extra_plugins": [self.error_answers]})

    def init_app(self, app, *args, **kwargs):
        self.error_answers.app = app
        super().init_app(app, *args, **kwargs)

    def handle_http_exception(self, error):
        return http_error(error)


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint, where a required JSON body must be there: webargs reads an
    absent body, or one sent with another Content-Type, as `{}`, so a PATCH would silently
    change nothing. Such a request is 400, as the document says (`requestBody.required`)."""

    def arguments(self, schema, *, location="json", required=True, **kwargs):
        parse = super().arguments(schema, location=location, required=required, **kwargs)
        if location != "json" or not required:
            return parse

        def decorator(view):
            parsing = parse(view)

            @wraps(parsing)
            def wrapper(*args, **kwargs):
                if not request.is_json or not request.get_data(cache=True):
                    raise ApiError(400, "bad_request", "Send a JSON body, with "
                                   "'Content-Type: application/json'.")
                return parsing(*args, **kwargs)

            return wrapper

        return decorator


# Its session reads from the replica where `replica.reads_from_replica` allows it.
db = SQLAlchemy(model_class=Base, session_options={"class_": RoutingSession})
# The base of every model. `db.Model` is made at run time from `Base`, so a type checker cannot
# see it as a class; to it, a model is the `Base` it is built on.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
# What a function given "the session" takes: a Session, or `db.session`, the scoped_session
# that stands for the current one.
SessionLike = Session | scoped_session[Any]
migrate = Migrate()
api = FieldsalesApi()
