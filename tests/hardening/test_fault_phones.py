"""Phones lose nothing when a gunicorn worker is killed mid-run and the whole server restarts.

A small run of the phones simulator (tests/support/phones, which bench/phones runs) against a
real gunicorn (3 workers) on a scratch database: while the phones push, one worker is killed
with SIGKILL, then every worker is killed while a 10,000-ping push is inside the server (so a
push surely dies half done), and later the whole server is stopped with SIGTERM and started
again on the same database and port. Phones resend what got no answer, exactly as they would
after a timeout. At the end the database holds every record the phones made exactly once, with
the columns they wrote, and the bad records they sent once each in the quarantine.

Nothing depends on the machine's speed: every phone's first push carries invalid records (and
the test waits for their answers before the first kill), each fault waits for the phones' work,
and the phone day (12 h, as dense in visits and offline gaps as 3 h used to be) is far longer
than the faults take: the test ends it once the restarted server has taken pushes and every phone
has lived at least 2 h of it.
"""
import http.client
import json
import os
import signal
import tempfile
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support.phones import (
    PASSWORD,
    Fleet,
    Http,
    Plan,
    Server,
    TransportError,
    check,
    report_text,
)

# The phones (this process) and gunicorn (another) must share one clock: not under --at.
pytestmark = [pytest.mark.slow, pytest.mark.real_clock]

PLAN = Plan(phones=8, two_phone_share=0.15, customers_per_rep=4, tasks_per_rep=2, products=10,
            hours=12, ping_every_s=30, sync_every_min=5, visits_per_day=24, offline_gaps=4,
            abandon_share=0.05, duplicate_share=0.05, bad_share=0.3, bad_first=2,
            admin_edits_per_s=3, pace_ms=100, retry_for_s=45, max_wall_s=300, setup_threads=4,
            seed=7)
HOURS_LIVED = 2  # of phone time, by every phone, before the test ends the day


def pushes(fleet: Fleet) -> int:
    return sum(phone.stats["pushes"] for phone in fleet.phones)


def hours_lived(fleet: Fleet) -> float:
    """Phone time the slowest phone has lived: one ping per tick."""
    ticks = min(len(phone.own["location_pings"]) for phone in fleet.phones)
    return (ticks - 1) * PLAN.ping_every_s / 3600


def bad_sent(fleet: Fleet) -> int:
    return sum(phone.bad_sent() for phone in fleet.phones)


BIG_PUSH = 10_000


def push_killed_in_flight(server: Server, fleet: Fleet, run: str) -> str:
    """A rep's phone sends 10,000 pings padded to ~18 MB (keys starting with `_` are ignored):
    far more than the loopback socket buffers hold, so when the client has sent it all, a
    worker is reading it, and parsing and storing it takes far longer than the 50 ms we then
    wait. Every worker is killed: the push dies half done. The phone resends the same bytes
    until it gets its 200. Returns the rep's id."""
    manager = fleet.admin.create("/api/v1/users", {
        "email": f"inflight-manager-{run}@fault.example.com", "password": PASSWORD,
        "name": "In-flight manager", "role": "manager"})
    rep = fleet.admin.create("/api/v1/users", {
        "email": f"inflight-{run}@fault.example.com", "password": PASSWORD,
        "name": "In-flight rep", "role": "rep", "manager_id": manager["id"]})
    phone = Http(server.base_url, 60)
    token = phone.request("POST", "/api/v1/auth/token", json.dumps({
        "email": rep["email"], "password": PASSWORD}).encode(),
        {"Content-Type": "application/json"}).json["access_token"]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/plain;charset=UTF-8"}
    start = int(time.time() * 1000) - 3 * 3_600_000
    body = json.dumps({"location_pings": {"created": [
        {"id": f"inflight{run}{n}", "recorded_at": start + n * 1000, "latitude": 38.7,
         "longitude": -9.1 + n * 1e-6, "accuracy_m": 5, "_pad": "x" * 1600}
        for n in range(BIG_PUSH)],
        "updated": [], "deleted": []}}).encode()
    path = "/api/v1/sync?last_pulled_at=null"

    doomed = http.client.HTTPConnection(phone.host, phone.port, timeout=60)
    doomed.request("POST", path, body=body, headers=headers)  # returns once the body is sent
    time.sleep(0.05)
    for pid in server.worker_pids():
        os.kill(pid, signal.SIGKILL)
    with pytest.raises((OSError, http.client.HTTPException)):
        doomed.getresponse().read()  # the answer never comes
    doomed.close()

    give_up_at = time.monotonic() + 60
    while True:
        try:
            reply = phone.request("POST", path, body, headers)
            if reply.status == 200:
                break
        except TransportError:
            pass  # the master is still starting new workers
        assert time.monotonic() < give_up_at, "the big push never got through"
        time.sleep(0.2)
    assert reply.json["accepted"]["location_pings"] == BIG_PUSH
    return rep["id"]


