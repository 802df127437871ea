"""Road times from an OSRM server (ROUTING_OSRM_URL): its `table` service, spoken by a tiny
HTTP server on the loopback, and straight lines when it fails."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from fieldsales.customers.models import Customer
from fieldsales.extensions import db
from fieldsales.plans.models import PlannedVisit
from fieldsales.plans.service import plan_days
from fieldsales.plans.solver import travel_matrix
from tests.plans.conftest import NOW, near


class Table(BaseHTTPRequestHandler):
    """Answers /table/v1/driving/lng,lat;... as OSRM does: every leg takes 60 s and 500 m,
    except that reaching the point listed last from the start takes an hour (a river)."""

    requests: list[str] = []
    fail = False

    def do_GET(self):  # noqa: N802 (http.server's name)
        type(self).requests.append(self.path)
        if self.fail or not self.path.startswith("/table/v1/driving/"):
            self.send_response(500)
            self.end_headers()
            return
        coordinates = self.path.split("/")[4].split("?")[0].split(";")
        n = len(coordinates)
        durations = [[0.0 if i == j else 60.0 for j in range(n)] for i in range(n)]
        durations[0][n - 1] = 3600.0
        body = json.dumps({"code": "Ok", "durations": durations,
                           "distances": [[0.0 if i == j else 500.0 for j in range(n)]
                                         for i in range(n)]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def osrm():
    Table.requests, Table.fail = [], False
    server = ThreadingHTTPServer(("127.0.0.1", 0), Table)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_road_times_come_from_the_osrm_table(osrm):
    points = [(38.72, -9.14), (38.73, -9.15), (38.74, -9.16)]

    travel = travel_matrix(points, speed_kmh=30, osrm_url=osrm, timeout_s=5)

    assert travel.source == "osrm"
    assert travel.seconds[0] == [0, 60, 3600] and travel.metres[1] == [500, 0, 500]
    (path,) = Table.requests
    assert path == ("/table/v1/driving/-9.140000,38.720000;-9.150000,38.730000;"
                    "-9.160000,38.740000?annotations=duration,distance")


def test_a_failing_osrm_falls_back_to_straight_lines(osrm):
    Table.fail = True

    travel = travel_matrix([(38.72, -9.14), (38.73, -9.14)], speed_kmh=36, osrm_url=osrm,
                           timeout_s=5)

    assert travel.source == "straight_line" and 1100 < travel.metres[0][1] < 1120
    assert travel.seconds[0][1] == -(-travel.metres[0][1] // 10)  # 36 km/h is 10 m/s


def test_the_plan_job_routes_by_road_times_when_osrm_is_set(app, office, world, osrm,
                                                            monkeypatch):
    team = office
    monkeypatch.setitem(app.config, "ROUTING_OSRM_URL", osrm)
    customers = [world.customer(rep=team.rep2, **near(i)) for i in range(3)]

    with app.app_context():
        plan_days(now=NOW, days=1)
        db.session.commit()

    rows = sorted(world.rows(PlannedVisit, PlannedVisit.rep_id == team.rep2.id),
                  key=lambda row: row.sequence)
    assert len(Table.requests) == 1 and {r.customer_id for r in rows} == set(customers)
    # The last point of the table is an hour from the start: never the first stop.
    last_point = Table.requests[0].split("/")[4].split("?")[0].split(";")[-1]
    first_customer = world.get(Customer, rows[0].customer_id)
    assert f"{first_customer.longitude:.6f},{first_customer.latitude:.6f}" != last_point
    assert rows[1].planned_arrival_at - rows[0].planned_arrival_at == (1800 + 60) * 1000
