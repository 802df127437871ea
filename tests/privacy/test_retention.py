"""Retention (fieldsales/privacy/retention.py): each kind of data is kept as long as its window
says, and the `retention` job deletes exactly what is past it."""
import pytest

from fieldsales.auth.models import LoginFailure
from fieldsales.changes.models import AccessChange
from fieldsales.common import DAY_MS, HOUR_MS, now_ms
from fieldsales.jobs.models import JobRun
from fieldsales.locations.models import LocationPing, PositionView
from fieldsales.locations.partitions import ensure_ping_partitions
from fieldsales.sync.models import QuarantinedRecord, SyncLog
from fieldsales.users.models import AuthToken
from tests.support.partitions import partition_of, partitions, postgresql_only

NOW = now_ms()


def ago(days: float) -> int:
    return int(NOW - days * DAY_MS)


@pytest.fixture
def history(world, team):
    """For each kind, rows just past its window (`old`) and just inside it (`kept`)."""
    rep, manager = team.rep, team.manager
    made: dict[str, dict[str, list]] = {}

    def rows(kind, model, old, kept):
        made[kind] = {"old": [world.add(model, **fields) for fields in old],
                      "kept": [world.add(model, **fields) for fields in kept]}

    rows("location_pings", LocationPing,
         [dict(rep_id=rep.id, recorded_at=ago(days), latitude=52.0, longitude=4.0)
          for days in (91, 200, 400)],
         [dict(rep_id=rep.id, recorded_at=ago(89), latitude=52.0, longitude=4.0)])
    rows("sync_log", SyncLog,
         [dict(user_id=rep.id, direction="pull", outcome="ok", started_at=ago(91))],
         [dict(user_id=rep.id, direction="push", outcome="ok", started_at=ago(89))])
    rows("login_failures", LoginFailure,
         [dict(email="x@example.com", address="10.0.0.1", failed_at=ago(1.1))],
         [dict(email="x@example.com", address="10.0.0.1", failed_at=NOW - HOUR_MS)])
    rows("access_changes", AccessChange,
         [dict(table_name="customers", record_id="c1", user_id=rep.id, granted=False,
               stamp=ago(31))],
         [dict(table_name="customers", record_id="c2", user_id=rep.id, granted=True,
               stamp=ago(29))])
    rows("position_views", PositionView,
         [dict(rep_id=rep.id, viewer_id=manager.id, viewed_at=ago(366), what="activity")],
         [dict(rep_id=rep.id, viewer_id=manager.id, viewed_at=ago(364), what="team_map")])
    rows("auth_tokens", AuthToken,
         [dict(user_id=rep.id, token_hash="a" * 64, expires_at=NOW - 1_000),
          dict(user_id=rep.id, token_hash="b" * 64, expires_at=NOW + DAY_MS,
               revoked_at=NOW - 1_000)],
         [dict(user_id=rep.id, token_hash="c" * 64, expires_at=NOW + DAY_MS)])
    quarantined = dict(user_id=rep.id, table_name="visits", operation="created",
                       payload={"id": "v"}, errors={"id": ["x"]})
    rows("resolved_quarantine", QuarantinedRecord,
         [dict(quarantined, status="discarded", resolved_at=ago(31), received_at=ago(40))],
         [dict(quarantined, status="discarded", resolved_at=ago(29), received_at=ago(40)),
          dict(quarantined, status="pending", received_at=ago(400))])  # pending: never
    rows("job_runs", JobRun,
         [dict(job="demand", started_at=ago(181), finished_at=ago(181), status="ok",
               rows_written=1, trigger="scheduler", host="h", pid=1)],
         [dict(job="demand", started_at=ago(179), finished_at=ago(179), status="ok",
               rows_written=1, trigger="scheduler", host="h", pid=1)])
    return made


MODELS = {"location_pings": LocationPing, "sync_log": SyncLog, "login_failures": LoginFailure,
          "access_changes": AccessChange, "position_views": PositionView,
          "auth_tokens": AuthToken, "resolved_quarantine": QuarantinedRecord,
          "job_runs": JobRun}


def remaining(world, model, ids):
    return {row.id for row in world.rows(model, model.id.in_(ids))}


