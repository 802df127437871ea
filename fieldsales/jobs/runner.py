"""Running a job: one instance at a time across processes and servers, every run recorded.

`run_job(name)` takes the job's lock, records a `JobRun`, runs the job and commits its work
together with the run's outcome (the job's one commit). A run that finds the lock held does
not run: it is recorded with status `skipped`. The lock alone only keeps runs from
overlapping: schedulers started at different moments would each get a free lock in turn, so
a scheduled run also skips when any process ran the job within most of its interval
(`unless_ran_within_ms`). Several gunicorn workers or servers, each with a scheduler, so run
each job once per interval between them.

After a failure a scheduled run also backs off (`back_off_ms`): it skips until the latest
failure is that long old, doubled for each further failure in a row since the last `ok`,
up to `SCORING_RETRY_BACKOFF_MAX_MINUTES`. The count and the time come from `job_runs`, so
every scheduler process and server shares one back-off. A manual run always runs.

A failure is recorded with a short message in `error` (the exception's class and a fixed
sentence: no SQL, no data), which managers and procurement read, and the full error text in
`error_detail`, for admins; the traceback goes to the log.

Locks:
- PostgreSQL: a session-level advisory lock (`pg_try_advisory_lock`) held on a dedicated
  connection for the length of the run. The key is derived from the schema and the job name,
  so apps on other schemas of the same server do not block each other. If the process dies
  the connection closes and PostgreSQL releases the lock.
- SQLite (and any other database): a row in `job_locks`, taken with an atomic UPDATE (when
  the old holder's lease has expired) or INSERT (when there is no row). While the job runs, a
  heartbeat thread with its own connection renews the lease every
  `SCORING_JOB_LOCK_HEARTBEAT_SECONDS`, so the lease expires only
  `SCORING_JOB_LOCK_TTL_SECONDS` after its holder died, however long the job takes. (While
  the job's own write transaction is open, SQLite lets no other writer in: the beat waits
  its turn, and so would anyone taking the lease over.) A live lock is seen with a plain read
  first, so a second instance skips at once instead of queueing behind the running job's
  write transaction.
"""
import hashlib
import logging
import os
import socket
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

from flask import current_app
from sqlalchemy import Connection, Engine, Table, delete, func, select, text, update
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from fieldsales.common import DAY_MS, MINUTE_MS, now_ms
from fieldsales.database import rowcount
from fieldsales.extensions import db
from fieldsales.jobs.models import JobLock, JobRun
from fieldsales.jobs.registry import JOBS

log = logging.getLogger(__name__)
FORGET_BATCH = 1000  # job runs forgotten per run at most (retention)

def job_names() -> list[str]:
    return list(JOBS)


@dataclass(frozen=True)
class RunResult:
    """What a run came to (a plain copy of its JobRun row, safe to read after commit)."""

    id: int | None
    job: str
    status: str
    started_at: int
    finished_at: int | None
    rows_written: int
    error: str | None
    trigger: str
    error_detail: str | None = None
    summary: dict | None = None


FAILED_MESSAGE = ("{kind}: the job failed and its writes were rolled back. The detail is in "
                  "the server log, and shown to admins.")
INTERRUPTED_MESSAGE = "Interrupted: its process ended before it finished."


