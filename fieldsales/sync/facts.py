"""Facts the server owns about the rows a push writes: a visit's verification, a ping's flags.

Each is a table's `SyncTable.facts` hook, called once per push with the rows about to be
written (after every record passed its rules, before any write). It sets the server's
columns on those rows and returns the stored rows of its table whose values change too.
"""
from collections.abc import Mapping
from functools import partial

from sqlalchemy import func, select

from fieldsales.extensions import db
from fieldsales.locations import flags as ping_flags
from fieldsales.locations.models import LocationPing
from fieldsales.visits import facts as visit_facts


def verify_visits(*, rows: list[dict], user_id: str, now: int, config: Mapping,
                  refs: dict[str, dict]) -> list[dict]:
    """Distance, verification and time on site, from the visit's customer as loaded."""
    customers, cap = refs["customers"], config["GEOFENCE_ACCURACY_CAP_M"]
    for row in rows:
        row.update(visit_facts.compute(visit=row, customer=customers[row["customer_id"]],
                                       accuracy_cap_m=cap))
    return []


def flag_pings(*, rows: list[dict], user_id: str, now: int, config: Mapping,
               refs: dict[str, dict]) -> list[dict]:
    """Flags, distance and implied speed of the new pings, and of the stored pings after them."""
    new = [row for row in rows if row["_new"]]
    if not new:
        return []
    return ping_flags.flag(new=new, stored_around=partial(_stored_pings, user_id),
                           received_at=now, limits=ping_flags.Limits.from_config(config))


def _stored_pings(user_id: str, first: int, last: int) -> list[dict]:
    """The rep's stored pings recorded in [first, last], the previous fix before them, and
    those after them up to the next fix that can be a previous one (see `flags.flag`)."""
    t = LocationPing
    columns = (t.id, t.recorded_at, t.latitude, t.longitude, t.flags,
               t.distance_from_previous_m, t.implied_speed_mps)
    mine = t.rep_id == user_id
    trusted = ~t.flags.contains("future") & ~t.flags.contains("stale")
    chainable = trusted & ~t.flags.contains("inaccurate")
    next_chainable = (select(t.recorded_at).where(mine, chainable, t.recorded_at > last)
                      .order_by(t.recorded_at, t.id).limit(1).scalar_subquery())
    queries = [
        select(*columns).where(mine, t.recorded_at.between(first, last)),
        select(*columns).where(mine, chainable, t.recorded_at < first)
        .order_by(t.recorded_at.desc(), t.id.desc()).limit(1),
        select(*columns).where(mine, trusted, t.recorded_at > last,
                               t.recorded_at <= func.coalesce(next_chainable, last)),
    ]
    found = {}
    for query in queries:
        for row in db.session.execute(query):
            found[row.id] = dict(row._mapping)
    return list(found.values())
