"""The read replica: the one home of the decision which statements may read from it.

With `DATABASE_REPLICA_URL` set, `create_app` (`install`) makes a second engine, with the
primary's `SQLALCHEMY_ENGINE_OPTIONS`, kept in `app.extensions` (not a Flask-SQLAlchemy bind:
no model lives there, and `db.create_all()` must never reach a read-only standby).
`db.session` is a `RoutingSession`, whose `get_bind` sends a statement to the replica when all
of these hold:

- the request's view is marked `@reads_from_replica` and the view has begun (the decorator
  goes under `@require` / `@page`, so the token check reads the primary: a token issued a
  moment ago is never refused for a replica that has not replayed it yet);
- the statement is a plain SELECT (no `FOR UPDATE`), not a flush, an INSERT, UPDATE or DELETE,
  a text statement, or a bare `session.connection()`: those go to the primary, so a marked
  view that writes (the position access log) writes where everything is written;
- the replica is fresh enough: its replay lag, asked once per request, is at most
  `REPLICA_MAX_LAG_SECONDS` (0: never asked). A replica that lags more, or does not answer
  the question, is passed over for the primary for the rest of the request.

Everything else (pulls, pushes, every write, sign-in, jobs, the CLI) never sees the replica:
with the setting unset there is no replica engine and every statement goes to the primary.
One session holds both connections, so a view that reads the replica and writes the primary
commits once, as any other. A report may be as stale as the replica's lag; a pull never is,
since `GET /api/v1/sync` is not marked.
"""
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Flask, current_app, has_request_context, request
from flask_sqlalchemy.session import Session
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)

EXTENSION = "fieldsales.replica"  # the replica's engine in app.extensions
_MARKED = "fieldsales.reads_from_replica"  # request.environ keys, so they end with the request
_FRESH = "fieldsales.replica_fresh"

# Seconds the replica is behind the primary: 0 while it has replayed all it received (or is
# no standby at all); else since the last transaction it replayed (NULL: none yet).
LAG_SQL = sa.text(
    "SELECT CASE WHEN NOT pg_is_in_recovery() "
    "OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
    "ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) END")

View = TypeVar("View", bound=Callable[..., Any])


def reads_from_replica(view: View) -> View:
    """View decorator: the view's reads may come from the replica (seconds stale at most
    `REPLICA_MAX_LAG_SECONDS`). For reports, lists and exports only; put it under the
    route's `@require(...)` or `@page(...)`."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        request.environ[_MARKED] = True  # for the rest of the request: streamed exports too
        return view(*args, **kwargs)

    wrapper.reads_from_replica = True  # type: ignore[attr-defined]  # read by the tests
    return wrapper  # type: ignore[return-value]


def install(app: Flask) -> None:
    """The replica's engine, if `DATABASE_REPLICA_URL` is set (`engine()` returns it)."""
    url = app.config["DATABASE_REPLICA_URL"]
    if url:
        app.extensions[EXTENSION] = sa.create_engine(
            url, **app.config["SQLALCHEMY_ENGINE_OPTIONS"])


def engine() -> Engine | None:
    """The current app's replica engine; None without the setting."""
    return current_app.extensions.get(EXTENSION)


def lag_seconds(replica: Engine) -> float | None:
    """How far the replica behind `replica` is behind its primary (None: not known yet)."""
    with replica.connect() as connection:
        lag = connection.execute(LAG_SQL).scalar()
    return None if lag is None else float(lag)


def _fresh(replica: Engine) -> bool:
    """Whether this request may read `replica`; asked once per request."""
    fresh = request.environ.get(_FRESH)
    if fresh is None:
        fresh = request.environ[_FRESH] = _fresh_now(replica)
    return fresh


def _fresh_now(replica: Engine) -> bool:
    limit = current_app.config["REPLICA_MAX_LAG_SECONDS"]
    if limit <= 0 or replica.dialect.name != "postgresql":
        return True
    try:
        lag = lag_seconds(replica)
    except DBAPIError as error:
        log.warning("The read replica does not answer; reading the primary: %s", error)
        return False
    if lag is None or lag > limit:
        log.warning("The read replica lags %s s (more than REPLICA_MAX_LAG_SECONDS=%s); "
                    "reading the primary.", "unknown" if lag is None else f"{lag:.1f}", limit)
        return False
    return True


def reads_only(clause: Any) -> bool:
    """Whether `clause` only reads: a SELECT (or UNION of them) without FOR UPDATE."""
    return (isinstance(clause, (sa.Select, sa.CompoundSelect))
            and getattr(clause, "_for_update_arg", None) is None)


class RoutingSession(Session):
    """Flask-SQLAlchemy's session, reading from the replica where `reads_from_replica`
    allows it (the module's docstring says when)."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if (bind is None and not self._flushing and reads_only(clause)
                and has_request_context() and request.environ.get(_MARKED)):
            replica = engine()
            if replica is not None and _fresh(replica):
                return replica
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)
