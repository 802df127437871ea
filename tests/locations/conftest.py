"""Partition tests create and drop months, so each test gets an app on a database of its own
(a fresh schema on PostgreSQL): what one test leaves in the partitions never meets another."""
import pytest

from fieldsales import create_app
from fieldsales.extensions import db
from tests.factories import config_for


@pytest.fixture
def app(make_database, request):
    app = create_app(config_for(make_database("pings")))
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_tables():
    """Nothing to clean: the database goes with its test."""
    yield
