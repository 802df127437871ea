"""The order of a rep's day: vehicle routing with time windows, by OR-Tools' routing library.

One rep-day is one vehicle. It leaves the rep's start point when the team's working window
opens and is back by the time it closes; each stop has its time on site and a window in
which the visit must start (the customer's opening hours less the time on site). At most
`max_visits` stops. Every stop may be dropped at a penalty that grows with its priority and
dwarfs any travel, so the solver first visits as many as fit, then the most important ones,
then keeps travel short; what it drops is the day's overflow. Since every stop is optional the
problem always has a solution (the empty day): planning never fails.

The solver always makes the cheapest-arc route first (milliseconds), then improves it by
local search until no move helps or `time_limit_ms` has passed; at the limit it answers the
best plan found so far (`status` "time_limit"). Why OR-Tools and not VROOM: docs/plans.md.

Travel (`travel_matrix`): straight-line distances (fieldsales/geo.py) at a configured speed,
or road times and distances from an OSRM server's `table` service when a URL is given (its
failure falls back to straight lines, logged: a plan is still made).
"""
import json
import logging
import math
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from fieldsales.geo import travel_m

log = logging.getLogger(__name__)

# A dropped stop costs DROP_BASE_S + priority x DROP_PER_POINT_S (in seconds of travel):
# more than any day's travel, so the solver never drops a stop that fits to save driving.
DROP_BASE_S = 1_000_000
DROP_PER_POINT_S = 10_000
# A locked stop (a manager's) is dropped only when it cannot fit at all.
LOCKED_PENALTY_S = 1_000_000_000


@dataclass(frozen=True)
class Travel:
    """Seconds and metres between points (index 0 is the start point), and their source."""

    seconds: list[list[int]]
    metres: list[list[int]]
    source: str = "straight_line"


@dataclass(frozen=True)
class Stop:
    """A candidate stop of the day.

    `node`: its point in the Travel matrix; `window`: [earliest, latest] start of the visit
    in seconds from the working window's opening (None: any time the day allows); `pinned`:
    a locked stop's planned start, in the same seconds, or None.
    """

    key: str
    node: int
    service_s: int
    priority: float = 0.0
    window: tuple[int, int] | None = None
    locked: bool = False
    pinned: int | None = None


@dataclass
class DayPlan:
    """The solved day: (key, start in seconds from the window's opening) in route order,
    the keys dropped (overflow), the route's travel, and how the search ended."""

    route: list[tuple[str, int]] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    travel_s: int = 0
    distance_m: int = 0
    status: str = "empty"


