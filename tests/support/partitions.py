"""Looking into location_pings' partitions from a test (PostgreSQL)."""
import os

import pytest
import sqlalchemy as sa

from fieldsales.extensions import db
from fieldsales.locations.partitions import ping_partitions

ON_POSTGRESQL = (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgresql")
postgresql_only = pytest.mark.skipif(
    not ON_POSTGRESQL, reason="pings are partitioned on PostgreSQL only; SQLite keeps one table")


def partition_of(app) -> dict[str, str]:
    """Each stored ping's id -> the partition that holds it."""
    with app.app_context():
        rows = db.session.execute(sa.text(
            "SELECT id, tableoid::regclass::text FROM location_pings")).all()
        db.session.rollback()
    return {ping_id: partition for ping_id, partition in rows}


def partitions(app) -> dict:
    """name -> (from, to) in ms of each partition, None for the default one."""
    with app.app_context(), db.engine.connect() as connection:
        return ping_partitions(connection=connection)
