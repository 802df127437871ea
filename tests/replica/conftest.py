"""The read replica's tests run against a real hot standby of the test cluster
(`standby.py`), started once per session and removed at the end. They skip unless
TEST_DATABASE_URL is PostgreSQL; with FIELDSALES_REQUIRE_REPLICA=1 (.ci/run) a standby that
cannot be started is a failure."""
import os
from collections.abc import Callable, Iterator

import pytest

from fieldsales import create_app, replica
from fieldsales.extensions import db
from tests.factories import config_for
from tests.replica.standby import NoStandby, start_standby


def app_with_replica(url: str, replica_url: str, *, ready: Callable[[], None] = lambda: None,
                     **config) -> Iterator:
    """An app on `url` reading from `replica_url`, its tables made on the primary (then
    `ready()`, in its context); both engines let go at the end. For module fixtures."""
    app = create_app(config_for(url, DATABASE_REPLICA_URL=replica_url, **config))
    with app.app_context():
        db.create_all()
        ready()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
        replica.engine().dispose()


@pytest.fixture(scope="session")
def standby():
    base_url = os.environ.get("TEST_DATABASE_URL") or ""
    if not base_url.startswith("postgresql"):
        pytest.skip("the read replica's standby needs TEST_DATABASE_URL on PostgreSQL")
    try:
        running = start_standby(base_url)
    except NoStandby as why:
        if os.environ.get("FIELDSALES_REQUIRE_REPLICA") == "1":
            pytest.fail(f"FIELDSALES_REQUIRE_REPLICA=1 and no standby: {why}")
        pytest.skip(f"no standby: {why}")
    yield running
    running.stop()
