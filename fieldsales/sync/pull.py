"""The pull: what changed for a rep in the window (last_pulled_at, timestamp].

`timestamp` comes from `clock.advance` (the caller gets it first): every change stamp up to it
is committed, so reading the window misses nothing and returns nothing twice (pull rules 1-2).

Per table, for the rows the rep may see now (`SyncTable.visible`):
- created: created after `last_pulled_at`, or the rep gained access to them in the window
  (a customer reassigned to them);
- updated: changed in the window, created before it;
- deleted: removed in the window among the rows the rep could see (`SyncTable.tombstones`),
  and rows whose access the rep lost in the window and cannot see now.
A first pull (`last_pulled_at` null) sends everything visible as created and nothing deleted.
So does a pull whose cursor this server never handed out (pull rule 8, `clock.trusts`): the
phone starts again from the fresh timestamp instead of being stuck.

Schema versions (pull rule 5, "Schema version 2"): a phone gets the tables and columns of its
`schema_version` only (`SyncTable.since_version`, `Col.since_version`). A phone upgrading
(`migration`, from WatermelonDB's `migrationsEnabledAtVersion`) gets, beside its usual
changes, every row it may see of the tables newer than its old version as created, and every
row it may see of the tables that gained columns as updated, whole.
"""
import json
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import literal, or_, select, union_all

from fieldsales.changes import clock
from fieldsales.changes.models import AccessChange
from fieldsales.common import DAY_MS, now_ms
from fieldsales.errors import ApiError
from fieldsales.extensions import db
from fieldsales.sync.tables import SCHEMA_VERSIONS, SyncTable, tables_of


@dataclass(frozen=True)
class Pulled:
    """A pull's answer (`PullSchema`): every table's changes, and the phone's next cursor."""

    changes: dict
    timestamp: int
    reset: bool = False  # the cursor was never handed out: answered as a first pull

    @property
    def counts(self) -> dict:
        """For the sync log: created/updated/deleted per table that has any."""
        return {name: {kind: len(items) for kind, items in table.items()}
                for name, table in self.changes.items() if any(table.values())}


def _unsupported(message: str) -> ApiError:
    return ApiError(400, "unsupported_schema", message, {"supported": list(SCHEMA_VERSIONS)})


def read_schema_version(text: str | None) -> int:
    """The query's `schema_version` (absent: 1), or 400 `unsupported_schema`."""
    if text is None:
        return 1
    value = text.strip()
    if not (value.isascii() and value.isdigit() and int(value) in SCHEMA_VERSIONS):
        raise _unsupported(f"Schema version {text[:20]!r} is not supported; this server "
                           f"speaks versions {', '.join(map(str, SCHEMA_VERSIONS))}.")
    return int(value)


def read_migration(text: str | None, *, schema_version: int) -> int | None:
    """The version a phone migrates from (the query's `migration`, WatermelonDB's
    `{"from": 1, "tables": [...], "columns": [...]}`; absent or `null`: none), or 400
    `unsupported_schema` for one that is not JSON or whose `from` is no supported version
    below `schema_version`."""
    if text is None or text.strip() == "null":
        return None
    try:
        migration = json.loads(text)
    except (ValueError, RecursionError):
        raise _unsupported("migration must be JSON: "
                           '{"from": <version>, "tables": [...], "columns": [...]}.') from None
    if migration is None:
        return None
    start = migration.get("from") if isinstance(migration, dict) else None
    if type(start) is not int or start not in SCHEMA_VERSIONS or start >= schema_version:
        raise _unsupported(f"A migration to schema version {schema_version} must be from a "
                           "supported version below it.")
    return start


