"""Running jobs: one instance at a time, every run recorded and listed, on demand or scheduled."""
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from config import ProductionConfig, TestingConfig
from fieldsales import create_app
from fieldsales.common import now_ms
from fieldsales.extensions import db
from fieldsales.jobs import cli, runner, scheduler
from fieldsales.jobs.models import JobLock, JobRun
from fieldsales.products.models import Product

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def slow_job(monkeypatch):
    """A job named 'slow' that takes a moment and counts its runs."""
    calls = []

    def slow(*, now):
        calls.append(now)
        time.sleep(0.5)
        return 3

    monkeypatch.setitem(runner.JOBS, "slow", slow)
    return calls


def runs(app, job=None):
    with app.app_context():
        query = select(JobRun).order_by(JobRun.id)
        if job:
            query = query.where(JobRun.job == job)
        found = db.session.scalars(query).all()
        db.session.expunge_all()
        return found


def test_two_threads_started_together_run_a_job_once(app, slow_job):
    barrier = threading.Barrier(2)

    def worker():
        with app.app_context():
            barrier.wait()
            runner.run_job("slow")
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert len(slow_job) == 1
    recorded = runs(app, "slow")
    assert sorted(r.status for r in recorded) == ["ok", "skipped"]
    ok = next(r for r in recorded if r.status == "ok")
    assert ok.rows_written == 3 and ok.finished_at >= ok.started_at and ok.pid > 0
    skipped = next(r for r in recorded if r.status == "skipped")
    assert "Another instance" in skipped.error


def test_two_schedulers_started_together_run_a_job_once(app, slow_job):
    soon = datetime.now(UTC)
    schedulers = [scheduler.build_scheduler(app, {"slow": 60}, next_run_time=soon)
                  for _ in range(2)]
    for s in schedulers:
        s.start()
    try:
        deadline = time.time() + 20
        while len(runs(app, "slow")) < 2 and time.time() < deadline:
            time.sleep(0.1)
    finally:
        for s in schedulers:
            s.shutdown(wait=True)

    recorded = runs(app, "slow")
    assert sorted(r.status for r in recorded) == ["ok", "skipped"]
    assert {r.trigger for r in recorded} == {"scheduler"}
    assert len(slow_job) == 1


def test_schedulers_started_at_different_moments_run_a_job_once_per_interval(app, slow_job):
    # Two workers' timers for an hourly job, firing one after the other: the lock is free
    # for the second, but the job ran within its interval, so it skips.
    scheduler.run_scheduled(app, "slow", 60)
    scheduler.run_scheduled(app, "slow", 60)
    assert [r.status for r in runs(app, "slow")] == ["ok", "skipped"]
    assert "within its interval" in runs(app, "slow")[1].error
    # A job whose interval has gone by runs again; a manual run always runs.
    scheduler.run_scheduled(app, "slow", 0.001)
    with app.app_context():
        assert runner.run_job("slow").status == "ok"
    assert [r.status for r in runs(app, "slow")] == ["ok", "skipped", "ok", "ok"]
    assert len(slow_job) == 3


def test_a_lock_held_elsewhere_makes_the_run_a_skip_until_released(app, slow_job):
    with app.app_context():
        held = runner._lock_for("slow")  # another process's lock on the same database
        assert held.acquire()
        try:
            assert runner.run_job("slow").status == "skipped"
        finally:
            held.release()
        assert runner.run_job("slow").status == "ok"
    assert len(slow_job) == 1


def test_a_crashed_holders_lock_row_expires(app, slow_job):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("PostgreSQL releases advisory locks when the holder's connection ends")
        db.session.add(JobLock(name="slow", holder="gone:1", expires_at=1))
        db.session.commit()
        assert runner.run_job("slow").status == "ok"
        assert db.session.scalar(select(JobLock)) is None  # released after the run


def test_a_failing_job_is_recorded_and_its_writes_rolled_back(app, world, monkeypatch):
    product = world.product(stock=5)

    def broken(*, now):
        db.session.get(Product, product.id).stock_on_hand = 0
        db.session.flush()
        raise RuntimeError("boom")

    monkeypatch.setitem(runner.JOBS, "broken", broken)
    with app.app_context():
        run = runner.run_job("broken")
        assert run.status == "failed" and run.error.startswith("RuntimeError: the job failed")
        assert run.error_detail == "RuntimeError: boom"
        assert db.session.get(Product, product.id).stock_on_hand == 5
        db.session.remove()


