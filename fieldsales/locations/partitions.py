"""Monthly partitions of `location_pings` on PostgreSQL (docs/operations.md, "Partitioned pings").

On PostgreSQL the table is partitioned by range of `recorded_at` (epoch ms), one partition per
UTC month, named `location_pings_YYYY_MM`, plus `location_pings_default` for the times no
month holds: implausible ones (a phone clock in 1970 or years ahead; the push flags them and
keeps them) and months not created yet. SQLite keeps one plain table, and every function here
is a no-op there.

- `create_for_new_table`: the default partition and the months around now, when the models
  create the table (`after_create`, PostgreSQL only);
- `ensure_ping_partitions`: the months from the previous one to `months_ahead` ahead, each one
  new created empty, the rows of its month moved out of the default partition, and attached
  (the daily job `ping_partitions`, `run`);
- `drop_ping_months_before`: retention by month: detach and drop the months that end at or
  before a cutoff (the privacy retention job; rows younger than a whole month, and old rows in
  the default partition, stay for its batched deletes).

Locking. Each step is its own short transaction on a connection of its own, never the
caller's session: a month's step (create, move, attach) or a detach, then the drop. Each sets
`lock_timeout`, so a step that waits behind a long query gives up (and the job fails and is
retried) rather than queueing every push behind its lock. ATTACH takes SHARE UPDATE
EXCLUSIVE on the parent, which pushes and reads do not wait for; the default partition is
locked for the step (it holds few rows). DETACH takes ACCESS EXCLUSIVE on the parent for a
moment (DETACH ... CONCURRENTLY is not allowed while a default partition exists); DROP of the
detached table locks that table alone. Call these with no transaction of yours open on
`location_pings`, or the step waits for you until its lock timeout.
"""
import logging
import re
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import Connection, text

from fieldsales.common import now_ms
from fieldsales.extensions import db

log = logging.getLogger(__name__)

TABLE = "location_pings"
DEFAULT = f"{TABLE}_default"
MONTHS_AHEAD = 3
_PARTITION_NAME = re.compile(rf"{TABLE}_(?:default|\d{{4}}_\d{{2}})")
# pg_get_expr(relpartbound): FOR VALUES FROM ('1764547200000') TO ('1767225600000')
_BOUNDS = re.compile(r"FOR VALUES FROM \('?(-?\d+)'?\) TO \('?(-?\d+)'?\)")


def include_name(name, type_, parent_names) -> bool:
    """Alembic's filter of reflected names (`flask db migrate`, tests/test_migrations.py):
    the monthly partitions are the database's own tables, not the models'."""
    return not (type_ == "table" and name is not None and _PARTITION_NAME.fullmatch(name))


def _month(ms: int) -> tuple[int, int]:
    at = datetime.fromtimestamp(ms / 1000, UTC)
    return at.year, at.month


