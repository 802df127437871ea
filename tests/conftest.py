"""Fixtures: a real app from the factory on a real database.

Without TEST_DATABASE_URL the suite runs on a SQLite file in a temporary folder. With it
(PostgreSQL), every run, and every xdist worker, gets a fresh schema of its own that is
dropped at the end, so reruns never see old rows.
"""
import os
import uuid

import pytest

from config import TestingConfig
from fieldsales import create_app
from fieldsales.extensions import db as _db
from fieldsales.scratch import scratch_database

PASSWORD = "correct horse battery"


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


def config_for(url: str, **overrides):
    return type("TestConfig", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": url, **overrides})


@pytest.fixture(scope="session")
def app(make_database):
    app = create_app(config_for(make_database("app")))
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
    """Create a user through the service (committed); returns the User. A rep without a
    `manager` gets a new manager of their own (a rep always belongs to a manager's team)."""
    from fieldsales.users import service

    counter = iter(range(1, 10_000))

    def make(role="rep", *, manager=None, email=None, name=None, selling_style=None,
             password=PASSWORD):
        if role == "rep" and manager is None:
            manager = make("manager")
        n = next(counter)
        with app.app_context():
            user = service.create(
                email=email or f"{role}{n}-{uuid.uuid4().hex[:6]}@example.com",
                password=password, name=name or f"{role.title()} {n}", role=role,
                manager=_db.session.merge(manager) if manager is not None else None,
                selling_style=selling_style)
            _db.session.commit()
            _db.session.refresh(user)
            _db.session.expunge(user)
            return user

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
def team(make_user, login):
    """A small company: an admin, a procurement user, two managers with reps."""

    class Team:
        pass

    t = Team()
    t.admin = make_user("admin")
    t.procurement = make_user("procurement")
    t.manager = make_user("manager")
    t.other_manager = make_user("manager")
    t.rep = make_user("rep", manager=t.manager, selling_style="hunter")
    t.rep2 = make_user("rep", manager=t.manager, selling_style="farmer")
    t.other_rep = make_user("rep", manager=t.other_manager)
    t.headers = {name: login(getattr(t, name)) for name in
                 ("admin", "procurement", "manager", "other_manager", "rep", "rep2", "other_rep")}
    return t