def wait_for(condition, timeout: float = 90) -> None:
    give_up_at = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < give_up_at, "the phones stopped making progress"
        time.sleep(0.05)


@pytest.fixture
def scratch(make_database):
    """A database and a folder for the server's log. The SQLite file lives outside pytest's
    temporary folders, which a concurrent pytest session may prune while the server runs."""
    with tempfile.TemporaryDirectory(prefix="fieldsales-fault-") as folder:
        url = (make_database("fault") if os.environ.get("TEST_DATABASE_URL")
               else f"sqlite:///{folder}/fault.db")
        yield url, Path(folder)


def test_no_record_is_lost_or_doubled_through_a_killed_worker_and_a_restart(scratch):
    url, folder = scratch
    server = Server(url, workers=3, log_path=folder / "server.log")
    server.prepare(admin_email="admin@fault.example.com", admin_password=PASSWORD)
    server.start()
    try:
        fleet = Fleet(server.base_url, PLAN, admin_email="admin@fault.example.com",
                      admin_password=PASSWORD)
        fleet.build()
        figures = {}
        runner = threading.Thread(target=lambda: figures.update(fleet.run()), daemon=True)
        runner.start()

        # Every phone's first invalid records were sent and answered before anything is killed.
        wait_for(lambda: pushes(fleet) >= 10 and bad_sent(fleet) >= PLAN.phones * PLAN.bad_first)
        first = server.kill_worker()
        wait_for(lambda: pushes(fleet) >= 25)
        killed = set(server.worker_pids())
        big_rep = push_killed_in_flight(server, fleet, fleet.run_id)
        wait_for(lambda: pushes(fleet) >= 40)
        assert runner.is_alive() and time.monotonic() < fleet.deadline, "the day ended too soon"
        server.restart()  # phones are mid-day: their requests meet a closed port, then resend
        restarted_at = pushes(fleet)
        wait_for(lambda: pushes(fleet) >= restarted_at + 10 and hours_lived(fleet) >= HOURS_LIVED,
                 timeout=240)
        fleet.end_day()
        runner.join(timeout=120)

        assert not runner.is_alive(), "phones did not finish their day"
        assert ({first} | killed).isdisjoint(server.worker_pids())
        report = check(url, fleet)
        print(report_text(PLAN, figures, report, f"{url.split(':')[0]}, killed {first}, then "
                          f"{sorted(killed)} mid-push, restarted"))
        assert report["ok"], report
        assert report["tables"]["location_pings"]["expected"] > 500
        # Bad records were sent (and resent) and each is held once: checked by report["ok"].
        assert report["quarantine"]["expected"] >= PLAN.phones * PLAN.bad_first, \
            report["quarantine"]
        assert figures["errors"] == 0, figures
        # The faults were felt: requests went unanswered and were resent.
        assert figures["counts"].get("transport_retries", 0) > 0, figures
        engine = sa.create_engine(url)
        try:
            with engine.connect() as conn:
                held = conn.execute(sa.text("SELECT count(*) FROM location_pings "
                                            "WHERE rep_id = :rep"), {"rep": big_rep}).scalar()
        finally:
            engine.dispose()
        assert held == BIG_PUSH  # the killed push left nothing; its resend, everything once
    finally:
        server.stop()