def run_job(name: str, *, trigger: str = "manual", now: int | None = None,
            unless_ran_within_ms: int | None = None,
            back_off_ms: int | None = None) -> RunResult:
    """Run one job under its lock and record it: status ok, failed or skipped.

    With `unless_ran_within_ms`, skip when a run of the job started that recently and ended
    ok (another scheduler's turn, or a manual run: the scores are fresh either way). With
    `back_off_ms`, skip while the job is backing off after failures (`retry_wait_ms`).

    Call it with no transaction of your own open: the job's work and its outcome are
    committed together here, and on SQLite an open write transaction would block the lock.
    """
    job = JOBS.get(name)
    if job is None:
        raise ValueError(f"Unknown job '{name}'. Known: {', '.join(JOBS)}.")
    if db.session.new or db.session.dirty or db.session.deleted:
        raise RuntimeError("run_job needs a clean session: commit or roll back first.")
    db.session.rollback()  # end any read transaction (SQLite would hold its write lock)
    lock = _lock_for(name)
    if not lock.acquire():
        return _record_skipped(name, trigger, "Another instance of this job was running; "
                               "this one did not run.")
    try:
        started = now_ms()
        if unless_ran_within_ms and db.session.scalar(
                select(JobRun.id).where(JobRun.job == name, JobRun.status == "ok",
                                        JobRun.started_at >= started - unless_ran_within_ms)
                .limit(1)) is not None:
            db.session.rollback()
            return _record_skipped(name, trigger, "This job ran within its interval already "
                                   "(another scheduler's turn); this one did not run.")
        if back_off_ms:
            failures, last_failed_at = _failures_in_a_row(name)
            wait = retry_wait_ms(failures=failures, first_ms=back_off_ms)
            if failures and started < last_failed_at + wait:
                db.session.rollback()
                return _record_skipped(
                    name, trigger, f"Backing off: the job failed {failures} time(s) in a row; "
                    f"the next attempt waits {wait / MINUTE_MS:.0f} min after the last one "
                    "(`flask jobs run` runs it now); this one did not run.")
        # We hold the lock, so a run of this job still marked running died with its process.
        db.session.execute(update(JobRun).where(JobRun.job == name, JobRun.status == "running")
                           .values(status="failed", finished_at=started,
                                   error=INTERRUPTED_MESSAGE))
        run = JobRun(job=name, started_at=started, status="running", rows_written=0,
                     trigger=trigger, host=_host(), pid=os.getpid())
        db.session.add(run)
        db.session.flush()
        run_id = run.id
        forget_old_runs(now=started, days=current_app.config["RETENTION_JOB_RUN_DAYS"])
        db.session.commit()
        lock.keep_alive()
        try:
            if db.engine.dialect.name == "postgresql":
                # JIT-compiling these large one-off queries costs seconds and saves less.
                db.session.execute(text("SET LOCAL jit = off"))
            rows, summary = _outcome(job(now=now if now is not None else now_ms()))
            finished = now_ms()
            run.status, run.rows_written, run.finished_at = "ok", rows, finished
            run.summary = summary
            db.session.commit()  # the job's work and its outcome, in one commit
            return RunResult(run_id, name, "ok", started, finished, rows, None, trigger,
                             summary=summary)
        except Exception as error:  # recorded, never swallowed silently
            db.session.rollback()
            log.exception("Job %s failed (run %s)", name, run_id)
            message = FAILED_MESSAGE.format(kind=type(error).__name__)
            detail, finished = f"{type(error).__name__}: {error}"[:20_000], now_ms()
            db.session.execute(update(JobRun).where(JobRun.id == run_id).values(
                status="failed", finished_at=finished, error=message, error_detail=detail))
            db.session.commit()
            return RunResult(run_id, name, "failed", started, finished, 0, message, trigger,
                             detail)
    finally:
        lock.release()


def forget_old_runs(*, now: int, days: int, limit: int = FORGET_BATCH) -> int:
    """Retention of the job history (docs/privacy.md): delete up to `limit` finished runs
    started more than `days` days ago, oldest first (0 keeps them all). Every run calls it, so
    the history never outgrows what one call clears."""
    if not days:
        return 0
    old = (select(JobRun.id).where(JobRun.started_at < now - days * DAY_MS,
                                   JobRun.status != "running")
           .order_by(JobRun.started_at, JobRun.id).limit(limit))
    return rowcount(db.session.execute(delete(JobRun).where(JobRun.id.in_(old.scalar_subquery()))
                                       .execution_options(synchronize_session=False)))


def _outcome(result) -> tuple[int, dict | None]:
    """A job returns the rows it wrote, or a summary (a dict) holding them as
    `rows_written` beside what else it reports (kept in the run's `summary`)."""
    if isinstance(result, Mapping):
        return int(result.get("rows_written") or 0), dict(result)
    return int(result or 0), None


def retry_wait_ms(*, failures: int, first_ms: int) -> int:
    """How long after its latest failure a job that failed `failures` times in a row waits
    before the next scheduled attempt: `first_ms`, doubled per further failure, capped at
    `SCORING_RETRY_BACKOFF_MAX_MINUTES` (never below `first_ms`). 0 when nothing failed."""
    if failures <= 0:
        return 0
    cap = max(first_ms, current_app.config["SCORING_RETRY_BACKOFF_MAX_MINUTES"] * MINUTE_MS)
    return min(first_ms * 2 ** min(failures - 1, 32), cap)


def _failures_in_a_row(name: str) -> tuple[int, int]:
    """The job's failed runs since its latest ok one, and when the latest of them started."""
    last_ok = (select(func.coalesce(func.max(JobRun.id), 0))
               .where(JobRun.job == name, JobRun.status == "ok").scalar_subquery())
    count, latest = db.session.execute(
        select(func.count(), func.max(JobRun.started_at))
        .where(JobRun.job == name, JobRun.status == "failed", JobRun.id > last_ok)).one()
    return int(count), int(latest or 0)


def _record_skipped(name: str, trigger: str, message: str) -> RunResult:
    at = now_ms()
    run = JobRun(job=name, started_at=at, finished_at=at, status="skipped", rows_written=0,
                 trigger=trigger, host=_host(), pid=os.getpid(), error=message)
    run_id = None
    try:
        db.session.add(run)
        db.session.flush()
        run_id = run.id
        db.session.commit()
    except SQLAlchemyError:  # e.g. SQLite still locked by the running job: log, do not fail
        db.session.rollback()
        log.warning("Job %s skipped (lock held); the skip could not be recorded", name)
    return RunResult(run_id, name, "skipped", at, at, 0, message, trigger)


def _host() -> str:
    return socket.gethostname()[:255]


