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
from sqlalchemy import or_, select

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
    """
    changes = {}
    for name, table in tables_of(schema_version).items():
        since = last_pulled_at
        if migrated_from is not None and table.since_version > migrated_from:
            since = None  # a table new to the phone: everything it may see, as created
        changes[name] = _table_changes(table, user_id=user_id, since=since, until=timestamp,
                                       window_start=window_start, version=schema_version)
        if (since is not None and migrated_from is not None
                and any(c.since_version > migrated_from for c in table.columns_of(schema_version))):
            _resend_whole(table, changes[name], user_id=user_id, until=timestamp,
                          window_start=window_start, version=schema_version)
    return changes


def _resend_whole(table: SyncTable, changes: dict, *, user_id: str, until: int,
                  window_start: int, version: int) -> None:
    """Every row the rep may see, beyond those already created in `changes`, as updated:
    a table whose rows gained columns on the phone (their values come whole)."""
    if table.visible is None:  # not pulled
        return
    t = table.table
    serialize = table.serializer(version)
    created = {record["id"] for record in changes["created"]}
    columns = [t.c.id, *(t.c[col.name] for col in table.columns_of(version))]
    query = select(*columns).where(table.visible(user_id, window_start),
                                   t.c.changed_seq <= until).order_by(t.c.id)
    changes["updated"] = [serialize(row) for row in db.session.execute(query)
                          if row.id not in created]


def _access(table: SyncTable, *, user_id: str, granted: bool, since: int, until: int):
    return select(AccessChange.record_id).where(
        AccessChange.user_id == user_id, AccessChange.table_name == table.name,
        AccessChange.granted.is_(granted), AccessChange.stamp > since,
        AccessChange.stamp <= until)


def _table_changes(table: SyncTable, *, user_id: str, since: int | None, until: int,
                   window_start: int, version: int) -> dict:
    changes: dict[str, list] = {"created": [], "updated": [], "deleted": []}
    if table.visible is None or table.tombstones is None:  # not pulled
        return changes
    t = table.table
    serialize = table.serializer(version)
    columns = [t.c.id, *(t.c[col.name] for col in table.columns_of(version)), t.c.created_seq]
    visible = table.visible(user_id, window_start)
    if since is None:
        query = select(*columns).where(visible, t.c.changed_seq <= until).order_by(t.c.id)
        changes["created"] = [serialize(row) for row in db.session.execute(query)]
        return changes

    gained = _access(table, user_id=user_id, granted=True, since=since, until=until)
    granted = set(db.session.scalars(gained))
    in_window = (t.c.changed_seq > since) & (t.c.changed_seq <= until)
    if granted:
        in_window = or_(in_window, t.c.id.in_(gained))
    for row in db.session.execute(select(*columns).where(visible, in_window).order_by(t.c.id)):
        kind = "created" if row.created_seq > since or row.id in granted else "updated"
        changes[kind].append(serialize(row))

    deleted = set(db.session.scalars(select(t.c.id).where(
        table.tombstones(user_id, window_start), t.c.changed_seq > since,
        t.c.changed_seq <= until)))
    lost = _access(table, user_id=user_id, granted=False, since=since, until=until)
    revoked = set(db.session.scalars(lost))
    if revoked:
        still_visible = set(db.session.scalars(select(t.c.id).where(visible, t.c.id.in_(lost))))
        deleted |= revoked - still_visible
    changes["deleted"] = sorted(deleted)
    return changes
