"""Fixtures: a real app from the factory on a real database.

Without TEST_DATABASE_URL the suite runs on a SQLite file in a temporary folder. With it
(PostgreSQL), every run, and every xdist worker, gets a fresh schema of its own that is
dropped at the end, so reruns never see old rows.

`--at=2026-12-01T00:05:00Z` (or FIELDSALES_TEST_NOW) runs the whole session at that instant:
time-machine moves time.time/time_ns and datetime.now there, and lets time run on from it
(durations still pass). Tests must pass at any instant; .ci/run checks a few hard ones.
Subprocesses (gunicorn, the flask CLI) and the database's own clock are not moved.
"""
import os
from datetime import datetime

import pytest
import time_machine
from flask.testing import FlaskClient

from fieldsales import create_app
from fieldsales.extensions import db as _db
from fieldsales.scratch import scratch_database
from tests import factories
from tests.factories import PASSWORD, config_for

_TRAVEL = pytest.StashKey[time_machine.travel]()


def pytest_addoption(parser):
    parser.addoption("--at", default=os.environ.get("FIELDSALES_TEST_NOW") or None,
                     metavar="ISO_INSTANT",
                     help="run the session from this instant, e.g. 2026-12-01T00:05:00Z "
                          "(default: $FIELDSALES_TEST_NOW, else the real time)")


def pytest_configure(config):
    at = config.getoption("--at")
    if at:
        instant = datetime.fromisoformat(at.replace("Z", "+00:00"))
        if instant.tzinfo is None:
            raise pytest.UsageError(f"--at needs a time zone (e.g. {at}Z): {at}")
        config.stash[_TRAVEL] = time_machine.travel(instant, tick=True)
        config.stash[_TRAVEL].start()


def pytest_unconfigure(config):
    travel = config.stash.get(_TRAVEL, None)
    if travel is not None:
        travel.stop()


def pytest_collection_modifyitems(config, items):
    if config.getoption("--at"):
        skip = pytest.mark.skip(reason="needs the real clock: other processes are not moved")
        for item in items:
            if "real_clock" in item.keywords:
                item.add_marker(skip)
            if "openapi_sweep" in item.keywords:
                item.add_marker(pytest.mark.skip(
                    reason="the OpenAPI sweep does not depend on the hour: run once per database"))


def pytest_report_header(config):
    at = config.getoption("--at")
    return f"time travel: the session starts at {at}" if at else None


@pytest.fixture(scope="session")
def make_database(tmp_path_factory):
    """Factory of scratch databases, dropped when the session ends."""
    drops = []

    def make(name: str) -> str:
        url, drop = scratch_database(os.environ.get("TEST_DATABASE_URL"), f"t_{name}",
                                     folder=str(tmp_path_factory.mktemp(name)))
        drops.append(drop)
        return url

    yield make
    for drop in drops:
        drop()


class ReadingClient(FlaskClient):
    """The test client, reading every answer whole before it returns (`buffered`), as a
    server sends it. A streamed answer (a CSV export) holds its request's context and database
    transaction until its last chunk; unread, it would hold SQLite's lock for later tests.
    `buffered=False` gets the streamed answer itself."""

    def open(self, *args, buffered=True, **kwargs):
        return super().open(*args, buffered=buffered, **kwargs)


@pytest.fixture(scope="session")
def app(make_database):
    app = create_app(config_for(make_database("app")))
    app.test_client_class = ReadingClient
    with app.app_context():
        _db.create_all()  # every table: create_app imports fieldsales.models
    yield app
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_tables(request):
    """Each test starts on empty tables (the sync clock keeps running, as in production)."""
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        _db.session.rollback()
        _db.session.remove()
        with _db.engine.begin() as conn:
            for table in reversed(_db.metadata.sorted_tables):
                if table.name != "sync_clock":
                    conn.execute(table.delete())


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def ctx(app):
    """An app context, for tests that set up rows through the services."""
    with app.app_context():
        yield
        _db.session.rollback()


@pytest.fixture
def make_user(app):
    """make_user("manager"), make_user(manager=boss): a committed, detached user."""
    def make(role="rep", **fields):
        return factories.user(app, role=role, **fields)

    return make


@pytest.fixture
def login(client):
    """Sign in over HTTP; returns the Authorization header dict."""

    def do(user, password=PASSWORD):
        response = client.post("/api/v1/auth/token",
                               json={"email": user.email, "password": password})
        assert response.status_code == 200, response.json
        return {"Authorization": f"Bearer {response.json['access_token']}"}

    return do


@pytest.fixture
def team(app, login):
    return factories.Team(app, login=login)


@pytest.fixture
def world(app):
    return factories.World(app)
