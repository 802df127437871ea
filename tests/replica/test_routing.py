"""Which statements the replica gets (fieldsales/replica.py), on any database: here the
"replica" is a second engine on the test database itself, and the tests watch what it runs.
The real standby's tests are test_standby.py."""
import socket

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from fieldsales import create_app, replica
from fieldsales.common import now_ms
from fieldsales.extensions import db
from tests import factories
from tests.factories import Phone, config_for
from tests.replica.conftest import app_with_replica

# Views that may read the replica, by endpoint: the reports, the REST lists and exports, and
# the console's read-only pages. Any other view reads the primary.
REPLICA_VIEWS = {
    *(f"reports.{name}" for name in (
        "feedback_summary_view", "customer_duplicates", "territory_balance", "rep_activity",
        "team_overview_view", "team_today_view", "backlog_list", "backlog_summary",
        "demand_list", "demand_weeks")),
    "customers.Customers", "products.Products", "tasks.Tasks", "orders.Orders",
    "plans.PlannedVisits", "targets.Targets", "users.Users", "jobs.runs",
    "sync.Quarantine", "sync.Log", "privacy.position_views",
    *(f"console.{name}" for name in (
        "today", "my_day", "rep_day", "team", "targets", "targets_csv", "targets_xlsx",
        "quarantine_list", "duplicates_list", "customers", "job_runs", "users", "backlog",
        "backlog_csv", "backlog_xlsx", "demand", "demand_csv", "demand_xlsx", "feedback",
        "territories", "sync_log")),
}


@pytest.fixture(scope="module")
def app(make_database):
    url = make_database("routing")
    yield from app_with_replica(url, url)


@pytest.fixture
def replica_statements(app):
    with app.app_context():
        engine = replica.engine()
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.split()))

    sa.event.listen(engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(engine, "before_cursor_execute", record)


def _get_view(view):
    """A route's GET handler: the view itself, or its MethodView's `get`."""
    return getattr(getattr(view, "view_class", None), "get", view)


def test_the_reports_lists_and_read_only_pages_and_nothing_else_may_read_the_replica(app):
    marked = {endpoint: view for endpoint, view in app.view_functions.items()
              if getattr(_get_view(view), "reads_from_replica", False)}
    names = {f"{endpoint.split('.')[0]}.{getattr(view, 'view_class', view).__name__}"
             for endpoint, view in marked.items()}
    assert names == REPLICA_VIEWS
    assert {endpoint for endpoint in app.view_functions if endpoint.startswith("reports.")
            } <= set(marked)  # every report
    for endpoint, view in marked.items():  # a GET page: only GET; a MethodView: its get alone
        methods = set().union(*(rule.methods or () for rule in app.url_map.iter_rules()
                                if rule.endpoint == endpoint)) - {"HEAD", "OPTIONS"}
        assert methods == {"GET"} or hasattr(view, "view_class"), endpoint
        for other in ("post", "patch", "put", "delete"):
            handler = getattr(getattr(view, "view_class", None), other, None)
            assert not getattr(handler, "reads_from_replica", False), (endpoint, other)


def test_without_the_setting_there_is_no_replica(make_database):
    plain = create_app(config_for(make_database("no_replica")))
    with plain.app_context():
        assert replica.engine() is None
        db.engine.dispose()


def test_a_list_and_its_export_read_the_replica_the_token_check_the_primary(
        client, team, world, replica_statements):
    world.customer(rep=team.rep)
    assert client.get("/api/v1/customers", headers=team.headers["rep"]).status_code == 200
    assert client.get("/api/v1/customers?format=csv",
                      headers=team.headers["rep"]).status_code == 200
    reads = [s for s in replica_statements if "FROM customers" in s]
    assert len(reads) >= 2
    assert not [s for s in replica_statements if "auth_tokens" in s]
    assert all(s.upper().startswith(("SELECT", "BEGIN", "WITH")) for s in replica_statements)


def test_a_report_that_writes_reads_the_replica_and_writes_the_primary(
        client, team, world, replica_statements):
    world.ping(rep=team.rep, at=now_ms() - 60_000)
    response = client.get(f"/api/v1/teams/{team.manager.team_id}/today",
                          headers=team.headers["manager"])
    assert response.status_code == 200, response.json
    assert replica_statements
    assert not [s for s in replica_statements
                if s.split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE")]


def test_single_records_pulls_pushes_and_writes_read_the_primary(
        client, team, world, replica_statements):
    customer = world.customer(rep=team.rep)
    assert client.get(f"/api/v1/customers/{customer}",
                      headers=team.headers["rep"]).status_code == 200
    phone = Phone(client, team.headers["rep"])
    phone.pull(last_pulled_at=None)
    phone.push({"customers": {"created": [], "updated": [], "deleted": []}})
    created = client.post("/api/v1/customers", headers=team.headers["manager"],
                          json={"name": "Fresh", "kind": "account",
                                "latitude": 52.0, "longitude": 4.0})
    assert created.status_code == 201, created.json
    assert replica_statements == []


def test_a_replica_that_does_not_answer_is_passed_over_for_the_primary(make_database):
    """PostgreSQL only (the lag is asked there): a replica URL on a port nobody listens on."""
    url = make_database("replica_down")
    if not url.startswith("postgresql"):
        pytest.skip("the replica's lag is asked on PostgreSQL only")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free, and closed again: nobody listens there
    down = make_url(url).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
    app = create_app(config_for(url, DATABASE_REPLICA_URL=down))
    with app.app_context():
        db.create_all()
    try:
        rep = factories.user(app)
        customer = factories.World(app).customer(rep=rep)
        client = app.test_client()
        token = client.post("/api/v1/auth/token", json={"email": rep.email,
                                                         "password": factories.PASSWORD})
        response = client.get("/api/v1/customers", headers={
            "Authorization": f"Bearer {token.json['access_token']}"})
        assert response.status_code == 200, response.json
        assert [item["id"] for item in response.json["items"]] == [customer]
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
            replica.engine().dispose()
