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
"""
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import or_, select

from fieldsales.changes import clock
from fieldsales.changes.models import AccessChange
from fieldsales.common import DAY_MS, now_ms
from fieldsales.errors import ApiError
from fieldsales.extensions import db
from fieldsales.sync.tables import TABLES, SyncTable

SCHEMA_VERSION = 1


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


def pull_changes(*, user_id: str, last_pulled_at: int | None,
                 schema_version: str | None) -> Pulled:
    """What changed for the rep since `last_pulled_at`, up to a timestamp taken now.

    A cursor no pull handed out is answered as a first pull (`reset`), and a `schema_version`
    (the query's text; absent: the default) other than ours is 400 `unsupported_schema`.
    Commits the caller's session
    (the clock moves in its own transaction), then reads in a deferred one (SQLite): pulls
    never queue behind pushes.
    """
    reset = not clock.trusts(db.session, last_pulled_at=last_pulled_at)
    if schema_version is not None and schema_version.strip() != str(SCHEMA_VERSION):
        raise ApiError(400, "unsupported_schema",
                       f"Schema version {schema_version[:20]!r} is not supported; "
                       f"this server speaks version {SCHEMA_VERSION}.",
                       {"supported": [SCHEMA_VERSION]})
    timestamp = clock.advance(db.session)
    db.session.connection(execution_options={"sqlite_deferred": True})
    window_days = current_app.config["SYNC_WINDOW_DAYS"]
    changes = get_changes(user_id=user_id, last_pulled_at=None if reset else last_pulled_at,
                          timestamp=timestamp, window_start=now_ms() - window_days * DAY_MS)
    return Pulled(changes=changes, timestamp=timestamp, reset=reset)


def get_changes(*, user_id: str, last_pulled_at: int | None, timestamp: int,
                window_start: int) -> dict:
    """The `changes` object of a pull: every table of the contract, empty lists included.

    `window_start`: rows older than this ("the last 30 days") are pulled only while open.
    """
    return {name: _table_changes(table, user_id=user_id, since=last_pulled_at,
                                 until=timestamp, window_start=window_start)
            for name, table in TABLES.items()}


def _access(table: SyncTable, *, user_id: str, granted: bool, since: int, until: int):
    return select(AccessChange.record_id).where(
        AccessChange.user_id == user_id, AccessChange.table_name == table.name,
        AccessChange.granted.is_(granted), AccessChange.stamp > since,
        AccessChange.stamp <= until)


def _table_changes(table: SyncTable, *, user_id: str, since: int | None, until: int,
                   window_start: int) -> dict:
    changes: dict[str, list] = {"created": [], "updated": [], "deleted": []}
    if table.visible is None or table.tombstones is None:  # not pulled
        return changes
    t = table.table
    serialize = table.serializer()
    columns = [t.c.id, *(t.c[col.name] for col in table.columns), t.c.created_seq]
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