def test_a_failed_jobs_sql_is_shown_to_admins_only(app, client, team, monkeypatch, caplog):
    def broken(*, now):
        db.session.execute(text("SELECT no_such_column FROM customers WHERE name = 'Acme Ltd'"))
        return 0

    monkeypatch.setitem(runner.JOBS, "broken", broken)
    # Alembic's logging set-up (tests/test_migrations.py) disables the loggers it finds.
    monkeypatch.setattr(runner.log, "disabled", False)
    with app.app_context():
        run = runner.run_job("broken")
        db.session.remove()
    assert run.status == "failed" and "Acme Ltd" in run.error_detail
    assert "no_such_column" in caplog.text and "Traceback" in caplog.text  # the log has it all

    for role in ("manager", "procurement"):
        [shown] = client.get("/api/v1/jobs/runs", headers=team.headers[role]).json["items"]
        assert shown["error"] == run.error and shown["error_detail"] is None, role
        assert "SELECT" not in str(shown) and "Acme" not in str(shown), role
        assert shown["error"].split(":")[0] in ("OperationalError", "ProgrammingError")
    [admin] = client.get("/api/v1/jobs/runs", headers=team.headers["admin"]).json["items"]
    assert admin["error"] == run.error
    assert "SELECT no_such_column FROM customers" in admin["error_detail"]


def test_the_cli_shows_the_operator_a_failures_detail(app, monkeypatch):
    def broken(*, now):
        raise RuntimeError("disk full at /var/lib/x")

    monkeypatch.setitem(runner.JOBS, "broken", broken)
    monkeypatch.setattr(cli, "job_names", lambda: ["broken"])  # `all` is this one job
    result = app.test_cli_runner().invoke(args=["jobs", "run", "all"])
    assert result.exit_code != 0 and "disk full at /var/lib/x" in result.output


def test_job_runs_are_listed_newest_first_for_admins_managers_and_procurement(
        app, client, team, slow_job, monkeypatch):
    monkeypatch.setattr(time, "sleep", lambda _s: None)
    with app.app_context():
        for name in ("slow", "demand", "slow"):
            runner.run_job(name)
        db.session.remove()

    page = client.get("/api/v1/jobs/runs?limit=2", headers=team.headers["admin"])
    assert page.status_code == 200
    assert [r["job"] for r in page.json["items"]] == ["slow", "demand"]
    assert page.json["items"][0]["status"] == "ok" and page.json["items"][0]["rows_written"] == 3
    rest = client.get(f"/api/v1/jobs/runs?limit=2&cursor={page.json['next_cursor']}",
                      headers=team.headers["admin"])
    assert [r["job"] for r in rest.json["items"]] == ["slow"] and rest.json["next_cursor"] is None

    only_demand = client.get("/api/v1/jobs/runs?job=demand", headers=team.headers["manager"])
    assert [r["job"] for r in only_demand.json["items"]] == ["demand"]
    assert client.get("/api/v1/jobs/runs", headers=team.headers["procurement"]).status_code == 200
    refused = client.get("/api/v1/jobs/runs", headers=team.headers["rep"])
    assert refused.status_code == 403 and refused.json["error"]["code"] == "forbidden"
    assert client.get("/api/v1/jobs/runs").status_code == 401
    bad = client.get("/api/v1/jobs/runs?status=maybe", headers=team.headers["admin"])
    assert bad.status_code == 422 and "status" in bad.json["error"]["message"]
    for cursor in ("abc", "²", "9" * 30):  # a superscript digit is no digit of ours
        bad_cursor = client.get("/api/v1/jobs/runs", query_string={"cursor": cursor},
                                headers=team.headers["admin"])
        assert bad_cursor.status_code == 422, cursor


def test_cli_jobs_run_all_runs_every_job(app, world, team):
    world.product(stock=1)

    result = app.test_cli_runner().invoke(args=["jobs", "run", "all"])

    assert result.exit_code == 0, result.output
    assert [line.split(":")[0] for line in result.output.splitlines()] == [
        "productivity", "demand", "backlog", "retention", "ping_partitions", "plans", "events",
        "alerts", "webhooks"]
    recorded = runs(app)
    assert [(r.job, r.status, r.trigger) for r in recorded] == [
        ("productivity", "ok", "manual"), ("demand", "ok", "manual"), ("backlog", "ok", "manual"),
        ("retention", "ok", "manual"), ("ping_partitions", "ok", "manual"),
        ("plans", "ok", "manual"), ("events", "ok", "manual"), ("alerts", "ok", "manual"),
        ("webhooks", "ok", "manual")]
    unknown = app.test_cli_runner().invoke(args=["jobs", "run", "nonsense"])
    assert unknown.exit_code != 0 and "nonsense" in unknown.output


