"""Who is due a visit (plans/due.py): each reason, and what keeps a customer off the list."""
import pytest

from fieldsales.common import DAY_MS
from fieldsales.plans.due import due_visits
from tests.plans.conftest import NOW


@pytest.fixture
def due(app):
    def find(*, rep, until=NOW + 5 * DAY_MS):
        with app.app_context():
            return {d.customer_id: d for d in due_visits(now=NOW, until=until,
                                                         rep_ids=[rep.id])}
    return find


def test_an_account_is_due_once_its_cadence_has_passed_since_the_last_verified_visit(
        world, team, due):
    fresh = world.customer(rep=team.rep2, visit_cadence_days=14)
    world.visit(rep=team.rep2, customer=fresh, at=NOW - 3 * DAY_MS)
    stale = world.customer(rep=team.rep2, visit_cadence_days=7)
    world.visit(rep=team.rep2, customer=stale, at=NOW - 10 * DAY_MS)
    world.visit(rep=team.rep2, customer=stale, at=NOW - DAY_MS, verified=False)
    soon = world.customer(rep=team.rep2, visit_cadence_days=7)
    world.visit(rep=team.rep2, customer=soon, at=NOW - 5 * DAY_MS)
    never = world.customer(rep=team.rep2)

    found = due(rep=team.rep2)

    assert set(found) == {stale, soon, never}
    assert found[stale].reasons == {"cadence": NOW - 3 * DAY_MS}  # an unverified visit: none
    assert found[soon].due_at == NOW + 2 * DAY_MS and found[never].due_at == NOW
    assert due(rep=team.rep2, until=NOW + DAY_MS).keys() == {stale, never}


def test_prospects_are_planned_for_hunters_not_farmers(world, team, due):
    hunted = world.customer(rep=team.rep, kind="prospect")  # team.rep is a hunter
    world.customer(rep=team.rep2, kind="prospect")  # team.rep2 a farmer

    assert due(rep=team.rep)[hunted].reason == "prospect"
    assert due(rep=team.rep2) == {}


def test_open_selling_tasks_falling_due_bring_their_rep(world, team, due):
    customer = world.customer(rep=team.rep2, visit_cadence_days=30)
    world.visit(rep=team.rep2, customer=customer, at=NOW - DAY_MS)
    other = world.customer(rep=team.rep2, visit_cadence_days=30)
    world.visit(rep=team.rep2, customer=other, at=NOW - DAY_MS)
    world.task(rep=team.rep2, customer=customer, due_at=NOW + 2 * DAY_MS)
    world.task(rep=team.rep2, customer=other, due_at=NOW + 2 * DAY_MS, category="admin")
    world.task(rep=team.rep2, customer=other, due_at=NOW + DAY_MS, completed_at=NOW - 1)
    world.task(rep=team.rep2, customer=other, due_at=NOW + 30 * DAY_MS)

    found = due(rep=team.rep2)

    assert set(found) == {customer}
    assert found[customer].reasons == {"task": NOW + 2 * DAY_MS}


def test_late_backlog_orders_not_visited_since_are_followed_up(world, team, due):
    product = world.product()
    late, delivered, visited = (world.customer(rep=team.rep2, visit_cadence_days=30)
                                for _ in range(3))
    for customer in (late, delivered, visited):
        world.visit(rep=team.rep2, customer=customer, at=NOW - 20 * DAY_MS)
    world.order(rep=team.rep2, customer=late, at=NOW - 20 * DAY_MS,
                requested_at=NOW - 2 * DAY_MS, lines=[(product, 5, 10.0)])
    world.order(rep=team.rep2, customer=delivered, at=NOW - 20 * DAY_MS, status="delivered",
                requested_at=NOW - 2 * DAY_MS, lines=[(product, 5, 10.0, 5)])
    world.order(rep=team.rep2, customer=visited, at=NOW - 20 * DAY_MS,
                requested_at=NOW - 2 * DAY_MS, lines=[(product, 5, 10.0)])
    world.visit(rep=team.rep2, customer=visited, at=NOW - DAY_MS)

    found = due(rep=team.rep2)

    assert set(found) == {late}
    assert found[late].reason == "backlog" and found[late].due_at == NOW - 2 * DAY_MS


def test_recent_complaints_not_visited_since_come_first(world, team, due):
    unhappy, answered, old, mild = (world.customer(rep=team.rep2, visit_cadence_days=30)
                                    for _ in range(4))
    for customer in (unhappy, answered, old, mild):
        world.visit(rep=team.rep2, customer=customer, at=NOW - 25 * DAY_MS)
    world.feedback(rep=team.rep2, customer=unhappy, at=NOW - DAY_MS, rating=1)
    world.feedback(rep=team.rep2, customer=answered, at=NOW - 3 * DAY_MS, rating=2)
    world.visit(rep=team.rep2, customer=answered, at=NOW - 2 * DAY_MS)
    world.feedback(rep=team.rep2, customer=old, at=NOW - 20 * DAY_MS, rating=1)
    world.feedback(rep=team.rep2, customer=mild, at=NOW - DAY_MS, rating=3)
    cadence = world.customer(rep=team.rep2)

    found = due(rep=team.rep2)

    assert set(found) == {unhappy, cadence}
    assert found[unhappy].reason == "complaint"
    assert found[unhappy].priority(on_ms=NOW) > found[cadence].priority(on_ms=NOW)


def test_a_customer_due_for_several_reasons_is_one_entry_under_the_weightiest(
        world, team, due):
    customer = world.customer(rep=team.rep2)
    world.task(rep=team.rep2, customer=customer, due_at=NOW)
    world.feedback(rep=team.rep2, customer=customer, at=NOW - DAY_MS, rating=2)

    (found,) = due(rep=team.rep2).values()

    assert set(found.reasons) == {"cadence", "task", "complaint"}
    assert found.reason == "complaint"


def test_removed_and_unlocated_customers(world, team, due):
    world.customer(rep=team.rep2, deleted_at=NOW - DAY_MS)
    nowhere = world.customer(rep=team.rep2, lat=0.0, lon=0.0)

    found = due(rep=team.rep2)

    assert set(found) == {nowhere} and found[nowhere].located is False
