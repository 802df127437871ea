"""Engine set-up per database kind, unique columns kept unique under concurrency, and the
set-based upsert (`upsert`: INSERT ... ON CONFLICT DO UPDATE, on PostgreSQL and SQLite alike).

SQLite: WAL, foreign keys, a busy timeout, and write transactions that take the write lock
when they begin (`BEGIN IMMEDIATE`), so two writers queue instead of failing half-way with
SQLITE_BUSY. Read-only requests begin deferred (see `create_app`).
"""
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult, Engine, Result
from sqlalchemy.exc import IntegrityError

from fieldsales.errors import ApiError
from fieldsales.extensions import db


def rowcount(result: Result[Any]) -> int:
    """The rows an INSERT, UPDATE or DELETE matched. SQLAlchemy 2.0 types what
    `Session.execute` returns as a `Result`; for those statements it is a `CursorResult`."""
    return cast(CursorResult[Any], result).rowcount


def upsert(table: Table, rows: list[dict], *, key: str, update: tuple[str, ...]) -> None:
    """Insert `rows` (each with every column named), or where `key` already holds the value,
    set the `update` columns to the row's: one statement for the whole list. A key must not
    repeat within `rows` (PostgreSQL refuses to touch a row twice in one statement)."""
    if not rows:
        return
    dialect = db.session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    db.session.execute(insert.on_conflict_do_update(
        index_elements=[key], set_={name: insert.excluded[name] for name in update}), rows)


@dataclass(frozen=True)
class UniqueKey:
    """One unique column and the 409 a clash on it answers: the same code, message and field
    whether a service's check found the other row or the unique index refused this one."""

    column: Any  # the model attribute, e.g. Product.sku
    code: str
    message: str  # may name the clashing `{value}`
    problem: str = "Already in use."

    def error(self, value=None) -> ApiError:
        return ApiError(409, self.code, self.message.format(value=value),
                        {self.column.key: [self.problem]})

    def named_in(self, error: IntegrityError) -> bool:
        """Whether the database's refusal names this column (SQLite: `table.column`,
        PostgreSQL: `Key (column)=`)."""
        text = str(error.orig)
        return (f"{self.column.class_.__tablename__}.{self.column.key}" in text
                or f"({self.column.key})=" in text)


def id_key(model, *, what: str) -> UniqueKey:
    """The key of a table whose clients may choose the ids of new rows."""
    return UniqueKey(model.id, code="duplicate_id",
                     message=f"A {what} with this id already exists.")


@contextmanager
def kept_unique(*keys: tuple[UniqueKey, Any]):
    """Flush the changes made inside in a savepoint, each `(key, value)` a unique column they
    may clash on. A service's check cannot see another request's row with the same id, email
    or sku until it commits, so the unique index has the last word: its refusal is the
    client's 409 (that of the key it names), and the rest of the transaction stays usable."""
    try:
        with db.session.begin_nested():
            yield
    except IntegrityError as error:
        key, value = next((pair for pair in keys if pair[0].named_in(error)), keys[0])
        raise key.error(value) from None


def add_new(row, *keys: UniqueKey) -> None:
    """Add and flush a new row; a clash on one of its unique keys is that key's 409."""
    with kept_unique(*((key, getattr(row, key.column.key)) for key in keys)):
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
