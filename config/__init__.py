"""Configuration objects, picked by name in `create_app`.

Every setting is declared in `Config` with its default, and every one can be overridden by an
environment variable of the same name (`SQLALCHEMY_DATABASE_URI` also by `DATABASE_URL`), read
as the default's type: ints, floats, booleans (1/0, true/false, yes/no, on/off), strings, and
JSON for dicts and lists (`SCORING_NORMS='{"visits_per_day": 8}'`). The environment is read
once, when this module is imported; the subclasses' own values win over it.
"""
import json
import os
from collections.abc import Mapping
from pathlib import Path

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"

# Environment names read for a setting besides its own name (the first set one wins).
ENV_ALIASES = {"SQLALCHEMY_DATABASE_URI": ("DATABASE_URL",)}
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


DEV_SECRET_KEY = "dev-only-not-secret"


class Config:
    # Signs list cursors. Production refuses to start with this default (create_app).
    SECRET_KEY = DEV_SECRET_KEY
    # Whether create_app refuses a missing or default SECRET_KEY (anyone could sign cursors).
    REQUIRE_SECRET_KEY = False
    SQLALCHEMY_DATABASE_URI = f"sqlite:///{INSTANCE_DIR / 'fieldsales.db'}"
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    # A read replica (a PostgreSQL hot standby of the primary; docs/operations.md, "Read
    # replica"): "" reads everything from the primary. Set, the reports, lists and exports
    # read from it (fieldsales/replica.py), unless its replay lag passes
    # REPLICA_MAX_LAG_SECONDS (asked once per request; 0: never asked), when they read the
    # primary. Pulls, pushes, writes and token checks always use the primary.
    DATABASE_REPLICA_URL = ""
    REPLICA_MAX_LAG_SECONDS = 30.0
    JSON_SORT_KEYS = False

    # Bodies above this get 413 (the sync contract's default is 20 MiB); for a body sent with
    # Content-Encoding: gzip, the decompressed size counts, checked while inflating.
    MAX_CONTENT_LENGTH = 20 * 1024 * 1024

    # On the wire (fieldsales/wire.py, docs/sync.md "On the wire"). Answers of these types and
    # at least COMPRESS_MIN_SIZE bytes are compressed when the client accepts it, with the
    # first of COMPRESS_ALGORITHM the client takes at its highest q; streamed ones (CSV
    # exports) chunk by chunk. The names are Flask-Compress's. gzip only: brotli ("br",
    # quality COMPRESS_BR_LEVEL) would save about 1% of a rep's day on the wire
    # (bench/wire.py, docs/sync.md), and Android's stack does not ask for it.
    COMPRESS_MIMETYPES = ("application/json", "text/csv")
    COMPRESS_MIN_SIZE = 500
    COMPRESS_ALGORITHM = ("gzip",)
    COMPRESS_ALGORITHM_STREAMING = ("gzip",)
    COMPRESS_LEVEL = 6  # gzip, 1-9
    COMPRESS_BR_LEVEL = 4  # brotli, 0-11, when "br" is added above
    COMPRESS_STREAMS = True
    COMPRESS_REGISTER = False  # fieldsales/wire.py registers the hook, refusing q=0 codings
    # 304s are decided by fieldsales/wire.py on the plain body (weak ETags), not after encoding.
    COMPRESS_EVALUATE_CONDITIONAL_REQUEST = False

    # Auth
    PASSWORD_HASH_METHOD = "scrypt"
    TOKEN_TTL_SECONDS = 12 * 3600
    # Sign-in throttle (docs/operations.md): failures in the window per email and address
    # together, and per address, refuse further attempts (429); per email from anywhere, they
    # slow every attempt for it (a delay doubling from LOGIN_SLOW_DELAY_SECONDS, capped).
    LOGIN_MAX_FAILURES_PER_EMAIL_ADDRESS = 5
    LOGIN_MAX_FAILURES_PER_EMAIL = 5
    LOGIN_MAX_FAILURES_PER_ADDRESS = 20
    LOGIN_FAILURE_WINDOW_SECONDS = 15 * 60
    LOGIN_SLOW_DELAY_SECONDS = 0.5
    LOGIN_SLOW_MAX_DELAY_SECONDS = 3.0
    # Proxies in front of the app whose X-Forwarded-For to trust (werkzeug's ProxyFix), so
    # the throttle sees the client's address, not the load balancer's. 0: none (direct).
    TRUSTED_PROXY_HOPS = 0

    # The web console (fieldsales/console, docs/console.md). Its session cookie: never read by
    # scripts, sent on top-level navigation only (CSRF tokens guard every form too), and
    # HTTPS-only in production. Map tiles come from this URL template with this attribution;
    # "" draws the maps without tiles (offline, tests): every layer still shows.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    CONSOLE_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    CONSOLE_TILE_ATTRIBUTION = ("&copy; <a href=\"https://www.openstreetmap.org/copyright\">"
                                "OpenStreetMap</a> contributors")
    # The team map (reports/team_today.py): a rep whose newest on-duty ping is older than this
    # is "silent"; positions older than the look-back are not shown at all.
    TODAY_SILENT_MINUTES = 20
    TODAY_LOOKBACK_DAYS = 7

    # Field facts
    GEOFENCE_ACCURACY_CAP_M = 100.0
    PING_MAX_ACCURACY_M = 100.0
    PING_MAX_SPEED_MPS = 70.0  # ~250 km/h
    PING_FUTURE_TOLERANCE_S = 5 * 60
    PING_MAX_AGE_DAYS = 30
    SYNC_WINDOW_DAYS = 30
    # The quarantine (docs/sync.md, "Quarantine"): per rep, at most this many pending entries
    # and bytes of them (their stored JSON); a push that would pass either is refused whole
    # (413 when it alone is too much, 429 when the quarantine is full). Replayed and discarded
    # entries are deleted this many days after they were resolved.
    SYNC_QUARANTINE_MAX_PENDING_PER_USER = 10_000
    SYNC_QUARANTINE_MAX_BYTES_PER_USER = 10 * 1024 * 1024
    SYNC_QUARANTINE_RESOLVED_DAYS = 30
    # Phone times of pushed records (docs/sync.md, "Device times"; pings use the two PING_
    # settings above and are never refused). An event time (check-in/out, completion, order,
    # feedback) more than DEVICE_TIME_FUTURE_TOLERANCE_S after the server received it is
    # flagged `future`, more than DEVICE_TIME_SKEW_ALLOWANCE_S after it is quarantined; one
    # older than DEVICE_TIME_MAX_AGE_DAYS when received is flagged `stale`. A planned time (a
    # task's due time, a requested delivery) more than DEVICE_TIME_PLAN_HORIZON_DAYS ahead is
    # quarantined.
    DEVICE_TIME_FUTURE_TOLERANCE_S = 5 * 60
    DEVICE_TIME_SKEW_ALLOWANCE_S = 24 * 3600
    DEVICE_TIME_MAX_AGE_DAYS = 30
    DEVICE_TIME_PLAN_HORIZON_DAYS = 2 * 365

    # Order lines a phone pushes (docs/sync.md, "Orders and their lines"): a line joins an
    # order of the same push, or an open order that reached the server at most this long ago;
    # its unit price may differ from the product's by this fraction (0.05: 5%, the largest
    # discount a rep may give on the spot); quantity x unit price at most this much (in the
    # company's currency). Otherwise the line is quarantined for an admin to review.
    ORDER_EDIT_WINDOW_MINUTES = 24 * 60
    ORDER_PRICE_TOLERANCE = 0.05
    ORDER_MAX_LINE_VALUE = 100_000_000.0

    # Working hours (UTC hours) outside which a rep's locations are never shown.
    WORKDAY_START_HOUR = 6
    WORKDAY_END_HOUR = 20
    # Working hours of a team that has none of its own (fieldsales/users/hours.py): its IANA
    # time zone, and per weekday ["HH:MM", "HH:MM"] or None for a day off.
    WORKING_HOURS_TIME_ZONE = "UTC"
    WORKING_HOURS = {day: ["06:00", "20:00"]
                     for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}

    # Retention (docs/privacy.md, "How long it is kept"): the `retention` job deletes, in
    # batches of RETENTION_BATCH rows (each its own short transaction), what is older than
    # its window: pings (by their phone time), the sync log, login failures, job runs, and
    # access changes once past the sync window (a phone offline longer than that may keep a
    # customer it lost sight of). Resolved quarantine entries go after
    # SYNC_QUARANTINE_RESOLVED_DAYS, expired and revoked tokens at once. 0 keeps a kind forever.
    RETENTION_PING_DAYS = 90
    RETENTION_SYNC_LOG_DAYS = 90
    RETENTION_LOGIN_FAILURE_DAYS = 1
    RETENTION_JOB_RUN_DAYS = 180
    RETENTION_ACCESS_CHANGE_DAYS = SYNC_WINDOW_DAYS
    RETENTION_POSITION_VIEW_DAYS = 365
    RETENTION_BATCH = 5_000

    # Reports: territory balance (capacity per rep over a horizon of working days, and the
    # +-share of capacity that counts as balanced) and duplicate customers.
    REP_VISITS_PER_DAY = 8.0
    TERRITORY_WORKING_DAYS = 20
    TERRITORY_TOLERANCE = 0.2
    DUPLICATE_DISTANCE_M = 200.0
    DUPLICATE_NAME_RATIO = 0.8

    # Visit cadence of a customer without its own (customers/visiting.py): days by
    # "kind:segment" (segment in lower case), then by "kind", e.g. {"prospect": 30,
    # "account:key": 7}; the rest take their team's `visit_cadence_days` (14 unless set).
    VISIT_CADENCE_DAYS: dict = {}
    # Journey plans (fieldsales/plans, docs/plans.md): the plan job plans each rep's next
    # PLAN_DAYS working days; a day holds at most REP_VISITS_PER_DAY visits (above), each
    # PLAN_TIME_ON_SITE_MINUTES long by segment (lower case; "*" for the rest), with travel
    # at PLAN_TRAVEL_SPEED_KMH in a straight line, or road times from the OSRM server at
    # ROUTING_OSRM_URL (its `table` service; "" for none). The solver stops at
    # PLAN_SOLVER_TIME_LIMIT_MS per rep-day and keeps its best plan. Complaints: feedback
    # rated PLAN_COMPLAINT_MAX_RATING or lower in the last PLAN_COMPLAINT_DAYS days.
    PLAN_DAYS = 5
    PLAN_TIME_ON_SITE_MINUTES: dict = {"*": 30}
    PLAN_TRAVEL_SPEED_KMH = 30.0
    PLAN_SOLVER_TIME_LIMIT_MS = 1000
    PLAN_COMPLAINT_DAYS = 14
    PLAN_COMPLAINT_MAX_RATING = 2
    ROUTING_OSRM_URL = ""
    ROUTING_OSRM_TIMEOUT_SECONDS = 10.0
    # How often the plan job runs (minutes; daily; 0 leaves it off the schedule).
    PLAN_INTERVAL_MINUTES = 24 * 60
    # The events job (fieldsales/jobs/watch.py): order.late and rep.silent, every this many
    # minutes (0 leaves it off the schedule); a rep on duty is silent after this many minutes
    # without a ping or a sync (0: never announced).
    EVENTS_INTERVAL_MINUTES = 5
    REP_SILENT_MINUTES = 60
    # backlog.priority_changed: the top N of a team's backlog it watches.
    EVENTS_BACKLOG_TOP_N = 10

    # The outbox's readers (the alerts and webhooks jobs) read the events past their cursor
    # and those of the last this many minutes again: an event committed after a later one.
    EVENTS_RESCAN_MINUTES = 10

    # Manager alerts (fieldsales/alerts, docs/integrations.md "Alerts"): the `alerts` job runs
    # this often (minutes; 0 leaves it off the schedule), turns the events it has not read
    # into alerts, and mails at most ALERTS_MAIL_BATCH of them per run through this SMTP
    # server ("" for SMTP_HOST: no e-mail, alerts stay in the feed and wait).
    ALERTS_INTERVAL_MINUTES = 1
    ALERTS_MAIL_BATCH = 200
    ALERTS_MAIL_FROM = "alerts@fieldsales.invalid"
    SMTP_HOST = ""
    SMTP_PORT = 25
    SMTP_USER = ""
    SMTP_PASSWORD = ""
    SMTP_STARTTLS = False
    SMTP_TIMEOUT_SECONDS = 10.0

    # Webhooks (fieldsales/webhooks, docs/integrations.md "Webhooks"): the `webhooks` job runs
    # this often (minutes; 0 leaves it off the schedule) and sends at most WEBHOOKS_BATCH due
    # deliveries, for at most WEBHOOKS_RUN_SECONDS, each cut off after WEBHOOKS_TIMEOUT_SECONDS
    # without an answer. A failed attempt is tried again after WEBHOOKS_RETRY_FIRST_SECONDS,
    # doubling each time (with jitter) up to WEBHOOKS_RETRY_MAX_MINUTES, for
    # WEBHOOKS_RETRY_HOURS; then the delivery has failed. A subscription whose attempts fail
    # WEBHOOKS_DISABLE_AFTER_FAILURES times in a row is disabled (0: never).
    # WEBHOOKS_ALLOWED_HOSTS: host names, addresses or networks (e.g. "10.0.0.0/8") that may
    # receive webhooks although they are not public addresses (the SSRF guard refuses them).
    WEBHOOKS_INTERVAL_MINUTES = 1
    WEBHOOKS_BATCH = 500
    WEBHOOKS_RUN_SECONDS = 50.0
    WEBHOOKS_TIMEOUT_SECONDS = 5.0
    WEBHOOKS_RETRY_FIRST_SECONDS = 30
    WEBHOOKS_RETRY_MAX_MINUTES = 6 * 60
    WEBHOOKS_RETRY_HOURS = 24.0
    WEBHOOKS_DISABLE_AFTER_FAILURES = 50
    WEBHOOKS_ALLOWED_HOSTS: list = []

    # Scheduler. Production and `dev.py run` run one `flask jobs scheduler` process beside
    # the servers; "in-process" also runs the jobs in a thread of every process that creates
    # the app, so only ever for a single-process server (never gunicorn's several workers).
    FIELDSALES_SCHEDULER = "off"
    # How often each scoring job runs (minutes); 0 leaves a job off the schedule.
    SCORING_INTERVAL_MINUTES_PRODUCTIVITY = 60
    SCORING_INTERVAL_MINUTES_DEMAND = 360
    SCORING_INTERVAL_MINUTES_BACKLOG = 15
    RETENTION_INTERVAL_MINUTES = 24 * 60
    # Monthly partitions of location_pings (PostgreSQL; fieldsales/locations/partitions.py):
    # the job `ping_partitions` runs this often (minutes) and creates the months up to this
    # many ahead; each of its steps gives up on a lock after this long (ms) and is retried.
    PING_PARTITIONS_INTERVAL_MINUTES = 24 * 60
    PING_PARTITIONS_MONTHS_AHEAD = 3
    PING_PARTITIONS_LOCK_TIMEOUT_MS = 5_000
    # First runs this long after the scheduler starts, plus as much again at random.
    SCORING_FIRST_RUN_DELAY_SECONDS = 60.0
    # On SQLite a job's lock is a lease row: the running job renews it every heartbeat (a
    # thread with its own connection), so it expires only this long after its holder died.
    SCORING_JOB_LOCK_TTL_SECONDS = 10 * 60
    SCORING_JOB_LOCK_HEARTBEAT_SECONDS = 60.0
    # After a failure, scheduled runs back off: the next attempt waits 0.8 of the interval,
    # then twice as long after each further failure in a row, up to this (minutes; never
    # less than the interval). The state is the job's runs, so every scheduler shares it.
    SCORING_RETRY_BACKOFF_MAX_MINUTES = 240
    # How far back each productivity run rescores (days; late uploads land within it), and
    # how many complete weeks the demand job smooths.
    SCORING_PRODUCTIVITY_LOOKBACK_DAYS = 7
    SCORING_DEMAND_WEEKS = 12
    # Productivity norms overriding some of `scoring.productivity.NORMS`, e.g.
    # {"visits_per_day": 8}; `task_minutes` is also the activity report's credit per task.
    SCORING_NORMS: dict = {}
    # Backlog: orders dispatched per day, for promising dates (0: no limit), and the customer
    # segments (any case) that earn the key-segment points.
    SCORING_DISPATCH_CAPACITY_PER_DAY = 200
    SCORING_KEY_SEGMENTS = ("key", "key account", "a", "vip", "strategic", "gold")

    # OpenAPI (flask-smorest)
    API_TITLE = "fieldsales"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "docs"
    # Served by the app from the swagger-ui-bundle package (create_app): no CDN.
    OPENAPI_SWAGGER_UI_URL = "/api/v1/docs/"
    API_SPEC_OPTIONS = {
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"},
            }
        },
        "security": [{"bearerAuth": []}],
        "info": {
            "description": "Field sales backend: offline sync for reps' phones, "
            "REST for managers, procurement and admins. Every error has the shape "
            '`{"error": {"code", "message", "details"}}`. On the wire: answers are gzipped '
            "for a client that sends `Accept-Encoding: gzip` (`Vary: Accept-Encoding`); a "
            "request body may be sent with `Content-Encoding: gzip` (the size limit counts "
            "the decompressed bytes: 413 `payload_too_large` past it, 400 `bad_request` for "
            "a body that does not decompress, 415 for another coding); every GET of a list or "
            "report (not the sync pull, not CSV exports) carries a weak `ETag`, and "
            "`If-None-Match` with it answers 304 Not Modified, without a body, while "
            "nothing changed."
        },
    }


