"""Retention: the `retention` job deletes what is past its window (docs/privacy.md, "How long
it is kept"; windows RETENTION_* in config, 0 keeps a kind forever). On PostgreSQL, pings
go month by month: whole partitions past the window are dropped first.

Deletes are set-based, RETENTION_BATCH rows at a time, and each batch is committed on its own:
a purge of months of pings must never hold a long lock over the tables phones write to. This
is the one job that commits inside its run (what it deleted stays deleted if a later batch
fails; a rerun picks up where it stopped). Job runs past RETENTION_JOB_RUN_DAYS are forgotten
by the job runner itself as it records each run (jobs/runner.py).
"""
from collections.abc import Callable, Mapping

from flask import current_app
from sqlalchemy import ColumnElement, delete, or_, select, tuple_

from fieldsales.auth.models import LoginFailure
from fieldsales.changes.models import AccessChange
from fieldsales.common import DAY_MS
from fieldsales.database import rowcount
from fieldsales.extensions import db
from fieldsales.locations import partitions
from fieldsales.locations.models import LocationPing, PositionView
from fieldsales.sync import quarantine
from fieldsales.sync.models import SyncLog
from fieldsales.users.models import AuthToken

# kind -> (its model, the setting with its window in days, its rows' age column)
WINDOWS = {
    "location_pings": (LocationPing, "RETENTION_PING_DAYS", LocationPing.recorded_at),
    "sync_log": (SyncLog, "RETENTION_SYNC_LOG_DAYS", SyncLog.started_at),
    "login_failures": (LoginFailure, "RETENTION_LOGIN_FAILURE_DAYS", LoginFailure.failed_at),
    "access_changes": (AccessChange, "RETENTION_ACCESS_CHANGE_DAYS", AccessChange.stamp),
    "position_views": (PositionView, "RETENTION_POSITION_VIEW_DAYS", PositionView.viewed_at),
}


def run(*, now: int) -> int:
    """The job: every kind purged; returns the rows deleted (by the batches: the rows of a
    dropped month are not counted, the log names the month)."""
    return sum(purge(now=now, config=current_app.config).values())


def purge(*, now: int, config: Mapping) -> dict[str, int]:
    """Delete every kind's rows past its window, batch by batch; the count per kind."""
    batch = config["RETENTION_BATCH"]
    deleted = {}
    in_months = 0
    if config["RETENTION_PING_DAYS"]:
        # PostgreSQL: whole months go as partitions first (locations/partitions.py), before
        # this session touches the pings; what is left before the cutoff goes in batches.
        in_months = sum(partitions.drop_ping_months_before(
            cutoff_ms=now - config["RETENTION_PING_DAYS"] * DAY_MS,
            lock_timeout_ms=config["PING_PARTITIONS_LOCK_TIMEOUT_MS"]).values())
    for kind, (model, setting, age) in WINDOWS.items():
        days = config[setting]
        deleted[kind] = 0 if not days else _in_batches(model.__table__,
                                                      age < now - days * DAY_MS, batch=batch)
    deleted["location_pings"] += in_months
    deleted["auth_tokens"] = _in_batches(
        AuthToken.__table__, or_(AuthToken.expires_at <= now, AuthToken.revoked_at.is_not(None)),
        batch=batch)
    deleted["resolved_quarantine"] = _repeat(lambda: quarantine.expire_resolved(
        now=now, days=config["SYNC_QUARANTINE_RESOLVED_DAYS"], limit=batch), batch=batch)
    return deleted


def _in_batches(table, condition: ColumnElement[bool], *, batch: int) -> int:
    """Rows by their whole key (pings: id and time), the condition repeated so PostgreSQL
    reads only the months it names."""
    key = list(table.primary_key.columns)
    doomed = select(*key).where(condition).limit(batch)
    matched = (key[0].in_(doomed.scalar_subquery()) if len(key) == 1
               else tuple_(*key).in_(doomed))
    return _repeat(lambda: rowcount(db.session.execute(
        delete(table).where(condition, matched).execution_options(synchronize_session=False))),
        batch=batch)


def _repeat(delete_batch: Callable[[], int], *, batch: int) -> int:
    """Run a bounded delete, committing each, until one deletes less than a full batch."""
    total = 0
    while True:
        count = delete_batch()
        db.session.commit()  # each batch its own short transaction (see the module's note)
        total += count
        if count < batch:
            return total
