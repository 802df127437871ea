"""Engine set-up per database kind, and unique columns kept unique under concurrency.

SQLite: WAL, foreign keys, a busy timeout, and write transactions that take the write lock
when they begin (`BEGIN IMMEDIATE`), so two writers queue instead of failing half-way with
SQLITE_BUSY. Read-only requests begin deferred (see `create_app`).
"""
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from fieldsales.errors import ApiError
from fieldsales.extensions import db


@contextmanager
def kept_unique(*, code: str, message: str, details: dict | None = None):
    """Flush the changes made inside in a savepoint. A service's check cannot see another
    request's row with the same id, email or sku until it commits, so the unique index has
    the last word: its refusal is the client's 409, and the rest of the transaction stays
    usable."""
    try:
        with db.session.begin_nested():
            yield
    except IntegrityError:
        raise ApiError(409, code, message, details) from None


def flush_new(row, *, what: str) -> None:
    """Add and flush a new row; a clashing id (or unique column) is a 409, not a 500."""
    with kept_unique(code="duplicate", message=f"That {what} already exists."):
        db.session.add(row)


def configure_engine(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        deferred = connection.get_execution_options().get("sqlite_deferred", False)
        connection.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")
