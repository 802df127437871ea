"""`flask db upgrade` from empty gives exactly the models' schema, on SQLite and PostgreSQL."""
import flask_migrate
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from fieldsales import create_app
from fieldsales.changes.clock import take_stamp
from fieldsales.extensions import db
from tests.factories import config_for


def test_upgrade_from_empty_equals_the_models_and_downgrade_removes_everything(make_database):
    app = create_app(config_for(make_database("migrations")))
    with app.app_context():
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            # Compared as `flask db migrate` compares (its filter: PostgreSQL's monthly
            # partitions of location_pings are no models' tables).
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "compare_server_default": True,
                                  "include_name": app.extensions["migrate"].configure_args[
                                      "include_name"]})
            differences = compare_metadata(context, db.metadata)
        assert differences == []

        # The migration seeds the sync clock, so the first write can take a stamp.
        assert take_stamp(db.session) > 0
        db.session.rollback()

        flask_migrate.downgrade(revision="base")
        remaining = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert remaining == set()
