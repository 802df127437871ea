"""Settings: every one the code reads is declared in `Config`, and the environment overrides
each, read as its default's type."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from config import Config, TestingConfig, from_env, settings
from fieldsales.jobs.scheduler import INTERVAL_SETTINGS

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [*sorted((ROOT / "fieldsales").rglob("*.py")), *sorted((ROOT / "bench").rglob("*.py")),
           ROOT / "dev.py", ROOT / "wsgi.py"]
READ = re.compile(r"""\b(?:config|cfg)(?:\[|\.get\(|\.setdefault\()\s*["']([A-Z][A-Z0-9_]*)["']""")


def settings_read_by_the_code() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in SOURCES:
        for name in READ.findall(path.read_text()):
            found.setdefault(name, []).append(str(path.relative_to(ROOT)))
    for name in INTERVAL_SETTINGS.values():  # read by name through the mapping
        found.setdefault(name, []).append("fieldsales/jobs/registry.py")
    return found


def test_every_setting_the_code_reads_is_declared_in_config_with_a_default():
    read = settings_read_by_the_code()
    assert {"SCORING_NORMS", "SCORING_JOB_LOCK_TTL_SECONDS", "SYNC_WINDOW_DAYS"} <= set(read)
    undeclared = {name: where for name, where in read.items() if name not in settings(Config)}
    assert undeclared == {}
    # Declared settings are read as config["X"]: a default beside the read would be a second.
    for path in SOURCES:
        assert not re.search(r"\bconfig\.get\(", path.read_text()), path


def test_each_type_of_setting_is_read_from_its_environment_variable():
    environ = {"TOKEN_TTL_SECONDS": "60", "GEOFENCE_ACCURACY_CAP_M": "42.5",
               "JSON_SORT_KEYS": "yes", "FIELDSALES_SCHEDULER": "in-process",
               "SCORING_NORMS": '{"visits_per_day": 8}',
               "SCORING_KEY_SEGMENTS": '["key", "platinum"]',
               "DATABASE_URL": "postgresql+psycopg://db/x", "UNRELATED": "1"}
    assert from_env(Config, environ) == {
        "TOKEN_TTL_SECONDS": 60, "GEOFENCE_ACCURACY_CAP_M": 42.5, "JSON_SORT_KEYS": True,
        "FIELDSALES_SCHEDULER": "in-process", "SCORING_NORMS": {"visits_per_day": 8},
        "SCORING_KEY_SEGMENTS": ("key", "platinum"),
        "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://db/x"}
    assert from_env(Config, {"JSON_SORT_KEYS": "0"}) == {"JSON_SORT_KEYS": False}
    assert from_env(Config, {"SCORING_INTERVAL_MINUTES_DEMAND": "0"}) == {
        "SCORING_INTERVAL_MINUTES_DEMAND": 0}


@pytest.mark.parametrize("name, raw", [
    ("TOKEN_TTL_SECONDS", "an hour"), ("PING_MAX_SPEED_MPS", "fast"),
    ("JSON_SORT_KEYS", "maybe"), ("SCORING_NORMS", "visits_per_day=8"),
    ("SCORING_NORMS", "[1, 2]"), ("SCORING_KEY_SEGMENTS", '{"key": 1}'),
])
def test_a_value_of_the_wrong_type_stops_the_start_naming_the_variable(name, raw):
    with pytest.raises(ValueError, match=name):
        from_env(Config, {name: raw})


def test_the_environment_is_applied_when_the_config_is_imported_and_subclasses_win():
    env = {**os.environ, "SCORING_NORMS": '{"task_minutes": 45}', "SCORING_DEMAND_WEEKS": "6",
           "PASSWORD_HASH_METHOD": "scrypt:32768:8:1"}
    shown = subprocess.run(
        [sys.executable, "-c", "import json, config; print(json.dumps([config.Config."
         "SCORING_NORMS, config.ProductionConfig.SCORING_DEMAND_WEEKS, "
         "config.TestingConfig.PASSWORD_HASH_METHOD]))"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert json.loads(shown.stdout) == [{"task_minutes": 45}, 6,
                                        TestingConfig.PASSWORD_HASH_METHOD]


@pytest.mark.parametrize("key", ["", "dev-only-not-secret"])
def test_production_refuses_to_start_without_a_real_secret_key(key):
    from config import ProductionConfig
    from fieldsales import create_app

    config = type("Prod", (ProductionConfig,), {"SECRET_KEY": key,
                                                "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(config)
    ok = type("Prod", (ProductionConfig,), {"SECRET_KEY": "a-long-random-production-key",
                                            "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert create_app(ok).config["SECRET_KEY"] == "a-long-random-production-key"
