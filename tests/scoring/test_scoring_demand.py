"""Inventory demand: weekly quantities, a smoothed forecast, cover and what to reorder."""
from fieldsales.common import DAY_MS as DAY
from fieldsales.common import WEEK_MS as WEEK
from fieldsales.scoring.demand import ALPHA, BETA
from fieldsales.scoring.models import ProductDemand
from fieldsales.scoring.sql import week_start

NOW = 1_715_774_400_000  # Wednesday 2024-05-15 12:00 UTC
LAST_WEEK = week_start(NOW) - WEEK  # the latest complete week, Monday 2024-05-06


def holt(series, alpha=ALPHA, beta=BETA):
    """(level, trend) after the last value, by hand: Holt's linear exponential smoothing,
    starting at the first value with no trend."""
    level, trend = series[0], 0.0
    for value in series[1:]:
        previous = level
        level = alpha * value + (1 - alpha) * (level + trend)
        trend = beta * (level - previous) + (1 - beta) * trend
    return level, trend


def order_weekly(world, rep, customer, product, quantities):
    """One order a week on the Tuesday, oldest first, ending with the latest complete week."""
    for i, quantity in enumerate(quantities):
        monday = LAST_WEEK - (len(quantities) - 1 - i) * WEEK
        world.order(rep=rep, customer=customer, at=monday + DAY + 3_600_000,
                    lines=[(product, quantity, 1.0, quantity)],
                    status="delivered", delivered_at=monday + 2 * DAY)


def latest(world, product):
    return world.one(ProductDemand, ProductDemand.product_id == product.id,
                     ProductDemand.is_latest.is_(True))


def test_rising_orders_raise_the_forecast_and_are_flagged(world, team):
    flat, rising = world.product(), world.product()
    customer = world.customer(rep=team.rep)
    order_weekly(world, team.rep, customer, flat, [10] * 12)
    order_weekly(world, team.rep, customer, rising, [10] * 8 + [14, 18, 22, 26])
    world.order(rep=team.rep, customer=customer, at=NOW - 3_600_000,
                lines=[(rising, 500, 1.0)])  # this week

    run = world.run("demand", now=NOW)

    assert run["status"] == "ok" and run["rows_written"] == 2 * 12
    f, r = latest(world, flat), latest(world, rising)
    assert f.week_start == r.week_start == LAST_WEEK
    assert (f.ordered_quantity, f.forecast, f.trend, f.rising_demand) == (10, 10, 0, False)
    assert r.ordered_quantity == 26  # the current, incomplete week is not counted yet
    level, trend = holt([10] * 8 + [14, 18, 22, 26])
    assert (r.level, r.trend, r.forecast) == (level, trend, level + trend)
    assert r.forecast > 2 * f.forecast and r.rising_demand
    history = world.rows(ProductDemand, ProductDemand.product_id == rising.id,
                         order_by=ProductDemand.week_start)
    assert [h.ordered_quantity for h in history] == [10] * 8 + [14, 18, 22, 26]
    assert [h.is_latest for h in history] == [False] * 11 + [True]


def test_cover_reorder_and_backlog_shortfall_come_from_forecast_stock_and_backlog(world, team):
    product = world.product(stock=3, lead_time_days=14)
    idle = world.product(stock=50)
    customer = world.customer(rep=team.rep)
    order_weekly(world, team.rep, customer, product, [7] * 12)
    world.order(rep=team.rep, customer=customer, at=NOW - DAY,
                lines=[(product, 6, 1.0, 1)])  # 5 pending
    world.feedback(rep=team.rep, customer=customer, at=LAST_WEEK + DAY, category="product",
                   product=product, requested_quantity=4)
    world.feedback(rep=team.rep, customer=customer, at=LAST_WEEK + 2 * DAY, category="product",
                   product=product, requested_quantity=2.5)

    world.run("demand", now=NOW)

    d = latest(world, product)
    assert (d.forecast, d.stock_on_hand, d.backlog_quantity, d.lead_time_days) == (7, 3, 5, 14)
    assert d.days_of_cover == 3.0                 # 3 in stock / 1 a day
    assert d.reorder_suggestion == 14 + 5 - 3     # lead time demand + backlog - stock
    assert d.stock_short_of_backlog and not d.rising_demand
    assert d.feedback_requested_quantity == 6.5
    quiet = latest(world, idle)
    assert (quiet.forecast, quiet.days_of_cover, quiet.reorder_suggestion) == (0, None, 0)


def test_reruns_replace_the_window(world, team):
    product = world.product()
    order_weekly(world, team.rep, world.customer(rep=team.rep), product, [3] * 4)

    world.run("demand", now=NOW)
    world.run("demand", now=NOW)
    world.run("demand", now=NOW + WEEK)  # a week later: one more week, still 12 rows

    rows = world.rows(ProductDemand, ProductDemand.product_id == product.id)
    assert len(rows) == 13
    assert [r.week_start for r in rows if r.is_latest] == [LAST_WEEK + WEEK]


def test_smoothing_starts_at_a_products_first_week_of_orders(world, team):
    newcomer = world.product()  # first sold four weeks ago, at a steady rate
    customer = world.customer(rep=team.rep)
    order_weekly(world, team.rep, customer, newcomer, [81, 132, 113, 124])

    world.run("demand", now=NOW)

    d = latest(world, newcomer)
    level, trend = holt([81, 132, 113, 124])  # the eight weeks before are no history
    assert (d.level, d.trend) == (level, trend)
    assert not d.rising_demand  # from eight zero weeks it would read as rising
    history = world.rows(ProductDemand, ProductDemand.product_id == newcomer.id,
                         order_by=ProductDemand.week_start)
    assert [(h.ordered_quantity, h.forecast) for h in history[:8]] == [(0, 0)] * 8
