"""APScheduler wiring: each scoring job on its own interval, in a background thread.

Every process that serves the app (each gunicorn worker, each server) may start a scheduler;
the job lock in `runner` makes exactly one of them run each job per interval, the others
record a skip.
Not started when `FIELDSALES_SCHEDULER` is "off" (tests), or under flask CLI commands other
than `flask run` (`flask db upgrade`, `flask jobs run ...` and the like).
"""
import atexit
import logging
import os
import random
import sys
from datetime import datetime, timedelta, timezone

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

from fieldsales.common import MINUTE_MS
from fieldsales.extensions import db

log = logging.getLogger(__name__)

INTERVAL_SETTINGS = {
    "productivity": "SCORING_INTERVAL_MINUTES_PRODUCTIVITY",
    "demand": "SCORING_INTERVAL_MINUTES_DEMAND",
    "backlog": "SCORING_INTERVAL_MINUTES_BACKLOG",
}
DEFAULT_INTERVALS = {"productivity": 60, "demand": 360, "backlog": 15}
DEFAULT_FIRST_RUN_DELAY_S = 60
_OFF = {"off", "0", "false", "no"}
# flask CLI options that take a value, skipped when finding the command's name.
_CLI_OPTIONS_WITH_VALUE = {"--app", "-A", "--env-file", "-e"}


def init_scheduler(app: Flask) -> BackgroundScheduler | None:
    """Start the scheduler for this process, unless switched off or under a CLI command."""
    if str(app.config.get("FIELDSALES_SCHEDULER", "on")).strip().lower() in _OFF:
        return None
    command = _flask_cli_command()
    if command is not None and command != "run":
        return None
    intervals = {name: int(app.config.get(setting, DEFAULT_INTERVALS[name]))
                 for name, setting in INTERVAL_SETTINGS.items()}
    # First runs shortly after start (jittered), not a whole interval later: a server that
    # restarts more often than every 6 hours would otherwise never forecast demand.
    delay = float(app.config.get("SCORING_FIRST_RUN_DELAY_SECONDS", DEFAULT_FIRST_RUN_DELAY_S))
    first = datetime.now(timezone.utc) + timedelta(seconds=delay + random.uniform(0, delay))
    scheduler = build_scheduler(app, intervals, next_run_time=first)
    scheduler.start()
    app.extensions["fieldsales_scheduler"] = scheduler
    atexit.register(_shutdown, scheduler)
    log.info("Scoring scheduler started: %s", intervals)
    return scheduler


def build_scheduler(app: Flask, intervals: dict[str, float], **trigger_args) -> BackgroundScheduler:
    """A scheduler (not started) running each named job every `intervals[name]` minutes."""
    scheduler = BackgroundScheduler(
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
    from fieldsales.scoring.runner import run_job

    with app.app_context():
        try:
            run_job(name, trigger="scheduler",
                    unless_ran_within_ms=int(minutes * MINUTE_MS * FRESH_SHARE_OF_INTERVAL))
        except Exception:  # the runner records job failures; this is the lock or the DB itself
            log.exception("Scheduled job %s could not run", name)
        finally:
            db.session.remove()


def _shutdown(scheduler: BackgroundScheduler) -> None:
    if scheduler.running:
        scheduler.shutdown(wait=False)


def _flask_cli_command() -> str | None:
    """The flask CLI command being run (e.g. 'run', 'db'), or None outside the flask CLI."""
    if os.environ.get("FLASK_RUN_FROM_CLI") != "true":
        return None
    args = iter(sys.argv[1:])
    for arg in args:
        if arg in _CLI_OPTIONS_WITH_VALUE:
            next(args, None)
        elif not arg.startswith("-"):
            return arg
    return ""
