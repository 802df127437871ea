"""Migration 3e288e1ce034 on a filled database: every ping kept, the key (id, recorded_at),
and on PostgreSQL each ping in its month's partition (implausible times in the default one);
pushes go on working, and the downgrade gives the plain table back."""
import flask_migrate
import sqlalchemy as sa

from fieldsales import create_app
from fieldsales.common import DAY_MS, now_ms
from fieldsales.extensions import db
from fieldsales.locations.partitions import DEFAULT, month_of
from fieldsales.users.credentials import hash_password
from fieldsales.users.models import User
from tests.factories import PASSWORD, Phone, changes, config_for, ping_record
from tests.support.partitions import ON_POSTGRESQL, partition_of, partitions

BEFORE = "9c34c3f06726"  # main's head before the pings were partitioned
INSERT = sa.text(
    "INSERT INTO location_pings (id, rep_id, recorded_at, received_at, latitude, longitude, "
    "flags, flagged) VALUES (:id, :rep_id, :recorded_at, :received_at, 52.5, 13.4, :flags, "
    ":flagged)")


def _key(app) -> list[str]:
    with app.app_context():
        return sa.inspect(db.engine).get_pk_constraint("location_pings")["constrained_columns"]


def _stored(app) -> set[tuple]:
    with app.app_context():
        rows = db.session.execute(sa.text(
            "SELECT id, rep_id, recorded_at, flags FROM location_pings")).all()
        db.session.rollback()
    return {tuple(row) for row in rows}


def test_the_migration_converts_a_filled_database_and_pushes_go_on(make_database):
    app = create_app(config_for(make_database("ping_migration")))
    with app.app_context():
        flask_migrate.upgrade(revision=BEFORE)
    now = now_ms()
    rep_id = "rep-before"
    with app.app_context():  # by SQL: the models are ahead of this revision
        db.session.execute(sa.text(
            "INSERT INTO users (id, email, name, role, password_hash, active, created_at) "
            "VALUES (:id, 'rep@before.example', 'Rep', 'rep', '!', true, :now)"),
            {"id": rep_id, "now": now})
        db.session.commit()
    pings = [{"id": f"month{shift + 4}", "recorded_at": month_of(now, shift=shift)[1] + DAY_MS,
              "flags": ""} for shift in range(-4, 2)]
    implausible = [{"id": "in1970", "recorded_at": 1_000, "flags": "stale"},
                   {"id": "ahead", "recorded_at": month_of(now, shift=24)[1], "flags": "future"}]
    rows = [{**ping, "rep_id": rep_id, "received_at": now, "flagged": bool(ping["flags"])}
            for ping in pings + implausible]
    with app.app_context():
        db.session.execute(INSERT, rows)
        db.session.commit()
    before = _stored(app)

    with app.app_context():
        flask_migrate.upgrade()

    assert _stored(app) == before and len(before) == len(rows)
    assert _key(app) == ["id", "recorded_at"]
    if ON_POSTGRESQL:
        # The data's months (the plausible ones) and three past the latest, each holding its
        # pings; the implausible times in the default partition.
        assert partition_of(app) == {**{ping["id"]: month_of(ping["recorded_at"])[0]
                                        for ping in pings},
                                     "in1970": DEFAULT, "ahead": DEFAULT}
        months = {name for name in partitions(app) if name != DEFAULT}
        assert months == {month_of(now, shift=shift)[0] for shift in range(-4, 5)}

    with app.app_context():  # the models match the database again: a password to sign in
        db.session.get(User, rep_id).password_hash = hash_password(password=PASSWORD)
        db.session.commit()
    client = app.test_client()
    token = client.post("/api/v1/auth/token",
                        json={"email": "rep@before.example", "password": PASSWORD})
    phone = Phone(client, {"Authorization": f"Bearer {token.json['access_token']}"})
    retry = {"id": "month4", "recorded_at": pings[4]["recorded_at"], "latitude": 52.5,
             "longitude": 13.4, "accuracy_m": None, "speed_mps": None, "battery_pct": None}
    new = ping_record()
    result = phone.push(changes(location_pings={"created": [retry, new]}))
    assert result["accepted"]["location_pings"] == 2 and result["quarantined"] == []
    assert len(_stored(app)) == len(rows) + 1  # the retry met its stored copy
    if ON_POSTGRESQL:
        assert partition_of(app)[new["id"]] == month_of(new["recorded_at"])[0]

    with app.app_context():
        flask_migrate.downgrade(revision=BEFORE)
        if ON_POSTGRESQL:
            assert db.session.scalar(sa.text(
                "SELECT relkind FROM pg_class WHERE oid = 'location_pings'::regclass")) == "r"
            db.session.rollback()
    assert len(_stored(app)) == len(rows) + 1 and _key(app) == ["id"]
    if ON_POSTGRESQL:
        assert partitions(app) == {}

    with app.app_context():
        flask_migrate.upgrade()  # and up again, on the rows the downgrade kept
        db.engine.dispose()
    assert len(_stored(app)) == len(rows) + 1 and _key(app) == ["id", "recorded_at"]