def pull_changes(*, user_id: str, last_pulled_at: int | None, schema_version: str | None,
                 migration: str | None = None) -> Pulled:
    """What changed for the rep since `last_pulled_at`, up to a timestamp taken now.

    A cursor no pull handed out is answered as a first pull (`reset`). `schema_version` and
    `migration` are the query's texts (`read_schema_version`, `read_migration`: 400
    `unsupported_schema` for ones this server does not speak). Commits the caller's session
    (the clock moves in its own transaction), then reads in a deferred one (SQLite): pulls
    never queue behind pushes.
    """
    reset = not clock.trusts(db.session, last_pulled_at=last_pulled_at)
    version = read_schema_version(schema_version)
    migrated_from = read_migration(migration, schema_version=version)
    timestamp = clock.advance(db.session)
    db.session.connection(execution_options={"sqlite_deferred": True})
    window_days = current_app.config["SYNC_WINDOW_DAYS"]
    changes = get_changes(user_id=user_id, last_pulled_at=None if reset else last_pulled_at,
                          timestamp=timestamp, window_start=now_ms() - window_days * DAY_MS,
                          schema_version=version, migrated_from=migrated_from)
    return Pulled(changes=changes, timestamp=timestamp, reset=reset)


def get_changes(*, user_id: str, last_pulled_at: int | None, timestamp: int,
                window_start: int, schema_version: int = 1,
                migrated_from: int | None = None) -> dict:
    """The `changes` object of a pull: every table of the phone's schema version, empty
    lists included.

    `window_start`: rows older than this ("the last 30 days") are pulled only while open.
    `migrated_from`: the phone's old version, when it migrates: what that version lacked
    comes whole (see the module's docstring).

    An incremental pull reads its window in few statements, whatever the number of tables:
    one for the rep's access changes of every table (`_access_changes`), one that names the
    tables with a row in the window the rep may see or could have seen (`_changed_tables`);
    then only those tables, and the tables with access changes, are read. A pull with
    nothing new reads nothing more.
    """
    tables = tables_of(schema_version)
    since_of = {}
    for name, table in tables.items():
        since = last_pulled_at
        if migrated_from is not None and table.since_version > migrated_from:
            since = None  # a table new to the phone: everything it may see, as created
        since_of[name] = since
    conditions = {name: (table.visible(user_id, window_start),
                         table.tombstones(user_id, window_start))
                  for name, table in tables.items()
                  if table.visible is not None and table.tombstones is not None}
    incremental = {name: conditions[name] for name in conditions
                   if since_of[name] is not None}
    access: dict = {}
    changed: set[str] = set()
    if last_pulled_at is not None and incremental:
        access = _access_changes(user_id=user_id, since=last_pulled_at, until=timestamp)
        changed = _changed_tables(tables, incremental, since=last_pulled_at, until=timestamp)
    changes = {}
    for name, table in tables.items():
        since = since_of[name]
        empty: dict[str, list] = {"created": [], "updated": [], "deleted": []}
        if name not in conditions:  # not pulled
            changes[name] = empty
            continue
        visible, tombstones = conditions[name]
        if since is None:
            changes[name] = _all_visible(table, visible, until=timestamp,
                                         version=schema_version)
        elif name in changed or name in access:
            granted, revoked = access.get(name, (set(), set()))
            changes[name] = _table_changes(table, visible, tombstones, user_id=user_id,
                                           since=since, until=timestamp,
                                           granted=granted, revoked=revoked,
                                           version=schema_version)
        else:  # nothing in the window the rep may see, could have seen, or gained or lost
            changes[name] = empty
        if (since is not None and migrated_from is not None
                and any(c.since_version > migrated_from for c in table.columns_of(schema_version))):
            _resend_whole(table, changes[name], visible, until=timestamp,
                          version=schema_version)
    return changes


def _resend_whole(table: SyncTable, changes: dict, visible, *, until: int,
                  version: int) -> None:
    """Every row the rep may see (`visible`), beyond those already created in `changes`, as
    updated: a table whose rows gained columns on the phone (their values come whole)."""
    t = table.table
    serialize = table.serializer(version)
    created = {record["id"] for record in changes["created"]}
    columns = [t.c.id, *(t.c[col.name] for col in table.columns_of(version))]
    query = select(*columns).where(visible, t.c.changed_seq <= until).order_by(t.c.id)
    changes["updated"] = [serialize(row) for row in db.session.execute(query)
                          if row.id not in created]


