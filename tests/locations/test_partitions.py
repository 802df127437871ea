"""Pings partitioned by month on PostgreSQL (fieldsales/locations/partitions.py): where a ping
lands, months made ahead by the job (and the rows of the default partition moved into them),
whole months dropped for retention, short locks; SQLite keeps one table and does nothing."""
import logging

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from fieldsales.common import DAY_MS, now_ms
from fieldsales.extensions import db
from fieldsales.locations.models import LocationPing
from fieldsales.locations.partitions import (
    DEFAULT,
    MONTHS_AHEAD,
    drop_ping_months_before,
    ensure_ping_partitions,
    month_of,
)
from tests.factories import Phone, changes, ping_record, stored
from tests.support.partitions import ON_POSTGRESQL, partition_of, partitions, postgresql_only


def test_a_pings_key_is_its_id_and_its_time_on_both_databases(app):
    with app.app_context():
        key = sa.inspect(db.engine).get_pk_constraint("location_pings")
    assert key["constrained_columns"] == ["id", "recorded_at"]


def test_a_pushed_ping_names_the_stored_one_by_its_id_and_its_time(app, client, team):
    phone = Phone(client, team.headers["rep"])
    other_phone = Phone(client, team.headers["other_rep"], device="other")
    ping = ping_record()
    phone.push(changes(location_pings={"created": [ping]}))

    changed = phone.push(changes(location_pings={"created": [{**ping, "latitude": 10.0}]}))
    theirs = other_phone.push(changes(location_pings={"created": [ping]}))
    later = phone.push(changes(location_pings={"created": [
        {**ping, "recorded_at": ping["recorded_at"] + 30_000}]}))

    assert [q["id"] for q in changed["quarantined"]] == [ping["id"]]  # create-only
    assert theirs["quarantined"][0]["errors"] == {"id": ["This id cannot be written by you."]}
    assert later["accepted"]["location_pings"] == 1 and later["quarantined"] == []
    assert [(row["id"], row["recorded_at"], row["rep_id"], row["latitude"])
            for row in stored(app, LocationPing)] == [
        (ping["id"], ping["recorded_at"], team.rep.id, ping["latitude"]),
        (ping["id"], ping["recorded_at"] + 30_000, team.rep.id, ping["latitude"])]


@postgresql_only
def test_the_models_make_the_default_partition_and_the_months_around_now(app):
    now = now_ms()
    expected = {DEFAULT: None}
    for shift in range(-1, MONTHS_AHEAD + 1):
        name, start, end = month_of(now, shift=shift)
        expected[name] = (start, end)
    assert partitions(app) == expected


@postgresql_only
def test_a_pushed_ping_lands_in_its_month_and_its_retry_is_stored_once(app, client, team):
    phone = Phone(client, team.headers["rep"])
    ping = ping_record()
    assert phone.push(changes(location_pings={"created": [ping]}))["accepted"][
        "location_pings"] == 1
    assert phone.push(changes(location_pings={"created": [ping]}))["accepted"][
        "location_pings"] == 1  # the retry: acknowledged, not stored again
    assert partition_of(app) == {ping["id"]: month_of(ping["recorded_at"])[0]}


@postgresql_only
def test_an_implausible_time_waits_in_the_default_partition_until_its_month_is_made(
        app, client, team):
    phone = Phone(client, team.headers["rep"])
    ahead_month = month_of(now_ms(), shift=12)  # a phone clock a year ahead
    ahead = ping_record(recorded_at=ahead_month[1] + DAY_MS)
    ancient = ping_record(recorded_at=1_000)  # 1970
    result = phone.push(changes(location_pings={"created": [ahead, ancient]}))
    assert result["accepted"]["location_pings"] == 2  # flagged, never refused
    assert partition_of(app) == {ahead["id"]: DEFAULT, ancient["id"]: DEFAULT}

    with app.app_context():
        made = ensure_ping_partitions(now=ahead["recorded_at"], months_ahead=1)

    assert made == {month_of(ahead["recorded_at"], shift=-1)[0]: 0, ahead_month[0]: 1,
                    month_of(ahead["recorded_at"], shift=1)[0]: 0}
    assert partition_of(app) == {ahead["id"]: ahead_month[0], ancient["id"]: DEFAULT}
    phone.push(changes(location_pings={"created": [ahead]}))  # a retry meets the moved row
    assert len(partition_of(app)) == 2


