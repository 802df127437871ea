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
"""
from sqlalchemy import case, event, update
from sqlalchemy.orm import Session

from fieldsales.common import SyncedMixin, now_ms
from fieldsales.sync.models import SyncClock

_STAMP_KEY = "sync_stamp"


def take_stamp(session: Session) -> int:
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


def advance(session: Session) -> int:
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


@event.listens_for(Session, "before_flush")
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


@event.listens_for(Session, "after_transaction_end")
def _forget_stamp(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_STAMP_KEY, None)
