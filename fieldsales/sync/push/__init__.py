"""The push: a phone's changes, stored in one transaction (sync contract, push rules 1-8).

Order of work, all inside the caller's transaction (one module per step):
1. take the sync stamp first: it locks the clock, so pushes (and REST writes to synced rows)
   are serialized and every row written here carries one stamp;
2. `parse`: every record cleaned against its columns; `load`: the rows the pushed ids
   already name;
3. `rules.check_conflicts` (rule 4): an `updated` record whose row changed on the server after
   `last_pulled_at` stops the whole push with 409, unless it only repeats what is stored
   (a retry of an update that was applied but whose answer was lost). A `created` record
   whose id exists never conflicts: the phone's version of a record it made wins;
4. `load.references`, then `rules.decide`, per record: ownership, what the table lets a phone
   do, required columns, foreign keys, phone times (`times`: one that cannot be true
   refuses the record, an odd one is flagged) and the table's own `check` (an order line:
   onto which order, at what price); a record that fails goes to the quarantine, whole,
   with its reasons (rule 5);
5. `duty`: pings taken off duty are set aside (acknowledged, not kept; or kept flagged where
   the team must keep them);
6. `write`: one insert for the quarantine, first, since past the rep's quarantine caps it
   refuses the whole push (413/429); then the facts the server owns (visit verification,
   ping flags) and bulk writes: one upsert per table.
What differs between tables is a hook on its `SyncTable` (fieldsales/sync/tables.py).
"""
from flask import current_app

from fieldsales import phonetime
from fieldsales.changes import clock
from fieldsales.common import DAY_MS, now_ms
from fieldsales.errors import ApiError
from fieldsales.extensions import db
from fieldsales.sync.push import duty, load, rules, write
from fieldsales.sync.push.parse import parse_body, read_records
from fieldsales.sync.push.rules import Outcome
from fieldsales.sync.tables import TABLES

__all__ = ["Outcome", "apply", "check_cursor", "parse_body"]


def check_cursor(*, last_pulled_at: int | None) -> None:
    """409 `sync_conflict` for a cursor this server never handed out (pull rule 8): nothing
    could be checked for conflicts against it, and the stock client answers a 409 by pulling
    (which starts it again from a fresh timestamp) and pushing again. Never 400: a stock
    client retries that forever with the same cursor. Call it before the push takes a stamp.
    """
    if not clock.trusts(db.session, last_pulled_at=last_pulled_at):
        raise ApiError(409, "sync_conflict",
                       "last_pulled_at is later than any timestamp this server handed out: "
                       "pull, then push again.",
                       {"conflicts": [],
                        "last_pulled_at": ["Not a timestamp of this server; the next pull "
                                           "answers as a first pull with a fresh one."]})


def apply(*, user_id: str, changes: dict, last_pulled_at: int | None,
          check_conflicts: bool = True, keep_quarantined: bool = True,
          pushed_at: int | None = None, schema_version: int | None = None) -> Outcome:
    """Store a parsed changes object for the rep `user_id`; the caller commits.

    Raises 409 `sync_conflict` (nothing written) when rule 4 applies, 413
    `quarantine_too_large` / 429 `quarantine_full` when the refused records would pass the
    rep's quarantine caps (nothing written either). `keep_quarantined=False`
    reports refused records without storing them (used by a replay). `pushed_at`: when the
    phone pushed the records (now, unless a replay names the original push): the time an
    order line's edit window is judged at (`SyncTable.check`). `schema_version`: the
    phone's, if it said (a stock client does not); else the newest its tables show. The
    answer counts every table of that version.
    """
    if schema_version is None:
        schema_version = max((TABLES[name].since_version for name in changes), default=1)
    now = now_ms()
    config = current_app.config
    stamp = clock.take_stamp(db.session)
    records = read_records(changes=changes)
    stored = load.stored_rows(records=records)
    if check_conflicts:
        rules.check_conflicts(records=records, stored=stored, user_id=user_id,
                              last_pulled_at=last_pulled_at)
    refs = load.references(records=records, stored=stored, user_id=user_id,
                           since=now - config["SYNC_WINDOW_DAYS"] * DAY_MS)
    outcome, writes = rules.decide(records=records, stored=stored, refs=refs, user_id=user_id,
                                   now=now, time_limits=phonetime.Limits.from_config(config),
                                   pushed_at=now if pushed_at is None else pushed_at,
                                   config=config, schema_version=schema_version)
    duty.set_aside(writes=writes, user_id=user_id)  # still counted in outcome.accepted
    if keep_quarantined and outcome.quarantined:  # first: past its caps, nothing is written
        write.keep_quarantined(refused=outcome.quarantined, user_id=user_id, now=now,
                               config=config)
    write.store(writes=writes, user_id=user_id, stamp=stamp, now=now, config=config, refs=refs,
                stored=stored)
    return outcome
