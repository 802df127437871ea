"""Backlog dispatch priority: what ships first, when it is promised, and the health figures."""
from fieldsales.common import DAY_MS as DAY
from fieldsales.common import HOUR_MS as HOUR
from fieldsales.orders.models import Order
from fieldsales.reports.backlog import REASON_FACTS, backlog_health, reasons
from fieldsales.scoring.models import BacklogPriority

NOW = 1_715_774_400_000  # Wednesday 2024-05-15 12:00 UTC
TODAY = NOW // DAY * DAY


def reasons_of(priority: BacklogPriority) -> str:
    """The reasons the backlog report words for this priority row, one a line."""
    return "\n".join(reasons(**{name: getattr(priority, name) for name in REASON_FACTS}))


def priorities(world):
    return {p.order_id: p for p in world.rows(BacklogPriority)}


def test_an_overdue_order_with_stock_outranks_a_fresh_one(world, team):
    product = world.product(stock=100)
    customer = world.customer(rep=team.rep)
    fresh = world.order(rep=team.rep, customer=customer, at=NOW - HOUR,
                        requested_at=NOW + 7 * DAY, lines=[(product, 5, 10.0)])
    overdue = world.order(rep=team.rep, customer=customer, at=NOW - 20 * DAY,
                          requested_at=NOW - 10 * DAY, lines=[(product, 5, 10.0)])

    run = world.run("backlog", now=NOW)

    assert run["status"] == "ok"
    ranked = priorities(world)
    first, second = ranked[overdue.id], ranked[fresh.id]
    assert (first.rank, second.rank) == (1, 2)
    assert first.score > second.score
    assert (first.fill, first.fill_share, first.lateness_days) == ("full", 1.0, 10.0)
    assert first.lateness_points == 25 * 10 / 14 and first.age_points == 15 * 20 / 30
    assert reasons_of(first).splitlines() == [
        "Late: 10 days past the requested delivery date.",
        "Ordered 20 days ago.",
        "Stock on hand covers it in full.",
    ]
    assert first.promised_dispatch_at == second.promised_dispatch_at == TODAY + DAY


def test_stock_goes_to_the_higher_priority_and_the_order_waiting_on_stock_is_promised_later(
        world, team):
    scarce = world.product(stock=5, lead_time_days=10)
    customer = world.customer(rep=team.rep)
    fresh = world.order(rep=team.rep, customer=customer, at=NOW - HOUR, lines=[(scarce, 5, 10.0)])
    overdue = world.order(rep=team.rep, customer=customer, at=NOW - 20 * DAY,
                          requested_at=NOW - 10 * DAY, lines=[(scarce, 5, 10.0)])

    world.run("backlog", now=NOW)

    ranked = priorities(world)
    assert ranked[overdue.id].fill == "full"
    waiting = ranked[fresh.id]
    assert (waiting.fill, waiting.allocated_quantity, waiting.wait_days) == ("none", 0, 10)
    assert waiting.promised_dispatch_at == TODAY + 11 * DAY
    assert ranked[overdue.id].promised_dispatch_at == TODAY + DAY
    assert "Waiting on stock (lead time 10 days)." in reasons_of(waiting).splitlines()


def test_orders_waiting_a_year_for_stock_are_promised_without_overflowing(world, team):
    """Milliseconds overflow 32-bit integers past 24 days: (1 + wait_days) * day must be
    computed in 64 bits (PostgreSQL refused the whole job: "integer out of range")."""
    waits = {days: world.product(stock=0, lead_time_days=days) for days in (24, 100, 365)}
    customer = world.customer(rep=team.rep)
    orders = {days: world.order(rep=team.rep, customer=customer, at=NOW - DAY,
                                lines=[(product, 1e9, 10.0)])
              for days, product in waits.items()}

    run = world.run("backlog", now=NOW)

    assert run["status"] == "ok", run
    ranked = priorities(world)
    for days, order in orders.items():
        assert ranked[order.id].promised_dispatch_at == TODAY + (1 + days) * DAY


def test_partly_filled_orders_say_how_much_stock_covers(world, team):
    product = world.product(stock=3, lead_time_days=1)
    order = world.order(rep=team.rep, customer=world.customer(rep=team.rep), at=NOW - DAY,
                        lines=[(product, 5, 10.0)])

    world.run("backlog", now=NOW)

    p = priorities(world)[order.id]
    assert (p.fill, p.fill_share, p.fill_points) == ("partial", 0.6, 12.0)
    assert "Stock covers 60% now; the rest waits on stock (lead time 1 day)." in reasons_of(p)
    assert p.promised_dispatch_at == TODAY + 2 * DAY


def test_promised_dates_reach_orders_stamped_and_only_when_they_change(world, team):
    product = world.product(stock=0, lead_time_days=3)
    order = world.order(rep=team.rep, customer=world.customer(rep=team.rep), at=NOW - DAY,
                        lines=[(product, 5, 10.0)])

    first = world.run("backlog", now=NOW)
    stamped = world.one(Order, Order.id == order.id)
    second = world.run("backlog", now=NOW + HOUR)
    unchanged = world.one(Order, Order.id == order.id)
    world.run("backlog", now=NOW + DAY)
    next_day = world.one(Order, Order.id == order.id)

    assert stamped.promised_dispatch_at == TODAY + 4 * DAY
    assert stamped.changed_seq > stamped.created_seq
    assert (first["rows_written"], second["rows_written"]) == (2, 1)  # 1 priority + 1 order
    assert unchanged.changed_seq == stamped.changed_seq
    assert next_day.promised_dispatch_at == TODAY + 5 * DAY
    assert next_day.changed_seq > stamped.changed_seq


