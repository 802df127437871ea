"""Every scheduled job, wired here by name: what it runs and which setting holds its interval.

A job is `run(now=ms) -> rows written`, or a summary dict holding `rows_written` and what
else the run reports (kept in the run's `summary`). It writes through db.session and never
commits (the runner commits its work with the run's outcome; retention alone commits each
batch). A new job is one line in each mapping.
"""
from collections.abc import Callable

from fieldsales.alerts import service as alerts_service
from fieldsales.jobs import watch
from fieldsales.locations import partitions
from fieldsales.plans import service as plans_service
from fieldsales.privacy import retention
from fieldsales.scoring import backlog, demand, productivity
from fieldsales.webhooks import service as webhooks_service

JOBS: dict[str, Callable[..., int | dict]] = {
    "productivity": productivity.run,
    "demand": demand.run,
    "backlog": backlog.run,
    # Deletes what is past its window, committing batch by batch (privacy/retention.py).
    "retention": retention.run,
    # Monthly partitions of location_pings ahead of time (PostgreSQL; nothing on SQLite).
    "ping_partitions": partitions.run,
    # Journey plans of the coming working days, and the ended days' stops missed.
    "plans": plans_service.run,
    # Events no single change causes: order.late, rep.silent (jobs/watch.py).
    "events": watch.run,
    # New events into the teams' alerts, then their e-mails (commits the alerts first).
    "alerts": alerts_service.run,
    # New events into deliveries, then the due deliveries sent (commits each outcome).
    "webhooks": webhooks_service.run,
}

# name -> the config setting with its interval in minutes (0 = not scheduled).
INTERVAL_SETTINGS = {
    "productivity": "SCORING_INTERVAL_MINUTES_PRODUCTIVITY",
    "demand": "SCORING_INTERVAL_MINUTES_DEMAND",
    "backlog": "SCORING_INTERVAL_MINUTES_BACKLOG",
    "retention": "RETENTION_INTERVAL_MINUTES",
    "ping_partitions": "PING_PARTITIONS_INTERVAL_MINUTES",
    "plans": "PLAN_INTERVAL_MINUTES",
    "events": "EVENTS_INTERVAL_MINUTES",
    "alerts": "ALERTS_INTERVAL_MINUTES",
    "webhooks": "WEBHOOKS_INTERVAL_MINUTES",
}