def _shift(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + month - 1 + months
    return index // 12, index % 12 + 1


def _start_ms(year: int, month: int) -> int:
    return int(datetime(year, month, 1, tzinfo=UTC).timestamp() * 1000)


def month_of(ms: int, *, shift: int = 0) -> tuple[str, int, int]:
    """The partition of the UTC month holding `ms` (or `shift` months after it): its name,
    and its range [from, to) in ms."""
    year, month = _shift(*_month(ms), shift)
    return (f"{TABLE}_{year:04d}_{month:02d}", _start_ms(year, month),
            _start_ms(*_shift(year, month, 1)))


def _wanted(now: int, months_ahead: int) -> list[tuple[str, int, int]]:
    """The previous month (a late upload is plausible up to PING_MAX_AGE_DAYS old), this one
    and `months_ahead` after it."""
    return [month_of(now, shift=step) for step in range(-1, months_ahead + 1)]


def _postgresql() -> bool:
    return db.engine.dialect.name == "postgresql"


def _lock_timeout(connection: Connection, ms: int) -> None:
    connection.execute(text(f"SET LOCAL lock_timeout = '{int(ms)}ms'"))


def create_for_new_table(target, connection: Connection, **kw) -> None:
    """`after_create` of the models' table (fieldsales/locations/models.py), PostgreSQL only:
    the default partition and the months around now, while the table is empty."""
    if connection.dialect.name != "postgresql":
        return
    connection.execute(text(f"CREATE TABLE {DEFAULT} PARTITION OF {TABLE} DEFAULT"))
    for name, start, end in _wanted(now_ms(), MONTHS_AHEAD):
        connection.execute(text(f"CREATE TABLE {name} PARTITION OF {TABLE} "
                                f"FOR VALUES FROM ({start}) TO ({end})"))


def ping_partitions(*, connection: Connection) -> dict[str, tuple[int, int] | None]:
    """The partitions of the table (pg_inherits): name -> (from, to) in ms, None for the
    default partition."""
    rows = connection.execute(text(
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
        "JOIN pg_class c ON c.oid = i.inhrelid "
        f"WHERE i.inhparent = '{TABLE}'::regclass ORDER BY c.relname"))
    found: dict[str, tuple[int, int] | None] = {}
    for name, bound in rows:
        match = _BOUNDS.fullmatch(bound or "")
        found[name] = (int(match[1]), int(match[2])) if match else None
    return found


def _columns(connection: Connection) -> str:
    names = connection.scalars(text(
        "SELECT attname FROM pg_attribute WHERE attrelid = CAST(:table AS regclass) AND attnum > 0 "
        "AND NOT attisdropped ORDER BY attnum"), {"table": TABLE}).all()
    return ", ".join(f'"{name}"' for name in names)


def ensure_ping_partitions(*, now: int, months_ahead: int = MONTHS_AHEAD,
                           lock_timeout_ms: int = 5_000) -> dict[str, int]:
    """Create the missing months from the previous one to `months_ahead` ahead of `now`;
    name -> rows moved into it from the default partition (where they landed while their
    month did not exist). {} on SQLite, or when every month exists."""
    if not _postgresql():
        return {}
    with db.engine.connect() as connection:
        existing = ping_partitions(connection=connection)
        columns = _columns(connection)
        connection.rollback()
    taken = [bounds for bounds in existing.values() if bounds is not None]
    created = {}
    for name, start, end in _wanted(now, months_ahead):
        if name in existing or any(lo < end and start < hi for lo, hi in taken):
            continue  # there, or its range is held by another partition
        created[name] = _add_month(name=name, start=start, end=end, columns=columns,
                                   lock_timeout_ms=lock_timeout_ms)
    return created


def _add_month(*, name: str, start: int, end: int, columns: str, lock_timeout_ms: int) -> int:
    """One month, in one short transaction: created empty, its rows moved out of the default
    partition (locked meanwhile, so none lands there in between), attached."""
    in_month = f"recorded_at >= {start} AND recorded_at < {end}"
    with db.engine.begin() as connection:
        _lock_timeout(connection, lock_timeout_ms)
        connection.execute(text(
            f"CREATE TABLE {name} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"))
        connection.execute(text(f"LOCK TABLE {DEFAULT} IN ACCESS EXCLUSIVE MODE"))
        moved = connection.execute(text(
            f"WITH moved AS (DELETE FROM {DEFAULT} WHERE {in_month} RETURNING {columns}) "
            f"INSERT INTO {name} ({columns}) SELECT {columns} FROM moved")).rowcount
        # The bound as a constraint first: ATTACH then need not scan the new table.
        connection.execute(text(f"ALTER TABLE {name} ADD CONSTRAINT {name}_bound "
                                f"CHECK ({in_month})"))
        connection.execute(text(f"ALTER TABLE {TABLE} ATTACH PARTITION {name} "
                                f"FOR VALUES FROM ({start}) TO ({end})"))
        connection.execute(text(f"ALTER TABLE {name} DROP CONSTRAINT {name}_bound"))
    log.info("Created partition %s (%s rows moved from %s)", name, moved, DEFAULT)
    return moved


def drop_ping_months_before(*, cutoff_ms: int, lock_timeout_ms: int = 5_000) -> dict[str, int]:
    """Detach and drop every monthly partition whose whole range ends at or before
    `cutoff_ms`; the names dropped, oldest first, with the pings each held. {} on SQLite.
    Rows before the cutoff that stay (its own month's, and any in the default partition) are
    the caller's to delete."""
    if not _postgresql():
        return {}
    with db.engine.connect() as connection:
        existing = ping_partitions(connection=connection)
        connection.rollback()
    old = sorted((bounds[0], name) for name, bounds in existing.items()
                 if bounds is not None and bounds[1] <= cutoff_ms)
    dropped: dict[str, int] = {}
    for _, name in old:
        with db.engine.begin() as connection:
            _lock_timeout(connection, lock_timeout_ms)
            connection.execute(text(f"ALTER TABLE {TABLE} DETACH PARTITION {name}"))
        with db.engine.begin() as connection:
            _lock_timeout(connection, lock_timeout_ms)
            held = connection.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()
            connection.execute(text(f"DROP TABLE {name}"))
        log.info("Dropped partition %s, %s pings (every one older than %s)", name, held,
                 cutoff_ms)
        dropped[name] = held
    return dropped


def run(*, now: int) -> int:
    """The job `ping_partitions` (jobs/registry.py): the months ahead, on PostgreSQL; the rows
    moved out of the default partition. On SQLite it does nothing, and says so."""
    if not _postgresql():
        log.warning("ping_partitions: location pings are partitioned on PostgreSQL only; "
                    "nothing to do on %s.", db.engine.dialect.name)
        return 0
    config = current_app.config
    created = ensure_ping_partitions(now=now, months_ahead=config["PING_PARTITIONS_MONTHS_AHEAD"],
                                     lock_timeout_ms=config["PING_PARTITIONS_LOCK_TIMEOUT_MS"])
    return sum(created.values())
