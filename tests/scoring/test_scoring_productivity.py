"""Rep productivity: the score moves the way a manager expects, and every number is explained."""
from fieldsales.common import DAY_MS
from fieldsales.common import HOUR_MS as HOUR
from fieldsales.scoring.models import RepScore, ScoringSuspect
from fieldsales.scoring.sql import week_start

NOW = 1_715_774_400_000  # Wednesday 2024-05-15 12:00 UTC
TODAY = NOW // DAY_MS * DAY_MS
WEEK = week_start(NOW)  # Monday 2024-05-13


def score(world, rep, period="day", start=TODAY) -> RepScore:
    return world.one(RepScore, RepScore.rep_id == rep.id, RepScore.period == period,
                     RepScore.period_start == start)


def busy_day(world, rep, *, visits=4, unverified=0):
    accounts = [world.customer(rep=rep) for _ in range(4)]
    for i in range(visits):
        world.visit(rep=rep, customer=accounts[i % 4], at=TODAY + (8 + i) * HOUR)
    for i in range(unverified):
        world.visit(rep=rep, customer=accounts[0], at=TODAY + (13 + i) * HOUR, verified=False)
    for customer in accounts[:2]:
        world.task(rep=rep, due_at=TODAY + 17 * HOUR, customer=customer, status="done",
                   completed_at=TODAY + 10 * HOUR)
    return accounts


def test_a_rep_with_verified_visits_and_completed_tasks_outscores_an_idle_one(
        world, make_user, team):
    busy = make_user("rep", manager=team.manager, selling_style="farmer")
    idle = make_user("rep", manager=team.manager, selling_style="farmer")
    busy_day(world, busy)
    idle_accounts = [world.customer(rep=idle) for _ in range(4)]
    for customer in idle_accounts[:2]:
        world.task(rep=idle, due_at=TODAY + 17 * HOUR, customer=customer)

    run = world.run("productivity", now=NOW)

    assert run["status"] == "ok" and run["rows_written"] > 0
    b, i = score(world, busy), score(world, idle)
    assert (b.visits, b.verified_visits, b.time_on_site_s) == (4, 4, 4 * 30 * 60)
    assert (b.tasks_due, b.tasks_done, b.tasks_done_on_time, b.planned_visits) == (2, 2, 2, 2)
    assert b.call_rate == 2.0 and b.c_call_rate == 1.0  # capped at 1
    assert (b.accounts_assigned, b.accounts_visited, b.account_coverage) == (4, 4, 1.0)
    assert (i.visits, i.tasks_done, i.task_completion_rate, i.call_rate) == (0, 0, 0.0, 0.0)
    assert i.score == 0
    assert b.score > 50 > i.score


def test_unverified_visits_lower_the_score_and_are_listed(world, make_user, team):
    honest = make_user("rep", manager=team.manager, selling_style="farmer")
    suspect = make_user("rep", manager=team.manager, selling_style="farmer")
    busy_day(world, honest)
    busy_day(world, suspect, unverified=2)

    world.run("productivity", now=NOW)

    h, s = score(world, honest), score(world, suspect)
    assert (s.visits, s.verified_visits, s.unverified_visits) == (6, 4, 2)
    assert s.time_on_site_s == h.time_on_site_s  # unverified time earns nothing
    assert abs(s.suspect_penalty - 20 * 2 / 6) < 1e-9
    assert s.score < h.score
    listed = world.rows(ScoringSuspect, ScoringSuspect.rep_id == suspect.id)
    assert sorted(x.kind for x in listed) == ["unverified_visit", "unverified_visit"]
    assert all("900 m" in x.detail for x in listed)


def test_flagged_pings_are_left_out_of_travel_and_lower_the_score(world, make_user, team):
    clean = make_user("rep", manager=team.manager, selling_style="farmer")
    jumpy = make_user("rep", manager=team.manager, selling_style="farmer")
    for rep in (clean, jumpy):
        busy_day(world, rep)
        for i in range(10):
            flags = "implausible_speed" if rep is jumpy and i < 2 else ""
            world.ping(rep=rep, at=TODAY + 8 * HOUR + i * 60_000, distance_m=100.0, flags=flags)

    world.run("productivity", now=NOW)

    c, j = score(world, clean), score(world, jumpy)
    assert (c.pings, c.flagged_pings, c.travel_distance_m) == (10, 0, 1000.0)
    assert (j.pings, j.flagged_pings, j.travel_distance_m) == (10, 2, 800.0)
    assert abs(j.suspect_penalty - 10 * 0.2) < 1e-9 and j.score < c.score
    listed = world.rows(ScoringSuspect, ScoringSuspect.rep_id == jumpy.id)
    assert [x.detail for x in listed] == ["Ping flagged: implausible_speed."] * 2