def test_recent_delivery_complaints_and_key_segments_raise_priority(world, team):
    product = world.product(stock=100)
    plain = world.customer(rep=team.rep)
    unhappy = world.customer(rep=team.rep)
    key = world.customer(rep=team.rep, segment="Key")
    orders = {c.id: world.order(rep=team.rep, customer=c, at=NOW - DAY, lines=[(product, 1, 10.0)])
              for c in (plain, unhappy, key)}
    world.feedback(rep=team.rep, customer=unhappy, at=NOW - 5 * DAY, rating=1, category="delivery")
    world.feedback(rep=team.rep, customer=unhappy, at=NOW - 40 * DAY, rating=1,
                   category="delivery")  # too old
    world.feedback(rep=team.rep, customer=plain, at=NOW - 5 * DAY, rating=5,
                   category="delivery")  # praise
    world.feedback(rep=team.rep, customer=plain, at=NOW - 5 * DAY, rating=1, category="product")

    world.run("backlog", now=NOW)

    ranked = priorities(world)
    u, k, p = (ranked[orders[c.id].id] for c in (unhappy, key, plain))
    assert (u.negative_feedback_30d, u.feedback_points) == (1, 7.5)
    assert (k.segment_points, p.feedback_points, p.segment_points) == (5, 0, 0)
    assert u.rank < k.rank < p.rank
    assert "The customer reported a delivery problem in the last 30 days." in reasons_of(u)
    assert "Key segment: Key." in reasons_of(k)


def test_only_orders_with_pending_quantity_are_backlog(world, team):
    product = world.product(stock=100)
    customer = world.customer(rep=team.rep)
    world.order(rep=team.rep, customer=customer, at=NOW - DAY, status="cancelled",
                lines=[(product, 5, 1.0)])
    world.order(rep=team.rep, customer=customer, at=NOW - DAY, status="delivered", delivered_at=NOW,
                lines=[(product, 5, 1.0, 5)])
    partly = world.order(rep=team.rep, customer=customer, at=NOW - DAY,
                         status="partially_delivered",
                         lines=[(product, 5, 2.0, 5), (product, 4, 3.0, 1)])

    world.run("backlog", now=NOW)

    ranked = priorities(world)
    assert list(ranked) == [partly.id]
    assert (ranked[partly.id].pending_quantity, ranked[partly.id].pending_value) == (3, 9.0)


def test_backlog_health_equals_a_hand_count(world, team, app):
    product = world.product(stock=0)
    customer = world.customer(rep=team.rep)
    other = world.customer(rep=team.other_rep)
    start, end = NOW - 30 * DAY, NOW
    # Backlog now, by age: 2 days (2 x 10), 10 days (3 x 10 pending of 4), 40 and 100 days.
    world.order(rep=team.rep, customer=customer, at=NOW - 2 * DAY, lines=[(product, 2, 10.0)])
    world.order(rep=team.rep, customer=customer, at=NOW - 10 * DAY, status="partially_delivered",
                lines=[(product, 4, 10.0, 1)])
    world.order(rep=team.rep2, customer=customer, at=NOW - 40 * DAY, lines=[(product, 1, 5.0)])
    world.order(rep=team.other_rep, customer=other, at=NOW - 100 * DAY, lines=[(product, 1, 7.0)])
    # Delivered in the period: 4 days lead time on time, 6 days late; one without a date.
    world.order(rep=team.rep, customer=customer, at=NOW - 20 * DAY, status="delivered",
                delivered_at=NOW - 16 * DAY, requested_at=NOW - 15 * DAY,
                lines=[(product, 1, 1.0, 1)])
    world.order(rep=team.rep, customer=customer, at=NOW - 12 * DAY, status="delivered",
                delivered_at=NOW - 6 * DAY, requested_at=NOW - 8 * DAY,
                lines=[(product, 1, 1.0, 1)])
    world.order(rep=team.other_rep, customer=other, at=NOW - 25 * DAY, status="delivered",
                delivered_at=NOW - 23 * DAY, lines=[(product, 1, 1.0, 1)])
    world.order(rep=team.rep, customer=customer, at=NOW - 3 * DAY, status="cancelled",
                lines=[(product, 9, 9.0)])

    with app.app_context():
        everyone = backlog_health(start_ms=start, end_ms=end, now=NOW)
        mine = backlog_health(start_ms=start, end_ms=end, now=NOW, rep_id=team.rep.id)
        team_figures = backlog_health(start_ms=start, end_ms=end, now=NOW,
                                      team_id=team.manager.team_id)

    assert everyone["backlog_orders"] == 4
    assert everyone["backlog_quantity"] == 2 + 3 + 1 + 1
    assert everyone["backlog_value"] == 20 + 30 + 5 + 7
    assert [(b["bucket"], b["orders"], b["value"]) for b in everyone["age_buckets"]] == [
        ("0-7", 1, 20.0), ("8-30", 1, 30.0), ("31-90", 1, 5.0), ("90+", 1, 7.0)]
    # Orders taken in the last 30 days, not cancelled: 2, 10, 20, 12 and 25 days old.
    assert everyone["orders_taken"] == 5
    assert everyone["backlog_ratio"] == 4 / 5
    assert everyone["delivered_orders"] == 3
    assert everyone["average_lead_time_days"] == (4 + 6 + 2) / 3
    assert everyone["on_time_share"] == 1 / 2
    assert (mine["backlog_orders"], mine["backlog_value"], mine["orders_taken"]) == (2, 50, 4)
    assert (mine["average_lead_time_days"], mine["on_time_share"]) == (5, 0.5)
    assert (team_figures["backlog_orders"], team_figures["backlog_value"]) == (3, 55)
