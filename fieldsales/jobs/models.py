"""Job runs and job locks: what ran, where, how it ended; one instance at a time."""
from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fieldsales.extensions import Model

JOB_STATUSES = ("running", "ok", "failed", "skipped")


class JobRun(Model):
    """One run of a scheduled job: when, where, how it ended and how many rows it wrote."""

    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_job_started", "job", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[int] = mapped_column(BigInteger)
    finished_at: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10), default="running", index=True)
    rows_written: Mapped[int] = mapped_column(Integer, default=0)
    # What anyone who may list runs reads: a failure's short message (no SQL, no data), or
    # why a run was skipped. The failure's full text is `error_detail`, for admins only.
    error: Mapped[str | None] = mapped_column(Text)
    error_detail: Mapped[str | None] = mapped_column(Text)
    # What a job reports beyond its row count (the plan job: planned, overflow, unplannable).
    summary: Mapped[dict | None] = mapped_column(JSON)
    trigger: Mapped[str] = mapped_column(String(12), default="manual")  # scheduler / manual
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)


class JobLock(Model):
    """SQLite's single-instance lock: one row per running job (PostgreSQL uses advisory locks).

    A row whose `expires_at` has passed belongs to a crashed holder and may be taken over.
    """

    __tablename__ = "job_locks"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[int] = mapped_column(BigInteger)
