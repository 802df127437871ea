"""Phones lose nothing when a gunicorn worker is killed mid-run and the whole server restarts.

A small run of bench/phones.py against a real gunicorn (3 workers) on a scratch database:
while the phones push, one worker is killed with SIGKILL (twice, at different moments), and
later the whole server is stopped with SIGTERM and started again on the same database and
port. Phones resend what got no answer, exactly as they would after a timeout. At the end the
database holds every record the phones made exactly once, with the columns they wrote.
"""
import os
import tempfile
import threading
import time
from pathlib import Path

import pytest

from bench.phones import PASSWORD, Fleet, Plan, Server, check, report_text

pytestmark = pytest.mark.slow

PLAN = Plan(phones=8, two_phone_share=0.15, customers_per_rep=4, tasks_per_rep=2, products=10,
            hours=3, ping_every_s=30, sync_every_min=5, visits_per_day=5, offline_gaps=1,
            abandon_share=0.05, duplicate_share=0.05, bad_share=0.05, admin_edits_per_s=3,
            pace_ms=100, retry_for_s=45, max_wall_s=60, setup_threads=4, seed=7)


def pushes(fleet: Fleet) -> int:
    return sum(phone.stats["pushes"] for phone in fleet.phones)


def wait_for(condition, timeout: float = 30) -> None:
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

        wait_for(lambda: pushes(fleet) >= 10)
        first = server.kill_worker()
        wait_for(lambda: pushes(fleet) >= 25)
        second = server.kill_worker()
        wait_for(lambda: pushes(fleet) >= 40)
        server.restart()
        runner.join(timeout=90)

        assert not runner.is_alive(), "phones did not finish their day"
        assert {first, second}.isdisjoint(server.worker_pids())
        report = check(url, fleet)
        print(report_text(PLAN, figures, report, f"{url.split(':')[0]}, killed {first} and "
                          f"{second}, restarted"))
        assert report["ok"], report
        assert report["tables"]["location_pings"]["expected"] > 500
        assert report["quarantine"]["expected"] >= 0 and not report["quarantine"]["missing"]
        assert figures["errors"] == 0, figures
        # The faults were felt: requests went unanswered and were resent.
        assert figures["counts"].get("transport_retries", 0) > 0, figures
    finally:
        server.stop()
