"""`flask demo seed`: a realistic, consistent demo company that a newcomer can sign in to."""
import math
from datetime import UTC, datetime, timedelta

from geopy.distance import geodesic
from sqlalchemy import func, select

from fieldsales.common import now_ms
from fieldsales.customers.models import Customer
from fieldsales.demo.seed import CITY, PASSWORD
from fieldsales.extensions import db
from fieldsales.feedback.models import Feedback
from fieldsales.jobs.registry import JOBS
from fieldsales.jobs.runner import run_job
from fieldsales.locations.models import LocationPing
from fieldsales.orders.models import DeliveryLine, Order, OrderLine
from fieldsales.products.models import Product
from fieldsales.tasks.models import Task
from fieldsales.users.models import User
from fieldsales.visits.models import Visit


def _haversine_m(a, b):
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


def _count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _snapshot():
    return (sorted(db.session.execute(select(Customer.name, Customer.latitude)).all()),
            _count(Visit), _count(Order), _count(LocationPing))


def test_seed_builds_a_consistent_company_and_refuses_to_seed_twice(app, client, time_machine):
    # Seeded at noon: the field history ends the evening before (run just after midnight,
    # yesterday's last visits would be minutes old).
    time_machine.move_to(datetime(2026, 3, 4, 12, tzinfo=UTC))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    assert "manager1@demo.fieldsales.dev" in result.output and PASSWORD in result.output

    now = now_ms()
    with app.app_context():
        roles = dict(db.session.execute(select(User.role, func.count()).group_by(User.role)).all())
        assert roles == {"admin": 1, "procurement": 1, "manager": 2, "rep": 8}
        reps = db.session.scalars(select(User).where(User.role == "rep")).all()
        for team_id in {rep.team_id for rep in reps}:
            styles = sorted(rep.selling_style for rep in reps if rep.team_id == team_id)
            assert styles == ["farmer", "farmer", "hunter", "hunter"]

        customers = db.session.scalars(select(Customer)).all()
        assert 180 <= len(customers) <= 220
        assert all(_haversine_m(CITY, (c.latitude, c.longitude)) <= 15_100 for c in customers)
        assert {c.kind for c in customers} == {"prospect", "account"}
        assert {c.segment for c in customers} == {"grocery", "pharmacy", "horeca", "kiosk"}
        rep_teams = {rep.id: rep.team_id for rep in reps}
        assert all(rep_teams[c.assigned_rep_id] == c.team_id
                   for c in customers if c.assigned_rep_id)
        # A prospect becomes an account with its first order.
        assert _count(Customer, Customer.kind == "prospect",
                      Customer.id.in_(select(Order.customer_id))) == 0

        products = db.session.scalars(select(Product)).all()
        assert 45 <= len(products) <= 55
        assert len({p.sku for p in products}) == len(products)
        assert all(p.unit_price > 0 and p.stock_on_hand >= 0 for p in products)

        # Visits: mostly verified, and `verified` follows the geofence rule on distance_m.
        visits = db.session.execute(
            select(Visit, Customer).join(Customer, Customer.id == Visit.customer_id)).all()
        verified = sum(v.verified for v, _ in visits)
        assert 0.7 * len(visits) < verified < len(visits)
        for visit, customer in visits:
            allowed = customer.geofence_radius_m + min(visit.check_in_accuracy_m, 100)
            assert visit.verified == (visit.distance_m <= allowed)
        for visit, customer in visits[:20]:
            exact = geodesic((visit.check_in_latitude, visit.check_in_longitude),
                             (customer.latitude, customer.longitude)).meters
            assert abs(exact - visit.distance_m) < 0.2
        assert all(v.check_in_at < now - 12 * 3_600_000 for v, _ in visits)

        assert 10_000 < _count(LocationPing) <= 60_000
        assert _count(LocationPing, LocationPing.flagged) > 0
        assert _count(Feedback) > 100

        # Orders: delivered in full, in part, and open past the requested date.
        statuses = dict(db.session.execute(
            select(Order.status, func.count()).group_by(Order.status)).all())
        assert {"delivered", "partially_delivered", "open"} <= set(statuses)
        assert statuses["delivered"] > statuses["open"]
        assert _count(Order, Order.status == "open", Order.requested_delivery_at < now) > 0
        assert _count(Order, Order.status == "delivered", Order.delivered_at.is_(None)) == 0
        # Every line's delivered quantity is what its deliveries shipped, never more than ordered.
        shipped = (select(DeliveryLine.order_line_id, func.sum(DeliveryLine.quantity).label("q"))
                   .group_by(DeliveryLine.order_line_id).subquery())
        mismatched = _count(OrderLine.__table__.outerjoin(
            shipped, shipped.c.order_line_id == OrderLine.id),
            (func.coalesce(shipped.c.q, 0) != OrderLine.delivered_quantity)
            | (OrderLine.delivered_quantity > OrderLine.quantity))
        assert mismatched == 0
        undelivered_lines = _count(OrderLine.__table__.join(Order), Order.status == "delivered",
                                   OrderLine.delivered_quantity < OrderLine.quantity)
        assert undelivered_lines == 0

        # Open work ahead for every rep, and every synced row stamped for the phones' pulls.
        ahead = db.session.scalars(select(Task.assigned_rep_id).where(
            Task.status == "open", Task.due_at > now)).all()
        assert set(ahead) == set(rep_teams)
        assert {row for row in db.session.scalars(select(Task.category))} == {"selling", "admin"}
        for model in (Customer, Product, Task, Visit, Feedback, Order, OrderLine):
            assert _count(model, model.created_seq <= 0) == 0
        rep1 = db.session.scalar(select(User).where(User.email == "rep1@demo.fieldsales.dev"))
        rep1_customers = _count(Customer, Customer.assigned_rep_id == rep1.id)
        first = _snapshot()

    # A demo login works over HTTP, and the rep sees their territory.
    token = client.post("/api/v1/auth/token", json={"email": "rep1@demo.fieldsales.dev",
                                                     "password": PASSWORD})
    assert token.status_code == 200
    headers = {"Authorization": f"Bearer {token.json['access_token']}"}
    listing = client.get("/api/v1/customers", query_string={"limit": 1000}, headers=headers)
    assert len(listing.json["items"]) == rep1_customers > 10
    prices = client.get("/api/v1/products", headers=headers).json["items"]
    assert all(isinstance(p["unit_price"], float) for p in prices)
    manager = client.post("/api/v1/auth/token", json={"email": "manager1@demo.fieldsales.dev",
                                                       "password": PASSWORD})
    assert manager.status_code == 200
    manager_headers = {"Authorization": f"Bearer {manager.json['access_token']}"}
    targets = client.get("/api/v1/targets", headers=manager_headers).json["items"]
    metrics = {t["metric"] for t in targets}
    assert {"order_value", "verified_visits", "new_prospects_visited"} <= metrics
    assert any(t["rep_id"] is None for t in targets)  # a team-wide target
    periods = {(t["metric"], t["starts_at"]) for t in targets}
    assert len(periods) == 2 * len(metrics)  # this period's and the one before
    # Territories of every kind: an overloaded rep, with teammates who could take over.
    balance = client.get("/api/v1/territories/balance", headers=manager_headers).json["items"]
    assert {row["flag"] for row in balance} == {"overloaded", "balanced", "underloaded"}
    assert all(row["takeover_candidates"] for row in balance if row["flag"] == "overloaded")
    # Scored over its whole month (as `dev.py run` does), any week of the demo has scores.
    app.config["SCORING_PRODUCTIVITY_LOOKBACK_DAYS"] = 31
    try:
        with app.app_context():
            assert run_job("productivity").status == "ok"
    finally:
        app.config["SCORING_PRODUCTIVITY_LOOKBACK_DAYS"] = 7
    me = client.get("/api/v1/users/me", headers=manager_headers).json
    three_weeks_ago = (datetime.now(UTC) - timedelta(days=21)).date().isoformat()
    overview = client.get(f"/api/v1/teams/{me['team_id']}/overview",
                          query_string={"period": "week", "date": three_weeks_ago},
                          headers=manager_headers).json
    assert overview["reps"] and all(row["score"] is not None for row in overview["reps"])

    again = runner.invoke(args=["demo", "seed"])
    assert again.exit_code != 0 and "--reset" in again.output

    # --reset starts over and, being seeded, builds the same company.
    result = runner.invoke(args=["demo", "seed", "--reset"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert _snapshot() == first
        assert _count(User) == 12


def test_every_job_runs_on_the_demo_and_every_report_answers(app, client, time_machine):
    """The demo is the data a newcomer (and CI) scores first: each job must succeed on it, on
    SQLite and PostgreSQL alike, and each report must answer it as each role sees it."""
    time_machine.move_to(datetime(2026, 3, 4, 12, tzinfo=UTC))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    jobs = runner.invoke(args=["jobs", "run", "all"])
    assert jobs.exit_code == 0, jobs.output
    assert [line.split(":")[1].split(",")[0].strip() for line in jobs.output.splitlines()] == [
        "ok"] * len(JOBS)

    def headers(email):
        token = client.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})
        return {"Authorization": f"Bearer {token.json['access_token']}"}

    manager = headers("manager1@demo.fieldsales.dev")
    me = client.get("/api/v1/users/me", headers=manager).json
    rep_id = client.get("/api/v1/users", query_string={"role": "rep", "limit": 1},
                        headers=manager).json["items"][0]["id"]
    day = (datetime.now(UTC) - timedelta(days=2)).date().isoformat()
    reports = [f"/api/v1/reps/{rep_id}/activity?date={day}",
               f"/api/v1/teams/{me['team_id']}/overview?period=week&date={day}",
               "/api/v1/targets", "/api/v1/backlog", "/api/v1/backlog/summary",
               "/api/v1/feedback/summary", "/api/v1/territories/balance",
               "/api/v1/customers/duplicates", "/api/v1/orders", "/api/v1/jobs/runs"]
    procurement = ["/api/v1/demand", "/api/v1/backlog", "/api/v1/backlog/summary",
                   "/api/v1/feedback/summary", "/api/v1/orders?format=csv"]
    for role_headers, urls in ((manager, reports), (headers("admin@demo.fieldsales.dev"),
                                                     [*reports, "/api/v1/demand"]),
                               (headers("procurement@demo.fieldsales.dev"), procurement)):
        for url in urls:
            response = client.get(url, headers=role_headers)
            assert response.status_code == 200, (url, response.get_data(as_text=True)[:300])
    backlog = client.get("/api/v1/backlog", headers=manager).json["items"]
    assert backlog and all(row["promised_dispatch_at"] for row in backlog)


