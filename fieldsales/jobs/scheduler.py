"""APScheduler wiring: each scoring job on its own interval.

Production and `dev.py run` run one `flask jobs scheduler` process (`run_in_foreground`)
beside gunicorn; API servers never schedule. `FIELDSALES_SCHEDULER=in-process` makes a
single-process server also run the jobs (`start_in_background`): one scheduler per process
that creates the app, so never under several workers. Should two schedulers run anyway, the
job lock in `runner` makes exactly one of them run each job per interval; the others record a
skip. After a failure they back off together (`runner.retry_wait_ms`): the state is the
job's runs.
"""
import atexit
import logging
import random
import signal
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from fieldsales.common import MINUTE_MS
from fieldsales.extensions import db
from fieldsales.jobs.registry import INTERVAL_SETTINGS

log = logging.getLogger(__name__)

# Values of FIELDSALES_SCHEDULER: where the scheduler runs besides `flask jobs scheduler`.
MODES = ("off", "in-process")


def start_in_background(app: Flask) -> BackgroundScheduler | None:
    """Start a scheduler thread in this process when `FIELDSALES_SCHEDULER` is "in-process"."""
    mode = app.config["FIELDSALES_SCHEDULER"]
    if mode not in MODES:
        raise ValueError(f"FIELDSALES_SCHEDULER must be one of {', '.join(MODES)}, not {mode!r}; "
                         "production runs one `flask --app wsgi jobs scheduler` process.")
    if mode != "in-process":
        return None
    scheduler = _scheduled(BackgroundScheduler, app)
    scheduler.start()
    app.extensions["fieldsales_scheduler"] = scheduler
    atexit.register(_shutdown, scheduler)
    log.info("Scoring scheduler started in this process: %s", job_intervals(app))
    return scheduler


def run_in_foreground(app: Flask) -> None:
    """Run the jobs on their schedule until Ctrl-C or SIGTERM; a job under way finishes first."""
    scheduler = _scheduled(BlockingScheduler, app)
    # Stop on Ctrl-C and on SIGTERM, also when started with SIGINT ignored (a shell runs a
    # background job `&` so, and Python then leaves it ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    log.info("Scoring scheduler running: %s", job_intervals(app))
    try:
        scheduler.start()
    except KeyboardInterrupt:
        pass
    finally:
        _shutdown(scheduler, wait=True)


def job_intervals(app: Flask) -> dict[str, int]:
    return {name: app.config[setting] for name, setting in INTERVAL_SETTINGS.items()}


def _scheduled(kind: type[BaseScheduler], app: Flask) -> BaseScheduler:
    # First runs shortly after start (jittered), not a whole interval later: a server that
    # restarts more often than every 6 hours would otherwise never forecast demand.
    delay = app.config["SCORING_FIRST_RUN_DELAY_SECONDS"]
    first = datetime.now(UTC) + timedelta(seconds=delay + random.uniform(0, delay))
    return build_scheduler(app, job_intervals(app), next_run_time=first, kind=kind)


def build_scheduler(app: Flask, intervals: Mapping[str, float], *,
                    kind: type[BaseScheduler] = BackgroundScheduler,
                    **trigger_args) -> BaseScheduler:
    """A scheduler (not started) running each named job every `intervals[name]` minutes."""
    scheduler = kind(
        timezone="UTC",
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 600},
    )
    for name, minutes in intervals.items():
        if minutes and minutes > 0:
            scheduler.add_job(run_scheduled, "interval", minutes=minutes,
                              args=(app, name, minutes),
                              id=name, name=f"scoring:{name}", **trigger_args)
    return scheduler


# A scheduled run skips when the job ran this share of its interval ago or less: one run per
# interval across all schedulers, with room for a run that started a little late.
FRESH_SHARE_OF_INTERVAL = 0.8


def run_scheduled(app: Flask, name: str, minutes: float) -> None:
    """One scheduled run, in its own app context; failures are recorded by the runner."""
    from fieldsales.jobs.runner import run_job

    with app.app_context():
        try:
            # After a failure the first retry waits as long as a fresh run does, then longer.
            share = int(minutes * MINUTE_MS * FRESH_SHARE_OF_INTERVAL)
            run_job(name, trigger="scheduler", unless_ran_within_ms=share, back_off_ms=share)
        except Exception:  # the runner records job failures; this is the lock or the DB itself
            log.exception("Scheduled job %s could not run", name)
        finally:
            db.session.remove()


def _shutdown(scheduler: BaseScheduler, wait: bool = False) -> None:
    if scheduler.running:
        scheduler.shutdown(wait=wait)
