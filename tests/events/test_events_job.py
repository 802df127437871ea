"""The events job (jobs/watch.py): order.late once per order, rep.silent once per silence."""
from fieldsales.common import DAY_MS, MINUTE_MS, new_id, now_ms
from fieldsales.customers.models import Customer
from fieldsales.extensions import db
from fieldsales.jobs.runner import run_job
from fieldsales.orders.models import Order
from tests.events.test_events import events
from tests.factories import at, local_day


def _order(app, rep, *, requested, status="open"):
    customer, order = new_id(), new_id()
    with app.app_context():
        db.session.add(Customer(id=customer, name="Shop", latitude=1.0, longitude=1.0,
                                kind="account", assigned_rep_id=rep.id, team_id=rep.team_id))
        db.session.flush()
        db.session.add(Order(id=order, rep_id=rep.id, customer_id=customer, status=status,
                             ordered_at=now_ms() - 3 * DAY_MS,
                             requested_delivery_at=requested))
        db.session.commit()
    return order


def test_a_pending_order_past_its_date_is_late_once(app, team):
    late = _order(app, team.rep, requested=now_ms() - DAY_MS)
    _order(app, team.rep, requested=now_ms() + DAY_MS)  # not yet
    _order(app, team.rep, requested=now_ms() - DAY_MS, status="delivered")  # not pending
    with app.app_context():
        first, again = run_job("events"), run_job("events")
        assert (first.status, first.summary["order_late"]) == ("ok", 1)  # counted, both DBs
        assert (again.status, again.summary["order_late"]) == ("ok", 0)
    got = events(app, "order.late")
    assert [(s, t) for _, s, t, _ in got] == [(late, team.rep.team_id)]


def test_a_rep_on_duty_without_pings_is_silent_once_per_silence(app, team, world):
    noon = at(local_day(now_ms()), 12)  # the suite's teams are on duty all day
    world.ping(rep=team.rep, at=noon - 10 * MINUTE_MS)
    with app.app_context():
        assert run_job("events", now=noon).status == "ok"
    silent = {s for _, s, _, _ in events(app, "rep.silent")}
    assert team.rep.id not in silent and {team.rep2.id, team.other_rep.id} <= silent

    with app.app_context():
        run_job("events", now=noon + 30 * MINUTE_MS)  # the same silences: nothing new
    assert len(events(app, "rep.silent")) == len(silent)

    later = noon + 2 * 60 * MINUTE_MS  # the rep fell silent too
    with app.app_context():
        run_job("events", now=later)
    again = [s for _, s, _, _ in events(app, "rep.silent")]
    assert again.count(team.rep.id) == 1 and len(again) == len(silent) + 1


def test_the_demand_job_flags_a_product_once_while_it_stays_flagged(app, team, world):
    short = world.product(stock=0, lead_time_days=14)
    world.product(stock=50)  # never flagged
    customer = world.customer(rep=team.rep)
    world.order(rep=team.rep, customer=customer, at=now_ms() - DAY_MS,
                lines=[(short, 6, 1.0, 0)])  # 6 pending, none in stock
    assert world.run("demand", now=now_ms())["status"] == "ok"
    assert world.run("demand", now=now_ms())["status"] == "ok"  # still flagged: not again
    got = events(app, "demand.flagged")
    assert [s for _, s, _, _ in got] == [short.id]
    assert got[0][3]["stock_short_of_backlog"] in (True, 1)


def test_the_backlog_job_announces_a_team_whose_top_orders_changed(app, team, world):
    product = world.product(stock=100)
    customer = world.customer(rep=team.rep)
    for days in (3, 2):
        world.order(rep=team.rep, customer=customer, at=now_ms() - days * DAY_MS,
                    lines=[(product, 2, 1.0, 0)])
    assert world.run("backlog", now=now_ms())["status"] == "ok"
    assert world.run("backlog", now=now_ms())["status"] == "ok"  # the same top: nothing
    first = events(app, "backlog.priority_changed")
    assert [(s, len(p["before"]), len(p["after"])) for _, s, _, p in first] == [
        (team.rep.team_id, 0, 2)]
    world.order(rep=team.rep, customer=customer, at=now_ms() - DAY_MS,
                lines=[(product, 1, 1.0, 0)])
    world.run("backlog", now=now_ms())
    got = events(app, "backlog.priority_changed")
    assert len(got) == 2 and got[1][3]["before"] == first[0][3]["after"]
    assert len(got[1][3]["after"]) == 3
