"""The sync clock: change stamps that are server times and never miss a commit.

Every transaction that writes rows phones pull takes a stamp from the one-row `sync_clock`
table with `UPDATE ... RETURNING`. The row lock that UPDATE takes is held until the
transaction ends, so stamps are handed out in commit order: a transaction holding a stamp
commits (or rolls back) before the next one can take a larger stamp.

A pull advances the clock to "now" in a short transaction of its own before reading. That
UPDATE waits for any writer holding a stamp, so when it returns, every stamp up to the
pull's timestamp is committed, and every later writer gets a strictly larger stamp. The pull
then reads exactly the window (last_pulled_at, timestamp]. Nothing is missed, nothing is
held back (sync contract, pull rules 1, 2 and 7).

Every timestamp a pull returned is at most the clock's last stamp (the clock never goes
back), so a `last_pulled_at` above it, and above the server's time, was never handed out:
`trusts` says so, and the pull answers such a phone as a first pull while its push is a
conflict (pull rule 8: a phone is never stuck). (Above the time as well: after a database
restore the clock row is older than the phones' cursors, and those still count.)
"""
from sqlalchemy import case, event, select, update
from sqlalchemy.orm import Session

from fieldsales.changes.models import SyncClock, SyncedMixin
from fieldsales.common import now_ms
from fieldsales.extensions import SessionLike

_STAMP_KEY = "sync_stamp"


def take_stamp(session: SessionLike) -> int:
    """The stamp of this transaction's changes; the first call locks the clock until commit."""
    stamp = session.info.get(_STAMP_KEY)
    if stamp is None:
        now = now_ms()
        stamp = session.execute(
            update(SyncClock)
            .where(SyncClock.id == 1)
            .values(last_stamp=case((SyncClock.last_stamp >= now, SyncClock.last_stamp + 1),
                                    else_=now))
            .returning(SyncClock.last_stamp)
        ).scalar_one()
        session.info[_STAMP_KEY] = stamp
    return stamp


def trusts(session: SessionLike, *, last_pulled_at: int | None) -> bool:
    """Whether a phone's cursor can be one this server handed out: null, or at most the later
    of the clock's last stamp and the server's time. A later one (a restored database, a
    phone moved between servers, a bug) would skip the conflict check and hide changes (the
    window would start after them). Call it before this request moves the clock.
    """
    if last_pulled_at is None:
        return True
    last_stamp = session.scalar(select(SyncClock.last_stamp).where(SyncClock.id == 1))
    return last_pulled_at <= max(last_stamp or 0, now_ms())


def advance(session: SessionLike) -> int:
    """Move the clock to now (never back) and return it: the timestamp of a pull.

    Runs in its own short transaction; the caller's session is committed here.
    """
    session.commit()
    now = now_ms()
    stamp = session.execute(
        update(SyncClock)
        .where(SyncClock.id == 1)
        .values(last_stamp=case((SyncClock.last_stamp >= now, SyncClock.last_stamp), else_=now))
        .returning(SyncClock.last_stamp)
    ).scalar_one()
    session.commit()
    return stamp


def install_listeners() -> None:
    """Make every session stamp the synced rows it writes; `create_app` calls it. Explicit,
    not an import side effect, so what a session does is visible where the app is built.
    Calling it again (one process, several apps) adds nothing."""
    for name, listener in (("before_flush", _stamp_synced_rows),
                           ("after_transaction_end", _forget_stamp)):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)


def _stamp_synced_rows(session: Session, _flush_context, _instances) -> None:
    """ORM writes (REST routes, jobs) stamp the synced rows they touch."""
    touched = [obj for obj in (*session.new, *session.dirty)
               if isinstance(obj, SyncedMixin) and (obj in session.new or session.is_modified(obj))]
    if not touched:
        return
    stamp = take_stamp(session)
    for obj in touched:
        if obj in session.new and not obj.created_seq:
            obj.created_seq = stamp
        obj.changed_seq = stamp


def _forget_stamp(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_STAMP_KEY, None)
