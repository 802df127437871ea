"""The read replica's tests run against a real hot standby of the test cluster
(`standby.py`), started once per session and removed at the end. They skip unless
TEST_DATABASE_URL is PostgreSQL; with FIELDSALES_REQUIRE_REPLICA=1 (.ci/run) a standby that
cannot be started is a failure."""
import os

import pytest

from tests.replica.standby import NoStandby, start_standby


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
