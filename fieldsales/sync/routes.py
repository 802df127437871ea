"""Sync routes: the WatermelonDB pull and push for reps, and support tools for admins."""
import time

from flask import jsonify, request
from flask.views import MethodView
from werkzeug.exceptions import RequestEntityTooLarge

from fieldsales.common import now_ms
from fieldsales.errors import ApiError, answers
from fieldsales.extensions import Blueprint, db
from fieldsales.replica import reads_from_replica
from fieldsales.sync import history, pull, push, quarantine
from fieldsales.sync.models import QuarantinedRecord
from fieldsales.sync.schemas import (
    PullSchema,
    PushResultSchema,
    QuarantineListArgs,
    QuarantinePageSchema,
    QuarantineSchema,
    ReplaySchema,
    SyncLogArgs,
    SyncLogPageSchema,
)
from fieldsales.users.guard import current_user, require
from fieldsales.wire import without_etag

blp = Blueprint("sync", __name__, url_prefix="/api/v1",
                description="Offline sync for reps' phones (WatermelonDB sync protocol), "
                            "and the quarantine and sync log for support.")

_LAST_PULLED_AT = {"name": "last_pulled_at", "in": "query", "required": False,
                   "schema": {"type": "string", "pattern": "^(null|[0-9]{1,16})$"},
                   "description": "The `timestamp` of the previous pull (ms), or `null` / "
                                  "absent if this phone never pulled."}

_SCHEMA_VERSION = {"name": "schema_version", "in": "query", "required": False,
                   "schema": {"type": "integer", "enum": [1, 2]},
                   "description": "The phone's sync schema version: 1 (the default) or 2 "
                                  "(journey plans: `planned_visits`, `visits.planned_visit_id`)."}


def _read_last_pulled_at(log: "_Logged") -> None:
    """The phone's cursor into `log.last_pulled_at` (null: never pulled). Logged before the
    clock checks it (`clock.trusts`), so support sees one it did not trust."""
    value = request.args.get("last_pulled_at")
    if value is None or value == "null":
        return
    if not (value.isascii() and value.isdigit() and len(value) <= 16):
        raise ApiError(400, "bad_request",
                       "last_pulled_at must be a time in milliseconds or null.",
                       {"last_pulled_at": ["Must be an integer number of milliseconds, or null."]})
    log.last_pulled_at = int(value)


def _body() -> bytes:
    """The raw push body. Without a Content-Length (chunked), Werkzeug silently stops reading
    at MAX_CONTENT_LENGTH; one byte more in the input means the body is too large (413)."""
    data = request.get_data(cache=False)
    limit = request.max_content_length
    if (request.content_length is None and limit is not None and len(data) >= limit
            and request.environ["wsgi.input"].read(1)):
        raise RequestEntityTooLarge()
    return data


def _outcome(error: Exception) -> str:
    if isinstance(error, RequestEntityTooLarge):
        return "too_large"
    if isinstance(error, ApiError):
        return {"sync_conflict": "conflict"}.get(error.code, error.code)
    return "error"


class _Logged:
    """Times a sync call and writes its log row, also when it fails. The rep's id is read
    once, at the start: after the pull's commits, reading it from the user would load the
    user again."""

    def __init__(self, direction: str):
        self.user_id = current_user().id
        self.direction = direction
        self.started_at = now_ms()
        self.clock = time.perf_counter()
        self.last_pulled_at: int | None = None

    def write(self, outcome: str, **fields) -> None:
        history.record(user_id=self.user_id, direction=self.direction,
                       device_id=request.headers.get("X-Device-Id"),
                       started_at=self.started_at,
                       duration_ms=round((time.perf_counter() - self.clock) * 1000),
                       outcome=outcome, last_pulled_at=self.last_pulled_at, **fields)

    def failed(self, error: Exception) -> None:
        db.session.rollback()
        try:
            self.write(_outcome(error))
            db.session.commit()
        except Exception:  # the log never hides the real error
            db.session.rollback()