def test_a_retention_run_deletes_exactly_what_is_past_its_window(app, world, history):
    run = world.run("retention", now=NOW)

    assert run["status"] == "ok", run["error"]
    for kind, rows in history.items():
        model = MODELS[kind]
        assert remaining(world, model, rows["old"]) == set(), kind
        assert remaining(world, model, rows["kept"]) == set(rows["kept"]), kind
    # What this run wrote down counts what it deleted (the old job run goes as it starts).
    assert run["rows_written"] == sum(len(rows["old"]) for kind, rows in history.items()
                                      if kind != "job_runs")


def test_deletes_go_in_bounded_batches_until_nothing_is_left(app, world, team, monkeypatch):
    monkeypatch.setitem(app.config, "RETENTION_BATCH", 2)
    old = [world.ping(rep=team.rep, at=ago(100) + n) for n in range(7)]
    kept = world.ping(rep=team.rep, at=ago(1))

    run = world.run("retention", now=NOW)

    assert run["rows_written"] == 7
    assert remaining(world, LocationPing, [*old, kept]) == {kept}


def test_a_window_of_0_keeps_that_kind_forever(app, world, team, monkeypatch):
    monkeypatch.setitem(app.config, "RETENTION_PING_DAYS", 0)
    ancient = world.ping(rep=team.rep, at=ago(3650))

    world.run("retention", now=NOW)

    assert remaining(world, LocationPing, [ancient]) == {ancient}


def test_retention_is_a_scheduled_job_run_by_the_cli(app, world, team):
    old = world.ping(rep=team.rep, at=ago(120))

    result = app.test_cli_runner().invoke(args=["jobs", "run", "retention"])

    assert result.exit_code == 0, result.output
    assert result.output.startswith("retention: ok")
    assert remaining(world, LocationPing, [old]) == set()


def test_a_ping_is_deleted_by_its_id_and_time_so_a_newer_one_of_the_same_id_stays(
        app, world, team):
    world.ping(rep=team.rep, at=ago(120), id="same-id")
    world.ping(rep=team.rep, at=ago(1), id="same-id")

    world.run("retention", now=NOW)

    assert [p.recorded_at for p in world.rows(LocationPing, LocationPing.id == "same-id")] == [
        ago(1)]


@postgresql_only
def test_on_postgresql_whole_months_past_the_window_go_as_partitions(app, world, team):
    with app.app_context():
        ensure_ping_partitions(now=ago(200), months_ahead=8)
    old = world.ping(rep=team.rep, at=ago(180))
    edge = world.ping(rep=team.rep, at=ago(91))  # its month straddles the cutoff: a batch
    kept = world.ping(rep=team.rep, at=ago(30))
    month = partition_of(app)[old]

    run = world.run("retention", now=NOW)

    assert run["status"] == "ok", run["error"]
    assert month not in partitions(app)
    assert remaining(world, LocationPing, [old, edge, kept]) == {kept}


def test_reports_on_past_periods_still_answer_from_the_stored_scores(client, world, team):
    from datetime import UTC, datetime

    from fieldsales.scoring.sql import day_start
    day = day_start(ago(120))
    pings = [world.add(LocationPing, rep_id=team.rep.id, recorded_at=day + (9 + n) * HOUR_MS,
                       latitude=52.0, longitude=4.0 + n / 100, distance_from_previous_m=680.0)
             for n in range(3)]
    world.run("productivity", now=day + 20 * HOUR_MS)  # the day is scored while it is kept
    query = f"period=day&date={datetime.fromtimestamp(day / 1000, UTC).date().isoformat()}"

    def travelled():
        response = client.get(f"/api/v1/teams/{team.manager.team_id}/overview?{query}",
                              headers=team.headers["manager"])
        assert response.status_code == 200, response.json
        (mine,) = [r for r in response.json["reps"] if r["rep"]["id"] == team.rep.id]
        return mine["figures"]["travel_distance_m"]

    before = travelled()
    assert world.run("retention", now=NOW)["status"] == "ok"

    assert remaining(world, LocationPing, pings) == set()  # the positions are gone
    assert travelled() == before == 3 * 680.0  # the day's figures are the scores'
