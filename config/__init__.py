"""Configuration objects, picked by name in `create_app`.

Every setting can be overridden by an environment variable of the same name.
"""
import os
from pathlib import Path

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-not-secret")
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'fieldsales.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    JSON_SORT_KEYS = False

    # Bodies above this get 413 (the sync contract's default is 20 MiB).
    MAX_CONTENT_LENGTH = _env_int("MAX_CONTENT_LENGTH", 20 * 1024 * 1024)

    # Auth
    PASSWORD_HASH_METHOD = os.environ.get("PASSWORD_HASH_METHOD", "scrypt")
    TOKEN_TTL_SECONDS = _env_int("TOKEN_TTL_SECONDS", 12 * 3600)
    LOGIN_MAX_FAILURES_PER_EMAIL = _env_int("LOGIN_MAX_FAILURES_PER_EMAIL", 5)
    LOGIN_MAX_FAILURES_PER_ADDRESS = _env_int("LOGIN_MAX_FAILURES_PER_ADDRESS", 20)
    LOGIN_FAILURE_WINDOW_SECONDS = _env_int("LOGIN_FAILURE_WINDOW_SECONDS", 15 * 60)
    # Proxies in front of the app whose X-Forwarded-For to trust (werkzeug's ProxyFix), so
    # the throttle sees the client's address, not the load balancer's. 0: none (direct).
    TRUSTED_PROXY_HOPS = _env_int("TRUSTED_PROXY_HOPS", 0)

    # Field facts
    GEOFENCE_ACCURACY_CAP_M = float(os.environ.get("GEOFENCE_ACCURACY_CAP_M", 100))
    PING_MAX_ACCURACY_M = float(os.environ.get("PING_MAX_ACCURACY_M", 100))
    PING_MAX_SPEED_MPS = float(os.environ.get("PING_MAX_SPEED_MPS", 70))  # ~250 km/h
    PING_FUTURE_TOLERANCE_S = _env_int("PING_FUTURE_TOLERANCE_S", 5 * 60)
    PING_MAX_AGE_DAYS = _env_int("PING_MAX_AGE_DAYS", 30)
    SYNC_WINDOW_DAYS = _env_int("SYNC_WINDOW_DAYS", 30)

    # Working hours (UTC hours) outside which a rep's locations are never shown.
    WORKDAY_START_HOUR = _env_int("WORKDAY_START_HOUR", 6)
    WORKDAY_END_HOUR = _env_int("WORKDAY_END_HOUR", 20)

    # Reports: territory balance (capacity per rep over a horizon of working days, and the
    # +-share of capacity that counts as balanced) and duplicate customers.
    REP_VISITS_PER_DAY = float(os.environ.get("REP_VISITS_PER_DAY", 8))
    TERRITORY_WORKING_DAYS = _env_int("TERRITORY_WORKING_DAYS", 20)
    TERRITORY_TOLERANCE = float(os.environ.get("TERRITORY_TOLERANCE", 0.2))
    DUPLICATE_DISTANCE_M = float(os.environ.get("DUPLICATE_DISTANCE_M", 200))
    DUPLICATE_NAME_RATIO = float(os.environ.get("DUPLICATE_NAME_RATIO", 0.8))

    # Scheduler
    FIELDSALES_SCHEDULER = os.environ.get("FIELDSALES_SCHEDULER", "on")
    # How often each scoring job runs (minutes); 0 leaves a job off the schedule.
    SCORING_INTERVAL_MINUTES_PRODUCTIVITY = _env_int("SCORING_INTERVAL_MINUTES_PRODUCTIVITY", 60)
    SCORING_INTERVAL_MINUTES_DEMAND = _env_int("SCORING_INTERVAL_MINUTES_DEMAND", 360)
    SCORING_INTERVAL_MINUTES_BACKLOG = _env_int("SCORING_INTERVAL_MINUTES_BACKLOG", 15)
    # How far back each productivity run rescores (days; late uploads land within it), and
    # how many complete weeks the demand job smooths.
    SCORING_PRODUCTIVITY_LOOKBACK_DAYS = _env_int("SCORING_PRODUCTIVITY_LOOKBACK_DAYS", 7)
    SCORING_DEMAND_WEEKS = _env_int("SCORING_DEMAND_WEEKS", 12)

    # OpenAPI (flask-smorest)
    API_TITLE = "fieldsales"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "docs"
    OPENAPI_SWAGGER_UI_URL = "https://cdn.jsdelivr.net/npm/swagger-ui-dist/"
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
            '`{"error": {"code", "message", "details"}}`.'
        },
    }


class DevelopmentConfig(Config):
    DEBUG = False


class TestingConfig(Config):
    TESTING = True
    FIELDSALES_SCHEDULER = "off"
    # Strong hashing is slow on purpose; tests only need it to be real.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"


class ProductionConfig(Config):
    pass


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