def test_the_app_starts_no_scheduler_unless_the_setting_says_in_process(app, make_database,
                                                                        monkeypatch):
    # What gunicorn workers and every flask command get: no scheduler thread.
    served = create_app(type("Served", (ProductionConfig,),
                             {"SQLALCHEMY_DATABASE_URI": make_database("served"),
                              "SECRET_KEY": "a-real-production-key"}))
    assert served.config["FIELDSALES_SCHEDULER"] == "off"
    assert "fieldsales_scheduler" not in served.extensions
    with served.app_context():
        db.engine.dispose()
    assert scheduler.start_in_background(app) is None  # the testing config: off as well
    monkeypatch.setitem(app.config, "FIELDSALES_SCHEDULER", "on")  # a setting of old
    with pytest.raises(ValueError, match="jobs scheduler"):
        scheduler.start_in_background(app)

    monkeypatch.setitem(app.config, "FIELDSALES_SCHEDULER", "in-process")  # a single-process server
    monkeypatch.setitem(app.config, "SCORING_INTERVAL_MINUTES_BACKLOG", 5)
    monkeypatch.setitem(app.config, "SCORING_INTERVAL_MINUTES_DEMAND", 0)  # left off
    monkeypatch.setitem(app.config, "RETENTION_INTERVAL_MINUTES", 0)
    started = scheduler.start_in_background(app)
    try:
        jobs = {job.id: job.trigger.interval.total_seconds() for job in started.get_jobs()}
        assert jobs == {"productivity": 3600, "backlog": 300, "ping_partitions": 86400,
                        "plans": 86400, "events": 300, "alerts": 60,
                        "webhooks": 60}
        first_runs = [job.next_run_time - datetime.now(UTC)
                      for job in started.get_jobs()]
        assert all(30 < delay.total_seconds() <= 120 for delay in first_runs)  # soon, jittered
    finally:
        started.shutdown(wait=False)
        app.extensions.pop("fieldsales_scheduler", None)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_flask_jobs_scheduler_runs_the_jobs_on_schedule_until_stopped(make_database, stop):
    url = make_database(f"scheduler_{stop.name.lower()}")
    app = create_app(type("Jobs", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": url}))
    with app.app_context():
        db.create_all()
    env = {**os.environ, "FIELDSALES_CONFIG": "testing", "DATABASE_URL": url,
           "SCORING_FIRST_RUN_DELAY_SECONDS": "1", "SCORING_INTERVAL_MINUTES_PRODUCTIVITY": "0",
           "SCORING_INTERVAL_MINUTES_DEMAND": "0", "SCORING_INTERVAL_MINUTES_BACKLOG": "1",
           "RETENTION_INTERVAL_MINUTES": "0", "PING_PARTITIONS_INTERVAL_MINUTES": "0",
           "PLAN_INTERVAL_MINUTES": "0", "EVENTS_INTERVAL_MINUTES": "0",
           "ALERTS_INTERVAL_MINUTES": "0", "WEBHOOKS_INTERVAL_MINUTES": "0"}
    process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "jobs",
                                "scheduler"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 60
        recorded = []  # until the first run is over (its row says "running" meanwhile)
        while (not recorded or recorded[-1].status == "running") and time.time() < deadline \
                and process.poll() is None:
            time.sleep(0.2)
            recorded = runs(app)
        process.send_signal(stop)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        with app.app_context():
            db.engine.dispose()

    assert [(r.job, r.status, r.trigger) for r in recorded] == [("backlog", "ok", "scheduler")]
    assert process.returncode == 0, output
    assert "Scoring scheduler running" in output and "Scoring scheduler stopped." in output


def test_a_run_left_running_by_a_dead_process_is_marked_failed_by_the_next(app, slow_job,
                                                                          monkeypatch):
    monkeypatch.setattr(time, "sleep", lambda _s: None)
    with app.app_context():
        db.session.add(JobRun(job="slow", started_at=now_ms() - 3_600_000, status="running",
                              rows_written=0, trigger="scheduler", host="gone", pid=1))
        db.session.commit()
        runner.run_job("slow")
        db.session.remove()

    dead, fresh = runs(app, "slow")
    assert (dead.status, dead.error) == ("failed",
                                         "Interrupted: its process ended before it finished.")
    assert fresh.status == "ok"


def test_after_failures_every_scheduler_backs_off_together_until_the_job_runs_ok(
        app, monkeypatch, time_machine):
    # Three scheduler processes, each with an hourly timer, and a job that keeps failing.
    time_machine.move_to(datetime(2026, 3, 4, 12, tzinfo=UTC))
    monkeypatch.setitem(app.config, "SCORING_RETRY_BACKOFF_MAX_MINUTES", 180)
    attempts, healthy = [], []

    def flaky(*, now):
        attempts.append(now)
        if not healthy:
            raise RuntimeError("the warehouse feed is down")
        return 1

    monkeypatch.setitem(runner.JOBS, "flaky", flaky)
    tried_by_hour = []
    for _hour in range(10):
        for _process in range(3):
            scheduler.run_scheduled(app, "flaky", 60)
        tried_by_hour.append(len(attempts))
        time_machine.shift(timedelta(hours=1))
    # Waits after the 1st, 2nd, 3rd, 4th failure: 48 min, 96 min, 180 min (192 capped), 180.
    assert tried_by_hour == [1, 2, 2, 3, 3, 3, 4, 4, 4, 5]
    skipped = [r for r in runs(app, "flaky") if r.status == "skipped"]
    assert len(skipped) == 3 * 10 - 5 and "Backing off" in skipped[-1].error

    with app.app_context():  # a manual run runs at once, backing off or not
        assert runner.run_job("flaky").status == "failed"
    assert len(attempts) == 6
    healthy.append(True)
    with app.app_context():
        assert runner.run_job("flaky").status == "ok"  # ends the back-off
    time_machine.shift(timedelta(hours=1))
    for _process in range(3):
        scheduler.run_scheduled(app, "flaky", 60)
    assert len(attempts) == 8  # hourly again, once across the processes


def test_the_back_off_doubles_from_the_first_wait_up_to_the_cap(app, monkeypatch):
    monkeypatch.setitem(app.config, "SCORING_RETRY_BACKOFF_MAX_MINUTES", 60)
    minute = 60_000
    with app.app_context():
        waits = [runner.retry_wait_ms(failures=n, first_ms=12 * minute) for n in range(6)]
        assert waits == [0, 12 * minute, 24 * minute, 48 * minute, 60 * minute, 60 * minute]
        # A job whose interval is past the cap still waits its interval.
        assert runner.retry_wait_ms(failures=5, first_ms=288 * minute) == 288 * minute


def lease_row_outlives_now(app, name):
    """Whether the job's lease row (SQLite) is good past the current instant (the clock may
    have been moved); PostgreSQL has no lease row, its lock lasts as long as the holder."""
    with app.app_context():
        expires = db.session.scalar(select(JobLock.expires_at).where(JobLock.name == name))
        db.session.rollback()
    return db_is_postgresql(app) or (expires is not None and expires > now_ms())


def db_is_postgresql(app):
    with app.app_context():
        return db.engine.dialect.name == "postgresql"


def test_a_long_job_is_not_started_twice_while_its_holder_is_alive(app, monkeypatch,
                                                                    time_machine):
    monkeypatch.setitem(app.config, "SCORING_JOB_LOCK_HEARTBEAT_SECONDS", 0.02)
    ttl = timedelta(seconds=app.config["SCORING_JOB_LOCK_TTL_SECONDS"])
    time_machine.move_to(datetime(2026, 3, 4, 12, tzinfo=UTC))
    inside, finish, calls = threading.Event(), threading.Event(), []

    def long(*, now):
        calls.append(now)
        inside.set()
        finish.wait(60)
        return 1

    monkeypatch.setitem(runner.JOBS, "long", long)

    def holder():
        with app.app_context():
            runner.run_job("long")
            db.session.remove()

    running = threading.Thread(target=holder)
    running.start()
    try:
        assert inside.wait(30)
        for _lease in range(3):  # three whole leases go by while the job runs
            time_machine.shift(ttl + timedelta(seconds=1))
            deadline = time.monotonic() + 30  # the heartbeat renews the lease meanwhile
            while not lease_row_outlives_now(app, "long") and time.monotonic() < deadline:
                time.sleep(0.01)
            with app.app_context():
                assert runner.run_job("long").status == "skipped"
                db.session.remove()
    finally:
        finish.set()
        running.join(30)
    assert len(calls) == 1
    assert [r.status for r in runs(app, "long")] == ["ok", "skipped", "skipped", "skipped"]


def test_a_lease_lasts_while_its_holder_beats_and_expires_once_it_stops(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("PostgreSQL's advisory lock has no lease: it ends with its connection")
        ttl = app.config["SCORING_JOB_LOCK_TTL_SECONDS"] * 1000
        start = 1_700_000_000_000
        holder, other = runner._lock_for("slow"), runner._lock_for("slow")
        assert holder.acquire(now=start)
        assert not other.acquire(now=start + ttl - 1)
        assert holder.renew(now=start + ttl - 1)  # a beat just before the lease ran out
        assert not other.acquire(now=start + ttl + 1)  # the first lease is over; the beat kept it
        # The holder dies: no more beats. Its lease expires a TTL after the last one.
        assert not other.acquire(now=start + 2 * ttl - 1)
        assert other.acquire(now=start + 2 * ttl)
        assert not holder.renew(now=start + 2 * ttl + 1)  # a late beat learns it lost the lease
        other.release()
        assert db.session.scalar(select(JobLock)) is None