def test_hunters_score_on_prospects_visited_and_converted(world, team, make_user):
    hunter = make_user("rep", manager=team.manager, selling_style="hunter")
    product = world.product(stock=100)
    prospects = [world.customer(rep=hunter, kind="prospect") for _ in range(3)]
    visits = [world.visit(rep=hunter, customer=c, at=TODAY + (9 + i) * HOUR)
              for i, c in enumerate(prospects)]
    world.order(rep=hunter, customer=prospects[0], at=TODAY + 9 * HOUR + 60_000, visit=visits[0],
                lines=[(product, 5, 10.0)])

    world.run("productivity", now=NOW)

    h = score(world, hunter)
    assert (h.prospects_visited, h.prospects_converted) == (3, 1)
    assert (h.orders_taken, h.order_value, h.visits_with_order) == (1, 50.0, 1)
    assert h.strike_rate == 1 / 3
    assert h.c_prospects == 1.0 and h.c_conversions == 1.0
    assert h.c_coverage is None and h.c_repeat is None  # farmer components do not apply


def test_farmers_score_on_repeat_and_upsell_orders(world, team, make_user):
    farmer = make_user("rep", manager=team.manager, selling_style="farmer")
    product = world.product(stock=100)
    account = world.customer(rep=farmer)
    world.order(rep=farmer, customer=account, at=TODAY - 20 * 86_400_000,
                lines=[(product, 10, 10.0)])
    world.order(rep=farmer, customer=account, at=TODAY + 10 * HOUR, lines=[(product, 20, 10.0)])
    world.order(rep=farmer, customer=account, at=TODAY + 11 * HOUR, lines=[(product, 1, 10.0)])

    world.run("productivity", now=NOW)

    f = score(world, farmer)
    assert (f.orders_taken, f.repeat_orders, f.upsell_orders) == (2, 2, 1)
    assert f.prospects_converted == 0 and f.c_prospects is None


def test_week_rows_add_up_the_days_and_reruns_replace_rows(world, team, make_user):
    rep = make_user("rep", manager=team.manager, selling_style="farmer")
    account = world.customer(rep=rep)
    world.visit(rep=rep, customer=account, at=WEEK + 9 * HOUR)            # Monday
    world.visit(rep=rep, customer=account, at=TODAY + 9 * HOUR)           # Wednesday
    world.visit(rep=rep, customer=account, at=WEEK - 86_400_000 + HOUR)   # the Sunday before

    first = world.run("productivity", now=NOW)
    second = world.run("productivity", now=NOW)

    assert first["rows_written"] == second["rows_written"]
    week = score(world, rep, "week", WEEK)
    assert week.visits == 2 and score(world, rep, "week", WEEK - 7 * 86_400_000).visits == 1
    days = world.rows(RepScore, RepScore.rep_id == rep.id, RepScore.period == "day")
    assert len(days) == 7 and sum(d.visits for d in days) == 3
    assert len(world.rows(RepScore, RepScore.rep_id == rep.id, RepScore.period == "week")) == 2


def test_target_attainment_counts_when_the_rep_has_a_target_for_the_period(world, team,
                                                                          make_user):
    aimed = make_user("rep", manager=team.manager, selling_style="farmer")
    free = make_user("rep", manager=team.manager, selling_style="farmer")
    busy_day(world, aimed)
    busy_day(world, free)
    world.target(rep=aimed, metric="verified_visits", period="day", start=TODAY,
                 end=TODAY + 86_400_000, goal=8)

    world.run("productivity", now=NOW)

    a, f = score(world, aimed), score(world, free)
    assert (a.target_attainment, a.c_target) == (0.5, 0.5)
    assert (f.target_attainment, f.c_target) == (None, None)  # no target: weight spread
    assert a.score < f.score