@blp.route("/sync")
class Sync(MethodView):
    @require("rep")
    @without_etag  # the contract's pull: a fresh timestamp every time, never a 304
    @answers(400, "`bad_request`: `last_pulled_at` is not a time in ms or null; "
                  "`unsupported_schema`: a `schema_version` other than 1 or 2, or a "
                  "`migration` that is not JSON or not from a supported version below it.")
    @blp.doc(parameters=[
        _LAST_PULLED_AT,
        _SCHEMA_VERSION,
        {"name": "migration", "in": "query", "required": False, "schema": {"type": "string"},
         "description": "WatermelonDB's migration sync (`migrationsEnabledAtVersion`): "
                        '`{"from": 1, "tables": [...], "columns": [...]}` or `null`. The '
                        "answer then also holds what the old version lacked, whole: every "
                        "row of a new table as created, every row of a table with new "
                        "columns as updated."},
    ])
    @blp.response(200, PullSchema)
    def get(self):
        """Pull: what changed for the signed-in rep since `last_pulled_at` (reps only).

        Returns `{"changes": {...}, "timestamp": <ms>}` with every table of the phone's
        `schema_version` (1, the default, or 2: also `planned_visits` and
        `visits.planned_visit_id`). Records come with exact JSON types and without
        `_status`/`_changed`; removed records, and records the rep lost access to, come as
        ids in `deleted`.
        Send `timestamp` back as `last_pulled_at` next time. `null` or absent: everything the
        rep may see, as created; so is a `last_pulled_at` this server never handed out (later
        than its clock), with a fresh `timestamp`. An unsupported `schema_version` is 400
        `unsupported_schema`.
        """
        log = _Logged("pull")
        try:
            _read_last_pulled_at(log)
            pulled = pull.pull_changes(user_id=current_user().id,
                                       last_pulled_at=log.last_pulled_at,
                                       schema_version=request.args.get("schema_version"),
                                       migration=request.args.get("migration"))
            db.session.commit()
        except Exception as error:
            log.failed(error)
            raise
        log.write("reset" if pulled.reset else "ok", counts=pulled.counts)
        db.session.commit()
        # Sent as built (PullSchema documents it): dumping it through the schema would copy
        # every record once more, for nothing (the records already have their exact types).
        return jsonify({"changes": pulled.changes, "timestamp": pulled.timestamp})

    @require("rep")
    @answers(400, "`bad_request`: `last_pulled_at` is not a time in ms or null, or the body "
                  "is not a changes object (of the `schema_version`, when given); "
                  "`unsupported_schema`: a `schema_version` other than 1 or 2.")
    @answers(409, "`sync_conflict`: records changed on the server since `last_pulled_at`, "
                  "or a `last_pulled_at` this server never handed out; nothing was stored. "
                  "Pull, then push again.")
    @answers(413, "`quarantine_too_large`: the push's invalid records alone are more than the "
                  "quarantine keeps for one rep. Nothing was stored.")
    @answers(429, "`quarantine_full`: the rep's pending quarantined records, with this push's "
                  "invalid ones, would pass the per-rep cap. Nothing was stored; the phone "
                  "keeps its records. An admin replays or discards pending records, then the "
                  "same push succeeds.")
    @blp.doc(parameters=[_LAST_PULLED_AT, _SCHEMA_VERSION], requestBody={
        "required": True,
        "description": "The bare changes object: `{\"<table>\": {\"created\": [...], "
                       "\"updated\": [...], \"deleted\": [\"id\", ...]}}`. Parsed as JSON "
                       "whatever the Content-Type.",
        "content": {"application/json": {"schema": {"type": "object"}},
                    "text/plain": {"schema": {"type": "string"}}}})
    @blp.response(200, PushResultSchema)
    def post(self):
        """Push: the phone's changes, stored in one transaction (reps only).

        Records are upserted by their id, so a retried push never duplicates. The owner is
        always the signed-in rep. An `updated` record changed on the server since
        `last_pulled_at`, or a `last_pulled_at` later than the server's clock, makes the whole
        push 409 `sync_conflict`. A record that fails validation (or names another user's id,
        or a table phones may not change, or has a time that cannot be true) is kept in the
        quarantine and listed under `quarantined`; the rest is stored. A body that is not a
        changes object is 400; one above the size limit, 413. Past the rep's quarantine caps
        the whole push is refused: 413 `quarantine_too_large` or 429 `quarantine_full`. Send
        `X-Device-Id` to have the device in the sync log.
        """
        log = _Logged("push")
        try:
            _read_last_pulled_at(log)
            version = request.args.get("schema_version")
            schema_version = None if version is None else pull.read_schema_version(version)
            push.check_cursor(last_pulled_at=log.last_pulled_at)
            changes = push.parse_body(body=_body(), schema_version=schema_version)
            outcome = push.apply(user_id=current_user().id, changes=changes,
                                 last_pulled_at=log.last_pulled_at,
                                 schema_version=schema_version)
        except Exception as error:
            log.failed(error)
            raise
        log.write("ok", counts={k: v for k, v in outcome.accepted.items() if v},
                  quarantined=len(outcome.quarantined))
        db.session.commit()
        return outcome.body()


@blp.route("/sync/quarantine")
class Quarantine(MethodView):
    @require("admin")
    @blp.arguments(QuarantineListArgs, location="query")
    @blp.response(200, QuarantinePageSchema)
    @reads_from_replica
    def get(self, args):
        """Quarantined records, newest first (admin). Filter by status, user_id, table."""
        return quarantine.LOG.page(args=args, query=db.select(QuarantinedRecord))


@blp.route("/sync/quarantine/<quarantine_id>")
class QuarantineById(MethodView):
    @require("admin")
    @blp.response(200, QuarantineSchema)
    def get(self, quarantine_id):
        """One quarantined record (admin)."""
        return quarantine.get(quarantine_id=quarantine_id)


@blp.route("/sync/quarantine/<quarantine_id>/replay")
class QuarantineReplay(MethodView):
    @require("admin")
    @answers(409, "`already_resolved`: the record was already replayed or discarded.")
    @blp.arguments(ReplaySchema, required=False)
    @blp.response(200, QuarantineSchema)
    def post(self, data, quarantine_id):
        """Apply a quarantined record again (admin), optionally with a fixed `record`.

        It is validated as a push from the original rep would be; still invalid: 422 with
        the reasons, and the record stays pending. Already replayed or discarded: 409.
        """
        entry = quarantine.replay(entry=quarantine.get(quarantine_id=quarantine_id),
                                  record=(data or {}).get("record"), admin=current_user())
        db.session.commit()
        return entry


@blp.route("/sync/quarantine/<quarantine_id>/discard")
class QuarantineDiscard(MethodView):
    @require("admin")
    @answers(409, "`already_resolved`: the record was already replayed or discarded.")
    @blp.response(200, QuarantineSchema)
    def post(self, quarantine_id):
        """Close a quarantined record without applying it (admin); it is kept, as discarded."""
        entry = quarantine.discard(entry=quarantine.get(quarantine_id=quarantine_id),
                                   admin=current_user())
        db.session.commit()
        return entry


@blp.route("/sync/log")
class Log(MethodView):
    @require("admin", "manager")
    @blp.arguments(SyncLogArgs, location="query")
    @blp.response(200, SyncLogPageSchema)
    @reads_from_replica
    def get(self, args):
        """Sync history, newest first: every rep for admins, their team's for managers."""
        return history.LOG.page(args=args, query=history.visible_entries(viewer=current_user()))