def _access_changes(*, user_id: str, since: int, until: int) -> dict[str, tuple[set, set]]:
    """The rep's access changes in the window, every table in one query: table -> (ids
    granted, ids revoked)."""
    found: dict[str, tuple[set, set]] = {}
    query = select(AccessChange.table_name, AccessChange.record_id, AccessChange.granted).where(
        AccessChange.user_id == user_id, AccessChange.stamp > since,
        AccessChange.stamp <= until)
    for table_name, record_id, granted in db.session.execute(query):
        granted_ids, revoked_ids = found.setdefault(table_name, (set(), set()))
        (granted_ids if granted else revoked_ids).add(record_id)
    return found


def _changed_tables(tables: dict[str, SyncTable], conditions: dict, *, since: int,
                    until: int) -> set[str]:
    """The tables (of `conditions`: name -> (visible, tombstones)) holding a row changed in
    the window that the rep may see or could have seen, in one query (UNION ALL of one
    EXISTS per table). A table not named has nothing for the window's created, updated or
    tombstone deletions; what access changes bring is read apart (`_access_changes`)."""
    probes = []
    for name, (visible, tombstones) in conditions.items():
        t = tables[name].table
        probes.append(select(literal(name).label("name")).where(
            select(t.c.id).where(t.c.changed_seq > since, t.c.changed_seq <= until,
                                 or_(visible, tombstones)).exists()))
    return set(db.session.scalars(union_all(*probes)))


def _access(table: SyncTable, *, user_id: str, granted: bool, since: int, until: int):
    return select(AccessChange.record_id).where(
        AccessChange.user_id == user_id, AccessChange.table_name == table.name,
        AccessChange.granted.is_(granted), AccessChange.stamp > since,
        AccessChange.stamp <= until)


def _columns(table: SyncTable, version: int) -> list:
    t = table.table
    return [t.c.id, *(t.c[col.name] for col in table.columns_of(version)), t.c.created_seq]


def _all_visible(table: SyncTable, visible, *, until: int, version: int) -> dict:
    """A first pull's table: every row the rep may see, as created."""
    serialize = table.serializer(version)
    query = select(*_columns(table, version)).where(
        visible, table.table.c.changed_seq <= until).order_by(table.table.c.id)
    return {"created": [serialize(row) for row in db.session.execute(query)],
            "updated": [], "deleted": []}


def _table_changes(table: SyncTable, visible, tombstones, *, user_id: str, since: int,
                   until: int, granted: set, revoked: set, version: int) -> dict:
    """One table's window: `visible` / `tombstones` are its conditions for the rep,
    `granted` / `revoked` the ids the rep gained or lost sight of in the window."""
    changes: dict[str, list] = {"created": [], "updated": [], "deleted": []}
    t = table.table
    serialize = table.serializer(version)
    in_window = (t.c.changed_seq > since) & (t.c.changed_seq <= until)
    if granted:
        gained = _access(table, user_id=user_id, granted=True, since=since, until=until)
        in_window = or_(in_window, t.c.id.in_(gained))
    query = select(*_columns(table, version)).where(visible, in_window).order_by(t.c.id)
    for row in db.session.execute(query):
        kind = "created" if row.created_seq > since or row.id in granted else "updated"
        changes[kind].append(serialize(row))

    deleted = set(db.session.scalars(select(t.c.id).where(
        tombstones, t.c.changed_seq > since, t.c.changed_seq <= until)))
    if revoked:
        lost = _access(table, user_id=user_id, granted=False, since=since, until=until)
        still_visible = set(db.session.scalars(select(t.c.id).where(visible, t.c.id.in_(lost))))
        deleted |= revoked - still_visible
    changes["deleted"] = sorted(deleted)
    return changes
