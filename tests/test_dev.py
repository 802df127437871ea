"""`python3 dev.py run`'s set-up: seed the demo once, show the logins on every run, and stop
(non-zero) when seeding fails instead of serving an empty database."""
import os
import sys
from pathlib import Path

import pytest

import dev


@pytest.fixture(autouse=True)
def _this_virtualenv(monkeypatch):
    """dev.py drives `.venv`; the tests drive the virtualenv they run in, whichever it is."""
    monkeypatch.setattr(dev, "BIN", Path(sys.executable).parent)


@pytest.fixture
def env(make_database):
    env = {**os.environ, "FIELDSALES_SCHEDULER": "off", "FIELDSALES_CONFIG": "testing",
           "DATABASE_URL": make_database("dev")}
    dev.flask("db", "upgrade", check=True, env=env, capture_output=True)
    return env


def test_a_re_run_finds_the_demo_and_prints_its_logins_without_complaint(env, capsys):
    dev.seed_demo(env)
    first = capsys.readouterr().out
    assert "Demo company seeded" in first and "manager1@demo.fieldsales.dev" in first
    dev.seed_demo(env)
    again = capsys.readouterr().out
    assert "already in the database" in again and "not seeding" not in again
    assert "manager1@demo.fieldsales.dev" in again and dev.DEMO_PASSWORD in again


def test_a_database_with_other_users_is_left_alone_and_said_so(env, capsys):
    created = dev.flask("users", "create", "--email", "own@example.com", "--password",
                        "long enough", "--name", "Own", "--role", "admin", env=env,
                        capture_output=True, text=True)
    assert created.returncode == 0, created.stderr
    dev.seed_demo(env)
    assert "has users but not the demo company" in capsys.readouterr().out


def test_a_seeding_that_fails_stops_with_a_non_zero_exit(env, monkeypatch):
    monkeypatch.setattr(dev, "flask", lambda *args, **kwargs: dev.subprocess.run(
        [str(dev.BIN / "flask"), "--app", "wsgi", "demo", "no-such-command"], cwd=dev.ROOT,
        env=env, capture_output=True, text=True))
    with pytest.raises(SystemExit) as stopped:
        dev.seed_demo(env)
    assert stopped.value.code not in (None, 0)
    assert "Seeding the demo company failed" in str(stopped.value.code)


def test_an_unreachable_database_stops_with_a_non_zero_exit(env):
    broken = {**env, "DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/none"}
    with pytest.raises(SystemExit) as stopped:
        dev.seed_demo(broken)
    assert stopped.value.code not in (None, 0)