def travel_matrix(points: Sequence[tuple[float, float]], *, speed_kmh: float,
                  osrm_url: str = "", timeout_s: float = 10.0) -> Travel:
    """Travel between every pair of (latitude, longitude) points."""
    if osrm_url and len(points) > 1:
        try:
            return _osrm_table(points, url=osrm_url, timeout_s=timeout_s)
        except (OSError, ValueError, KeyError, TypeError, urllib.error.URLError) as error:
            log.warning("OSRM table at %s failed (%s); straight-line travel instead",
                        osrm_url, error)
    n = len(points)
    metres = [[0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            metres[i][j] = metres[j][i] = round(travel_m(*points[i], *points[j]))
    speed = speed_kmh / 3.6
    seconds = [[math.ceil(m / speed) for m in row] for row in metres]
    return Travel(seconds=seconds, metres=metres)


def _osrm_table(points: Sequence[tuple[float, float]], *, url: str, timeout_s: float) -> Travel:
    """OSRM's table service: durations (s) and distances (m) between all points."""
    coordinates = ";".join(f"{lng:.6f},{lat:.6f}" for lat, lng in points)
    request = f"{url.rstrip('/')}/table/v1/driving/{coordinates}?annotations=duration,distance"
    with urllib.request.urlopen(request, timeout=timeout_s) as answer:  # noqa: S310 (config URL)
        body = json.loads(answer.read())
    if body.get("code") != "Ok":
        raise ValueError(f"OSRM answered {body.get('code')!r}")
    n = len(points)
    durations, distances = body["durations"], body.get("distances")
    if len(durations) != n or any(len(row) != n for row in durations):
        raise ValueError("OSRM's table is not n x n")

    def whole(value) -> int:  # null: no road between them, as good as unreachable
        return 10**7 if value is None else math.ceil(float(value))

    seconds = [[whole(v) for v in row] for row in durations]
    metres = ([[whole(v) for v in row] for row in distances] if distances is not None
              else [[0] * n for _ in range(n)])
    return Travel(seconds=seconds, metres=metres, source="osrm")


def solve_day(*, travel: Travel, stops: Sequence[Stop], day_s: int, max_visits: int,
              time_limit_ms: int) -> DayPlan:
    """The best order of the day's stops from travel's point 0 and back within `day_s`."""
    if not stops or day_s <= 0 or max_visits <= 0:
        return DayPlan(dropped=[stop.key for stop in stops])
    nodes = [0, *(stop.node for stop in stops)]  # routing index i -> travel point
    service = [0, *(stop.service_s for stop in stops)]
    manager = pywrapcp.RoutingIndexManager(len(nodes), 1, 0)
    routing = pywrapcp.RoutingModel(manager)
    seconds = travel.seconds
    # Matrices, not Python callbacks: the solver reads them without calling back.
    drive = [[seconds[a][b] for b in nodes] for a in nodes]
    with_service = [[service[i] + cost for cost in row] for i, row in enumerate(drive)]
    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitMatrix(drive))
    routing.AddDimension(routing.RegisterTransitMatrix(with_service), day_s, day_s, False,
                         "time")
    time = routing.GetDimensionOrDie("time")
    routing.AddDimension(routing.RegisterUnaryTransitVector([0] + [1] * len(stops)), 0,
                         max_visits, True, "visits")

    for position, stop in enumerate(stops, start=1):
        index = manager.NodeToIndex(position)
        low, high = 0, day_s - stop.service_s
        if stop.window is not None:
            low, high = max(low, stop.window[0]), min(high, stop.window[1])
        if stop.pinned is not None and low <= stop.pinned <= high:
            low = high = stop.pinned
        if low > high:  # cannot fit today at all
            routing.solver().Add(routing.ActiveVar(index) == 0)
            routing.AddDisjunction([index], 0)
            continue
        time.CumulVar(index).SetRange(low, high)
        routing.AddDisjunction([index], LOCKED_PENALTY_S if stop.locked
                               else DROP_BASE_S + round(stop.priority * DROP_PER_POINT_S))

    # The cheapest-arc route first, always (it takes milliseconds, and a limit reached
    # before any solution would leave the day empty), then local search within the limit.
    first_only = pywrapcp.DefaultRoutingSearchParameters()
    first_only.first_solution_strategy = (
        routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC)
    first_only.solution_limit = 1
    first = routing.SolveWithParameters(first_only)
    if first is None:  # not reached: with every stop optional, the empty day is a solution
        return DayPlan(dropped=[stop.key for stop in stops], status="no_solution")
    improving = pywrapcp.DefaultRoutingSearchParameters()
    improving.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT)
    improving.time_limit.FromMilliseconds(max(1, int(time_limit_ms)))
    improved = routing.SolveFromAssignmentWithParameters(first, improving)
    timed_out = improved is None or routing.status() == _TIMED_OUT
    solution = improved or first  # nothing better within the limit: the first route

    plan = DayPlan(status="time_limit" if timed_out else "solved")
    index = routing.Start(0)
    visited = set()
    previous = 0
    while not routing.IsEnd(index):
        node = manager.IndexToNode(index)
        if node != 0:
            visited.add(node)
            plan.route.append((stops[node - 1].key, solution.Min(time.CumulVar(index))))
            plan.travel_s += seconds[nodes[previous]][nodes[node]]
            plan.distance_m += travel.metres[nodes[previous]][nodes[node]]
            previous = node
        index = solution.Value(routing.NextVar(index))
    if plan.route:
        plan.travel_s += seconds[nodes[previous]][0]
        plan.distance_m += travel.metres[nodes[previous]][0]
    plan.dropped = [stop.key for position, stop in enumerate(stops, start=1)
                    if position not in visited]
    return plan


# RoutingModel.status(): a solution found, but the search stopped at the time limit.
_TIMED_OUT = (routing_enums_pb2.RoutingSearchStatus
              .ROUTING_PARTIAL_SUCCESS_LOCAL_OPTIMUM_NOT_REACHED)


def nearest_neighbour_m(travel: Travel, nodes: Sequence[int]) -> int:
    """A nearest-neighbour tour's distance from point 0 through `nodes` and back: the
    baseline a solver's route is measured against (bench/plans.py, tests)."""
    left, at, total = set(nodes), 0, 0
    while left:
        nearest = min(left, key=lambda node: (travel.metres[at][node], node))
        total += travel.metres[at][nearest]
        left.discard(nearest)
        at = nearest
    return total + travel.metres[at][0]