@postgresql_only
def test_the_job_makes_the_months_ahead_once(app, monkeypatch):
    monkeypatch.setitem(app.config, "PING_PARTITIONS_MONTHS_AHEAD", MONTHS_AHEAD + 2)
    farthest = month_of(now_ms(), shift=MONTHS_AHEAD + 2)
    assert farthest[0] not in partitions(app)

    first = app.test_cli_runner().invoke(args=["jobs", "run", "ping_partitions"])
    made = partitions(app)
    second = app.test_cli_runner().invoke(args=["jobs", "run", "ping_partitions"])

    assert first.exit_code == 0 and first.output.startswith("ping_partitions: ok"), first.output
    assert made[farthest[0]] == farthest[1:]
    assert second.exit_code == 0 and partitions(app) == made


@postgresql_only
def test_months_wholly_before_the_cutoff_are_dropped_and_every_other_ping_kept(
        app, world, team):
    now = now_ms()
    with app.app_context():
        ensure_ping_partitions(now=month_of(now, shift=-5)[1], months_ahead=3)  # months -6..-2
    pings = {shift: world.ping(rep=team.rep, at=month_of(now, shift=shift)[1] + 10 * DAY_MS)
             for shift in range(-6, 1)}
    ancient = world.ping(rep=team.rep, at=1_000)
    cutoff = month_of(now, shift=-3)[1] + 15 * DAY_MS  # the middle of month -3

    with app.app_context():
        dropped = drop_ping_months_before(cutoff_ms=cutoff)
        again = drop_ping_months_before(cutoff_ms=cutoff)

    assert dropped == {month_of(now, shift=shift)[0]: 1 for shift in (-6, -5, -4)}
    assert list(dropped) == [month_of(now, shift=shift)[0] for shift in (-6, -5, -4)]
    assert again == {}
    # Month -3 and the default partition stay whole: their old rows are for batched deletes.
    assert set(partition_of(app)) == {pings[shift] for shift in (-3, -2, -1, 0)} | {ancient}
    assert DEFAULT in partitions(app) and not set(dropped) & set(partitions(app))


@postgresql_only
def test_a_step_kept_waiting_for_its_lock_gives_up_and_leaves_nothing_half_done(app):
    now = now_ms()
    beyond = month_of(now, shift=MONTHS_AHEAD + 1)[0]
    with app.app_context():
        with db.engine.connect() as report:  # a long read of the pings, under way
            report.execute(sa.text("SELECT count(*) FROM location_pings_default"))
            with pytest.raises(OperationalError, match="lock timeout"):
                ensure_ping_partitions(now=now, months_ahead=MONTHS_AHEAD + 1,
                                       lock_timeout_ms=100)
            report.rollback()
        assert beyond not in partitions(app)
        assert ensure_ping_partitions(now=now, months_ahead=MONTHS_AHEAD + 1) == {beyond: 0}


@pytest.mark.skipif(ON_POSTGRESQL, reason="SQLite's side: on PostgreSQL the tests above run")
def test_on_sqlite_partitions_are_left_alone_and_the_job_says_so(app, world, team, caplog,
                                                                 monkeypatch):
    # A migration run in this process (Alembic's fileConfig) disables the loggers there were.
    monkeypatch.setattr(logging.getLogger("fieldsales.locations.partitions"), "disabled", False)
    ancient = world.ping(rep=team.rep, at=1_000)
    with app.app_context():
        assert ensure_ping_partitions(now=now_ms()) == {}
        assert drop_ping_months_before(cutoff_ms=now_ms()) == {}

    result = app.test_cli_runner().invoke(args=["jobs", "run", "ping_partitions"])

    assert result.exit_code == 0 and result.output.startswith("ping_partitions: ok, 0 rows")
    assert "partitioned on PostgreSQL only; nothing to do on sqlite" in caplog.text
    with app.app_context():
        assert db.session.execute(sa.text("SELECT id FROM location_pings")).scalars().all() == [
            ancient]