def test_the_demo_has_journey_plans_for_the_coming_week_for_every_rep(app, time_machine):
    time_machine.move_to(datetime(2026, 3, 4, 12, tzinfo=UTC))
    assert app.test_cli_runner().invoke(args=["demo", "seed"]).exit_code == 0

    with app.app_context():
        from fieldsales.plans.models import PlannedVisit
        plans = db.session.execute(
            select(PlannedVisit.rep_id, PlannedVisit.planned_date, func.count(),
                   func.min(PlannedVisit.sequence), func.max(PlannedVisit.sequence))
            .where(PlannedVisit.deleted_at.is_(None), PlannedVisit.planned_date > "2026-03-04")
            .group_by(PlannedVisit.rep_id, PlannedVisit.planned_date)).all()
        reps = db.session.scalars(select(User).where(User.role == "rep")).all()
        assert all(rep.start_latitude is not None for rep in reps)
    week = {(datetime(2026, 3, 4, tzinfo=UTC) + timedelta(days=d)).date().isoformat()
            for d in range(1, 8)}
    assert {rep_id for rep_id, *_ in plans} == {rep.id for rep in reps}
    assert {day for _, day, *_ in plans} <= week
    for _, _, count, first, last in plans:
        assert 1 <= count <= 8 and (first, last) == (1, count)


def test_the_demos_last_days_kept_their_plans_done_missed_and_one_skipped(app, time_machine):
    time_machine.move_to(datetime(2026, 3, 4, 12, tzinfo=UTC))
    assert app.test_cli_runner().invoke(args=["demo", "seed"]).exit_code == 0

    with app.app_context():
        from fieldsales.plans.models import PlannedVisit
        from fieldsales.visits.models import Visit
        past = db.session.execute(
            select(PlannedVisit.status, PlannedVisit.skip_reason, Visit.verified,
                   Visit.planned_visit_id == PlannedVisit.id)
            .outerjoin(Visit, Visit.id == PlannedVisit.visit_id)
            .where(PlannedVisit.planned_date < "2026-03-04")).all()
    statuses = [status for status, *_ in past]
    assert statuses.count("done") > statuses.count("missed") > 0
    assert [reason for status, reason, *_ in past if status == "skipped"] == [
        "Shop closed for stocktaking"]
    # A done stop was carried out by a verified visit that names it, as the push leaves it.
    assert all(verified and names_it for status, _, verified, names_it in past
               if status == "done")