def _lock_for(name: str):
    if db.engine.dialect.name == "postgresql":
        return _AdvisoryLock(name)
    config = current_app.config
    ttl_s = config["SCORING_JOB_LOCK_TTL_SECONDS"]
    # At least three beats per lease, so one beat kept waiting loses nothing.
    beat_s = min(float(config["SCORING_JOB_LOCK_HEARTBEAT_SECONDS"]), ttl_s / 3)
    return _RowLock(name, ttl_ms=ttl_s * 1000, heartbeat_s=beat_s)


class _AdvisoryLock:
    """PostgreSQL session-level advisory lock on a connection of its own."""

    def __init__(self, name: str):
        self.name = name
        self.connection: Connection | None = None

    def acquire(self) -> bool:
        connection = db.engine.connect()
        try:
            schema = connection.execute(text("SELECT current_schema()")).scalar() or ""
            digest = hashlib.blake2b(f"fieldsales-job:{schema}:{self.name}".encode(),
                                     digest_size=8).digest()
            self.key = int.from_bytes(digest, "big", signed=True)
            got = connection.execute(text("SELECT pg_try_advisory_lock(:key)"),
                                     {"key": self.key}).scalar()
            connection.commit()
        except Exception:
            connection.invalidate()
            connection.close()
            raise
        if not got:
            connection.close()
            return False
        self.connection = connection
        return True

    def keep_alive(self) -> None:
        """Nothing to renew: the lock lasts as long as its connection."""

    def release(self) -> None:
        if self.connection is None:
            return
        try:
            self.connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            self.connection.commit()
        except Exception:  # a broken connection: drop it, which releases the lock
            log.exception("Could not release the advisory lock of job %s", self.name)
            self.connection.invalidate()
        finally:
            self.connection.close()
            self.connection = None


class _RowLock:
    """A lease row in `job_locks`, taken atomically, renewed by a heartbeat while its job
    runs (`keep_alive`); it expires only when its holder stopped beating (died)."""

    def __init__(self, name: str, *, ttl_ms: int, heartbeat_s: float):
        self.name, self.ttl_ms, self.heartbeat_s = name, ttl_ms, heartbeat_s
        self.holder = f"{_host()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:255]
        self.held = False
        self.engine: Engine = db.engine  # the heartbeat thread has no app context
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    def acquire(self, *, now: int | None = None) -> bool:
        engine = self.engine
        now = now_ms() if now is None else now
        # A plain read first (SQLite WAL readers never wait on the running job's writes).
        with engine.connect().execution_options(sqlite_deferred=True) as connection:
            expires = connection.execute(
                select(JobLock.expires_at).where(JobLock.name == self.name)).scalar()
            connection.rollback()
        if expires is not None and expires >= now:
            return False
        with engine.begin() as connection:
            taken = connection.execute(
                update(JobLock).where(JobLock.name == self.name, JobLock.expires_at < now)
                .values(holder=self.holder, expires_at=now + self.ttl_ms)).rowcount
            if not taken:
                taken = connection.execute(
                    _insert_ignore(engine.dialect.name),
                    {"name": self.name, "holder": self.holder, "expires_at": now + self.ttl_ms},
                ).rowcount
        self.held = bool(taken)
        return self.held

    def renew(self, *, now: int | None = None) -> bool:
        """Push the lease's end a TTL past now; False if it is no longer ours."""
        now = now_ms() if now is None else now
        with self.engine.begin() as connection:
            renewed = connection.execute(
                update(JobLock).where(JobLock.name == self.name, JobLock.holder == self.holder)
                .values(expires_at=now + self.ttl_ms)).rowcount
        return bool(renewed)

    def keep_alive(self) -> None:
        """Renew the lease every heartbeat, from a thread of its own, until `release`."""
        if not self.held or self._beat is not None:
            return
        self._beat = threading.Thread(target=self._heartbeat, name=f"job-lease:{self.name}",
                                      daemon=True)
        self._beat.start()

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.heartbeat_s):
            try:
                if not self.renew():
                    log.warning("Job %s lost its lease (expired and taken over)", self.name)
                    return
            except OperationalError:  # SQLite busy past its timeout: the job's own write
                # transaction holds the database (no one can take the lease meanwhile either)
                log.debug("Job %s: the database was busy; the next beat renews", self.name)
            except Exception:  # the next beat tries again
                log.warning("Job %s: its lease could not be renewed this beat", self.name,
                            exc_info=True)

    def release(self) -> None:
        self._stop.set()
        if self._beat is not None:
            self._beat.join()
            self._beat = None
        if not self.held:
            return
        with self.engine.begin() as connection:
            connection.execute(delete(JobLock).where(JobLock.name == self.name,
                                                     JobLock.holder == self.holder))
        self.held = False


def _insert_ignore(dialect: str):
    table = cast(Table, JobLock.__table__)  # a declarative model's table is a Table
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert
        return sqlite_insert(table).on_conflict_do_nothing(index_elements=["name"])
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert
        return postgresql_insert(table).on_conflict_do_nothing(index_elements=["name"])
    # Other databases are not supported by the project.
    raise RuntimeError(f"No job lock for the database '{dialect}'.")  # pragma: no cover
