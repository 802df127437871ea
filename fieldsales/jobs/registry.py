"""Every scheduled job, wired here by name: what it runs and which setting holds its interval.

A job is `run(now=ms) -> rows written`; it writes through db.session and never commits (the
runner commits its work with the run's outcome; retention alone commits each batch). A new job
is one line in each mapping.
"""
from collections.abc import Callable

from fieldsales.locations import partitions
from fieldsales.privacy import retention
from fieldsales.scoring import backlog, demand, productivity

JOBS: dict[str, Callable[..., int]] = {
    "productivity": productivity.run,
    "demand": demand.run,
    "backlog": backlog.run,
    # Deletes what is past its window, committing batch by batch (privacy/retention.py).
    "retention": retention.run,
    # Monthly partitions of location_pings ahead of time (PostgreSQL; nothing on SQLite).
    "ping_partitions": partitions.run,
}

# name -> the config setting with its interval in minutes (0 = not scheduled).
INTERVAL_SETTINGS = {
    "productivity": "SCORING_INTERVAL_MINUTES_PRODUCTIVITY",
    "demand": "SCORING_INTERVAL_MINUTES_DEMAND",
    "backlog": "SCORING_INTERVAL_MINUTES_BACKLOG",
    "retention": "RETENTION_INTERVAL_MINUTES",
    "ping_partitions": "PING_PARTITIONS_INTERVAL_MINUTES",
}