def settings(config: type) -> dict:
    """The declared settings of a config class (its upper-case attributes), by name."""
    return {name: getattr(config, name) for name in dir(config) if name.isupper()}


def parse_env(name: str, raw: str, default):
    """An environment variable's text as a value of the default's type."""
    try:
        if isinstance(default, bool):
            if raw.strip().lower() not in _TRUE | _FALSE:
                raise ValueError("expected one of 1/0, true/false, yes/no, on/off")
            return raw.strip().lower() in _TRUE
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
        if isinstance(default, (dict, list, tuple)):
            value = json.loads(raw)
            if not isinstance(value, dict if isinstance(default, dict) else list):
                raise ValueError(f"expected a JSON {type(default).__name__}")
            return type(default)(value)
        return raw
    except ValueError as error:
        raise ValueError(f"Environment variable {name}={raw!r}: {error}") from None


def from_env(config: type, environ: Mapping[str, str]) -> dict:
    """The settings of `config` that `environ` overrides, parsed."""
    found = {}
    for name, default in settings(config).items():
        for env_name in (name, *ENV_ALIASES.get(name, ())):
            if env_name in environ:
                found[name] = parse_env(env_name, environ[env_name], default)
                break
    return found


for _name, _value in from_env(Config, os.environ).items():
    setattr(Config, _name, _value)


class DevelopmentConfig(Config):
    DEBUG = False


class TestingConfig(Config):
    TESTING = True
    # The suite runs at any hour (tests/conftest.py --at): its pings are on duty unless a
    # test gives its team working hours (tests/users/test_working_hours.py).
    WORKING_HOURS = {day: ["00:00", "24:00"] for day in Config.WORKING_HOURS}
    FIELDSALES_SCHEDULER = "off"
    # Strong hashing is slow on purpose; tests only need it to be real.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"


class ProductionConfig(Config):
    REQUIRE_SECRET_KEY = True
    SESSION_COOKIE_SECURE = True


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
