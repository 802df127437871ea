"""The read replica against a real hot standby streaming from the test cluster: reports and
lists read it (seconds stale), pulls and writes the primary, and a lagging standby is passed
over for the primary."""
import time

import pytest
import sqlalchemy as sa

from fieldsales import replica
from fieldsales.extensions import db
from fieldsales.replica import lag_seconds
from tests.factories import Phone, changes, ids, visit_record
from tests.replica.conftest import app_with_replica


@pytest.fixture(scope="module")
def app(make_database, standby):
    """The suite's fixtures (client, team, world ...) on an app with DATABASE_REPLICA_URL."""
    url = make_database("replica")
    # The tables are made on the primary; the standby replays them before the tests start.
    yield from app_with_replica(url, standby.url_for(url), REPLICA_MAX_LAG_SECONDS=3600.0,
                                ready=lambda: standby.catch_up(db.engine))


@pytest.fixture
def primary(app):
    with app.app_context():
        yield db.engine


@pytest.fixture
def paused(standby, primary, team):
    """Replay paused on the standby (after it caught up with the team), resumed at the end."""
    standby.catch_up(primary)
    standby.pause()
    yield standby
    standby.resume()
    standby.catch_up(primary)


@pytest.fixture
def replica_statements(app):
    """The SQL statements the replica's engine ran during the test."""
    with app.app_context():
        engine = replica.engine()
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(engine, "before_cursor_execute", record)


def customer_ids(client, headers) -> set:
    response = client.get("/api/v1/customers", headers=headers)
    assert response.status_code == 200, response.json
    return {item["id"] for item in response.json["items"]}


def test_the_app_reads_a_real_standby(app):
    with app.app_context():
        with replica.engine().connect() as connection:
            assert connection.execute(sa.text("SELECT pg_is_in_recovery()")).scalar()
        with db.engine.connect() as connection:
            assert not connection.execute(sa.text("SELECT pg_is_in_recovery()")).scalar()


def test_a_list_reads_the_replica_a_pull_the_primary(app, client, make_user, world, standby,
                                                     primary, login, replica_statements):
    rep = make_user("rep")
    old = world.customer(rep=rep)
    standby.catch_up(primary)
    standby.pause()
    try:
        # Signed in after the pause: the standby has not replayed the token, so every token
        # check must read the primary, as must the pull.
        headers = login(rep)
        new = world.customer(rep=rep)  # written on the primary, not replayed yet

        listed = customer_ids(client, headers)
        assert old in listed and new not in listed  # the list read the paused replica
        assert any("customers" in statement for statement in replica_statements)
        pulled = Phone(client, headers).pull(last_pulled_at=None)
        assert {old, new} <= ids(pulled, "customers", "created")  # the primary, never stale
    finally:
        standby.resume()
    standby.catch_up(primary)
    assert {old, new} <= customer_ids(client, headers)


def test_a_lagging_replica_is_passed_over_for_the_primary(app, client, team, world, paused):
    new = world.customer(rep=team.rep)  # received by the standby, not replayed
    time.sleep(1.2)
    with app.app_context():
        lag = lag_seconds(replica.engine())
    assert lag is not None and lag > 1.0
    app.config["REPLICA_MAX_LAG_SECONDS"] = 1.0
    try:
        assert new in customer_ids(client, team.headers["rep"])  # read on the primary
    finally:
        app.config["REPLICA_MAX_LAG_SECONDS"] = 3600.0
    assert new not in customer_ids(client, team.headers["rep"])  # the lag is allowed again


def test_writes_never_go_to_the_replica(app, client, team, world, standby, primary,
                                        replica_statements):
    """The team map is a report that also writes (the position access log): it reads the
    standby, which would refuse any write, and writes the primary; a push writes there too."""
    standby.catch_up(primary)
    customer = world.customer(rep=team.rep)
    now = int(time.time() * 1000)
    world.ping(rep=team.rep, at=now - 60_000)
    standby.catch_up(primary)
    response = client.get(f"/api/v1/teams/{team.manager.team_id}/today",
                          headers=team.headers["manager"])
    assert response.status_code == 200, response.json
    phone = Phone(client, team.headers["rep"])
    phone.pull(last_pulled_at=None)
    phone.push(changes(visits={"created": [visit_record(customer)]}))

    assert replica_statements, "the report read the replica"
    written = [s for s in replica_statements
               if s.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE")]
    assert written == []
    with primary.connect() as connection:
        views = connection.execute(sa.text(
            "SELECT count(*) FROM position_views WHERE viewer_id = :viewer"),
            {"viewer": team.manager.id}).scalar()
    assert views >= 1
