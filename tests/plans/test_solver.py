"""The day's route (plans/solver.py): capacity, priorities, opening hours, the time limit,
and a better route than nearest neighbour."""
from fieldsales.plans.solver import Stop, Travel, nearest_neighbour_m, solve_day, travel_matrix

HOUR = 3600


def on_a_line(*positions_km: float, speed_kmh: float = 60) -> Travel:
    """Points on a straight road, the start at 0 km: metres and seconds between them."""
    points = [0.0, *positions_km]
    metres = [[round(abs(a - b) * 1000) for b in points] for a in points]
    seconds = [[round(m / (speed_kmh / 3.6)) for m in row] for row in metres]
    return Travel(seconds=seconds, metres=metres)


def test_solver_beats_nearest_neighbour_on_a_fixed_instance():
    # From 0 km the nearest is 1 km, then -2 km, then 4 km and back: 1+3+6+4 = 14 km.
    # Going out to 4 km first and back past the start to -2 km is 1+3+6+2 = 12 km.
    travel = on_a_line(1, -2, 4)
    stops = [Stop(key=k, node=i, service_s=600) for i, k in enumerate("abc", start=1)]

    plan = solve_day(travel=travel, stops=stops, day_s=8 * HOUR, max_visits=8,
                     time_limit_ms=2000)

    assert nearest_neighbour_m(travel, [1, 2, 3]) == 14_000
    assert plan.distance_m == 12_000 and sorted(k for k, _ in plan.route) == ["a", "b", "c"]
    assert plan.dropped == [] and plan.status == "solved"


def test_a_day_over_capacity_plans_the_most_important_and_drops_the_rest():
    travel = on_a_line(*range(1, 13))
    stops = [Stop(key=f"s{i}", node=i, service_s=600, priority=i) for i in range(1, 13)]

    plan = solve_day(travel=travel, stops=stops, day_s=8 * HOUR, max_visits=8,
                     time_limit_ms=2000)

    assert sorted(plan.dropped) == ["s1", "s2", "s3", "s4"]
    assert len(plan.route) == 8


def test_time_fills_up_before_the_visit_cap():
    travel = on_a_line(1, 2, 3, 4)
    stops = [Stop(key=f"s{i}", node=i, service_s=2 * HOUR, priority=i) for i in range(1, 5)]

    plan = solve_day(travel=travel, stops=stops, day_s=5 * HOUR, max_visits=8,
                     time_limit_ms=2000)

    assert len(plan.route) == 2 and len(plan.dropped) == 2


def test_opening_hours_are_respected():
    travel = on_a_line(1, 2, 3)
    # The nearest opens last: 14:00-15:00 (5-6 h into a 09:00 day), the others all day.
    stops = [Stop(key="late", node=1, service_s=1800, window=(5 * HOUR, 6 * HOUR - 1800)),
             Stop(key="b", node=2, service_s=1800), Stop(key="c", node=3, service_s=1800)]

    plan = solve_day(travel=travel, stops=stops, day_s=8 * HOUR, max_visits=8,
                     time_limit_ms=2000)

    starts = dict(plan.route)
    assert 5 * HOUR <= starts["late"] <= 6 * HOUR - 1800
    assert len(plan.route) == 3
    for (_, start), (_, then) in zip(plan.route, plan.route[1:], strict=False):
        assert then >= start + 1800  # one visit after the other, never overlapping


def test_a_stop_that_cannot_fit_is_dropped_and_the_day_still_planned():
    travel = on_a_line(1, 2)
    stops = [Stop(key="closed", node=1, service_s=1800, window=(9 * HOUR, 10 * HOUR)),
             Stop(key="open", node=2, service_s=1800)]

    plan = solve_day(travel=travel, stops=stops, day_s=8 * HOUR, max_visits=8,
                     time_limit_ms=1000)

    assert [key for key, _ in plan.route] == ["open"] and plan.dropped == ["closed"]


def test_a_locked_stop_keeps_its_planned_time():
    travel = on_a_line(1, 2, 3)
    stops = [Stop(key="pinned", node=3, service_s=1800, locked=True, pinned=2 * HOUR),
             Stop(key="a", node=1, service_s=1800), Stop(key="b", node=2, service_s=1800)]

    plan = solve_day(travel=travel, stops=stops, day_s=8 * HOUR, max_visits=8,
                     time_limit_ms=1000)

    assert dict(plan.route)["pinned"] == 2 * HOUR and len(plan.route) == 3


def test_at_the_time_limit_the_best_plan_so_far_is_kept():
    points = [(38.7 + 0.003 * (i % 9), -9.2 + 0.004 * (i // 9)) for i in range(81)]
    travel = travel_matrix(points, speed_kmh=30)
    stops = [Stop(key=str(i), node=i, service_s=900, priority=i % 7) for i in range(1, 81)]

    plan = solve_day(travel=travel, stops=stops, day_s=10 * HOUR, max_visits=30,
                     time_limit_ms=1)

    assert plan.status == "time_limit"
    assert len(plan.route) == 30 and len(plan.dropped) == 50


def test_no_stops_or_no_day_is_an_empty_plan():
    travel = on_a_line(1)
    assert solve_day(travel=travel, stops=[], day_s=HOUR, max_visits=8,
                     time_limit_ms=10).route == []
    plan = solve_day(travel=travel, stops=[Stop(key="a", node=1, service_s=60)], day_s=0,
                     max_visits=8, time_limit_ms=10)
    assert plan.route == [] and plan.dropped == ["a"]
