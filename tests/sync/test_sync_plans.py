"""Sync schema version 2 (sync contract, "Schema version 2"): planned visits reach the phones
of version 2 only, a phone may only skip them, and a verified visit carries them out."""
from datetime import date, timedelta

import pytest

from fieldsales.common import DAY_MS, now_ms
from fieldsales.extensions import db
from fieldsales.plans.models import PlannedVisit
from fieldsales.sync.models import QuarantinedRecord
from fieldsales.users.models import Team
from fieldsales.visits.models import Visit
from tests.factories import World, changes, ids, local_day, stored, uid, visit_record

V1_TABLES = ["customers", "products", "tasks", "visits", "location_pings", "feedback", "orders",
             "order_lines"]


def _day(offset: int = 0, zone: str = "UTC") -> str:
    return (date.fromisoformat(local_day(now_ms(), zone)) + timedelta(days=offset)).isoformat()


@pytest.fixture
def plan(app, world):
    """plan(day=..., customer=..., rep=...): a stop of the rep's plan at Kiosk Mitte today."""
    def make(*, day=None, customer=None, rep=None, **fields):
        return World(app).planned_visit(rep=rep or world.team.rep,
                                        customer=customer or world.customer,
                                        day=day or _day(), id=uid("pv"), **fields)
    return make


def _record(pulled: dict, planned_id: str) -> dict:
    for kind in ("created", "updated"):
        for record in pulled["changes"]["planned_visits"][kind]:
            if record["id"] == planned_id:
                return record
    raise AssertionError(f"{planned_id} was not pulled")


def _skip(pulled_record: dict, reason="Closed for renovation", **overrides) -> dict:
    return {**pulled_record, "status": "skipped", "skip_reason": reason,
            "_status": "updated", "_changed": "status,skip_reason", **overrides}


def _visit_at(world, check_in_at=None, **overrides) -> dict:
    # Checked in at Kiosk Mitte's spot: verified.
    check_in_at = now_ms() - 3_600_000 if check_in_at is None else check_in_at
    return visit_record(world.customer, check_in_at=check_in_at,
                        check_out_at=check_in_at + 600_000, **overrides)


# -- what each version pulls -------------------------------------------------------------------

def test_a_version_1_phone_never_gets_planned_visits_nor_the_visit_column(plan, world, phone):
    plan()
    phone.push(changes(visits={"created": [_visit_at(world)]}))
    for params in ({}, {"schema_version": 1}):
        pulled = phone.pull(None, **params)
        assert sorted(pulled["changes"]) == sorted(V1_TABLES)
        visit = pulled["changes"]["visits"]["created"][0]
        assert "planned_visit_id" not in visit


def test_a_version_2_phone_gets_its_planned_visits_and_the_visit_column(plan, world, phone):
    planned = plan(sequence=2, planned_arrival_at=now_ms(), planned_duration_s=900)
    phone.push(changes(visits={"created": [_visit_at(world, check_in_at=now_ms() - 9 * DAY_MS)]}))
    pulled = phone.pull(None, schema_version=2)
    assert sorted(pulled["changes"]) == sorted([*V1_TABLES, "planned_visits"])
    record = _record(pulled, planned)
    assert record == {"id": planned, "customer_id": world.customer, "planned_date": _day(),
                      "sequence": 2, "planned_arrival_at": planned.planned_arrival_at,
                      "planned_duration_s": 900, "reason": "cadence", "status": "planned",
                      "skip_reason": None, "visit_id": None}
    assert pulled["changes"]["visits"]["created"][0]["planned_visit_id"] is None


def test_the_rep_pulls_own_planned_visits_from_7_days_ago_to_14_days_ahead(plan, world, phone):
    inside = {plan(day=_day(offset)) for offset in (-7, 0, 14)}
    plan(day=_day(-8))
    plan(day=_day(15))
    plan(rep=world.team.rep2)
    pulled = phone.pull(None, schema_version=2)
    assert ids(pulled, "planned_visits", "created") == inside


def test_the_days_are_the_teams_local_days(plan, app, world, phone):
    zone = "Pacific/Kiritimati"  # UTC+14: its today is often the UTC tomorrow
    with app.app_context():
        db.session.get(Team, world.team.rep.team_id).time_zone = zone
        db.session.commit()
    first, last = plan(day=_day(-7, zone)), plan(day=_day(14, zone))
    plan(day=_day(-8, zone))
    plan(day=_day(15, zone))
    assert ids(phone.pull(None, schema_version=2), "planned_visits", "created") == {first, last}


def test_a_removed_planned_visit_reaches_the_next_version_2_pull_as_deleted(plan, app, world,
                                                                            phone):
    planned = plan()
    phone.pull(None, schema_version=2)
    with app.app_context():
        db.session.get(PlannedVisit, planned).deleted_at = now_ms()
        db.session.commit()
    assert phone.pull(schema_version=2)["changes"]["planned_visits"]["deleted"] == [planned]


# -- migration sync (WatermelonDB migrationsEnabledAtVersion) ------------------------------------

MIGRATION = ('{"from":1,"tables":["planned_visits"],'
             '"columns":[{"table":"visits","columns":["planned_visit_id"]}]}')


def test_a_phone_upgrading_from_1_gets_every_planned_visit_and_its_visits_whole(plan, app,
                                                                                world, phone):
    phone.pull(None)
    visit = _visit_at(world)
    phone.push(changes(visits={"created": [visit]}))
    phone.pull(schema_version=1)
    planned = plan(day=_day(3))
    old = plan(day=_day(-2))
    task = World(app).task(id=uid("t"), rep=world.team.rep, title="New since")

    pulled = phone.pull(schema_version=2, migration=MIGRATION)
    assert ids(pulled, "planned_visits", "created") == {planned, old}
    updated = pulled["changes"]["visits"]["updated"]
    assert [v["id"] for v in updated] == [visit["id"]]
    assert updated[0]["planned_visit_id"] is None and updated[0]["verified"] is True
    assert ids(pulled, "tasks", "created") == {task}  # the usual changes too
    # After the migration, the phone pulls as usual.
    again = phone.pull(schema_version=2)
    assert not any(again["changes"]["planned_visits"].values())
    assert not any(again["changes"]["visits"].values())


# -- pushing planned visits --------------------------------------------------------------------

def test_a_skip_with_a_reason_is_accepted_and_stored(plan, app, world, phone):
    planned = plan()
    record = _record(phone.pull(None, schema_version=2), planned)
    answer = phone.push(changes(planned_visits={"updated": [_skip(record)]}))
    assert answer["accepted"]["planned_visits"] == 1 and answer["quarantined"] == []
    row = stored(app, PlannedVisit, id=planned)[0]
    assert (row["status"], row["skip_reason"]) == ("skipped", "Closed for renovation")
    assert _record(phone.pull(schema_version=2), planned)["status"] == "skipped"


def test_other_pushed_columns_of_a_planned_visit_are_ignored_as_read_only(plan, app, world, phone):
    planned = plan(sequence=3)
    record = _record(phone.pull(None, schema_version=2), planned)
    phone.push(changes(planned_visits={"updated": [_skip(
        record, sequence=1, customer_id=world.customer2, planned_date="2030-01-01",
        reason="manual", visit_id="v-made-up", planned_arrival_at=None)]}))
    row = stored(app, PlannedVisit, id=planned)[0]
    assert ([row[c] for c in ("status", "sequence", "customer_id", "planned_date", "reason",
                              "visit_id")] == ["skipped", 3, world.customer, _day(), "cadence",
                                               None])


@pytest.mark.parametrize("change, column", [
    ({"status": "skipped", "skip_reason": ""}, "skip_reason"),
    ({"status": "skipped", "skip_reason": "   "}, "skip_reason"),
    ({"status": "skipped", "skip_reason": None}, "skip_reason"),
    ({"status": "done"}, "status"),
    ({"status": "missed"}, "status"),
    ({"status": "planned", "skip_reason": "no time"}, "status"),
])
def test_any_other_change_of_status_is_quarantined(plan, app, world, phone, change, column):
    planned = plan()
    record = _record(phone.pull(None, schema_version=2), planned)
    answer = phone.push(changes(planned_visits={"updated": [{**record, **change}]}))
    assert answer["accepted"]["planned_visits"] == 0
    assert [(q["id"], list(q["errors"])) for q in answer["quarantined"]] == [(planned, [column])]
    assert stored(app, PlannedVisit, id=planned)[0]["status"] == "planned"
    assert stored(app, QuarantinedRecord, record_id=planned)[0]["table_name"] == "planned_visits"


@pytest.mark.parametrize("status", ["done", "missed", "skipped"])
def test_a_skip_of_a_planned_visit_no_longer_planned_is_quarantined(plan, app, world, phone,
                                                                    status):
    planned = plan(status=status, skip_reason="earlier" if status == "skipped" else None)
    record = _record(phone.pull(None, schema_version=2), planned)
    answer = phone.push(changes(planned_visits={"updated": [_skip(record, reason="no time")]}))
    assert [list(q["errors"]) for q in answer["quarantined"]] == [["status"]]
    assert stored(app, PlannedVisit, id=planned)[0]["status"] == status


def test_a_created_planned_visit_is_quarantined_even_when_its_id_exists(plan, app, world, phone):
    planned = plan()
    record = _record(phone.pull(None, schema_version=2), planned)
    made_up = {**record, "id": uid("pv"), "_status": "created"}
    answer = phone.push(changes(planned_visits={"created": [_skip(record), made_up]}))
    assert answer["accepted"]["planned_visits"] == 0
    assert {q["id"] for q in answer["quarantined"]} == {planned, made_up["id"]}
    assert all("_schema" in q["errors"] for q in answer["quarantined"])
    assert stored(app, PlannedVisit, id=planned)[0]["status"] == "planned"
    assert stored(app, PlannedVisit, id=made_up["id"]) == []


def test_an_update_of_a_planned_visit_that_is_not_the_reps_is_quarantined(plan, app, world, phone):
    others = plan(rep=world.team.rep2)
    record = {"id": others, "status": "skipped", "skip_reason": "mine now"}
    unknown = {"id": uid("pv"), "status": "skipped", "skip_reason": "new"}
    answer = phone.push(changes(planned_visits={"updated": [record, unknown]}))
    assert {q["id"] for q in answer["quarantined"]} == {others, unknown["id"]}
    assert stored(app, PlannedVisit, id=others)[0]["status"] == "planned"
    assert stored(app, PlannedVisit, id=unknown["id"]) == []


def test_a_retried_skip_and_visit_push_stores_the_same_and_quarantines_nothing(plan, app, world,
                                                                               phone):
    planned = plan(day=local_day(now_ms() - 3_600_000))
    record = _record(phone.pull(None, schema_version=2), planned)
    body = changes(planned_visits={"updated": [_skip(record)]},
                   visits={"created": [_visit_at(world)]})
    phone.push(body)
    again = phone.push(body)  # the answer was lost: the same push, the same cursor
    assert again["quarantined"] == [] and again["accepted"]["planned_visits"] == 1
    row = stored(app, PlannedVisit, id=planned)[0]
    assert (row["status"], row["skip_reason"]) == ("done", "Closed for renovation")


def test_a_push_answer_counts_planned_visits_only_when_the_phone_has_them(world, phone):
    assert "planned_visits" not in phone.push(changes(visits={"created": []}))["accepted"]
    assert "planned_visits" in phone.push(changes(planned_visits={"updated": []}))["accepted"]


def test_a_push_saying_version_1_knows_no_planned_visits_and_other_versions_are_400(
        client, world, phone):
    headers = {**phone.headers, "Content-Type": "text/plain"}
    body = '{"planned_visits": {"created": [], "updated": [], "deleted": []}}'
    for version, code in (("1", "bad_request"), ("3", "unsupported_schema"),
                          ("x", "unsupported_schema")):
        response = client.post("/api/v1/sync", query_string={"last_pulled_at": "null",
                                                             "schema_version": version},
                               data=body, headers=headers)
        assert response.status_code == 400 and response.json["error"]["code"] == code
    response = client.post("/api/v1/sync", query_string={"last_pulled_at": "null",
                                                         "schema_version": "2"},
                           data=body, headers=headers)
    assert response.status_code == 200


# -- visits carry out planned visits -------------------------------------------------------------

def test_a_verified_visit_without_planned_visit_id_carries_out_the_days_planned_visit(plan,
        app, world, phone):
    visit = _visit_at(world)
    planned = plan(day=local_day(visit["check_in_at"]))
    later = plan(day=local_day(visit["check_in_at"]), sequence=2)
    phone.pull(None, schema_version=2)
    phone.push(changes(visits={"created": [visit]}))
    row = stored(app, PlannedVisit, id=planned)[0]
    assert (row["status"], row["visit_id"]) == ("done", visit["id"])
    assert stored(app, PlannedVisit, id=later)[0]["status"] == "planned"  # one visit, one stop
    assert stored(app, Visit, id=visit["id"])[0]["planned_visit_id"] == planned
    pulled = phone.pull(schema_version=2)
    assert _record(pulled, planned)["status"] == "done"
    assert _record(pulled, planned)["visit_id"] == visit["id"]
    # The visit the phone pushed comes back (as created: new since the pull) with its link.
    assert pulled["changes"]["visits"]["created"][0]["planned_visit_id"] == planned


def test_a_visit_carries_out_a_skipped_planned_visit_too_in_the_same_push(plan, app, world, phone):
    visit = _visit_at(world)
    planned = plan(day=local_day(visit["check_in_at"]))
    record = _record(phone.pull(None, schema_version=2), planned)
    phone.push(changes(planned_visits={"updated": [_skip(record)]},
                       visits={"created": [visit]}))
    assert stored(app, PlannedVisit, id=planned)[0]["status"] == "done"


def test_a_visit_that_is_not_verified_or_on_another_day_or_elsewhere_carries_out_nothing(plan,
        app, world, phone):
    check_in = now_ms() - 3_600_000
    planned = plan(day=local_day(check_in))
    at_other = plan(day=local_day(check_in), customer=world.customer2)
    far = _visit_at(world, check_in_latitude=52.60)  # about 9 km from the customer
    other_day = _visit_at(world, check_in_at=check_in - DAY_MS)
    phone.push(changes(visits={"created": [far, other_day]}))
    assert stored(app, PlannedVisit, id=planned)[0]["status"] == "planned"
    assert stored(app, PlannedVisit, id=at_other)[0]["status"] == "planned"
    assert {v["planned_visit_id"] for v in stored(app, Visit)} == {None}


def test_a_visit_naming_its_planned_visit_carries_it_out(plan, app, world, phone):
    visit = _visit_at(world)
    planned = plan(day=local_day(visit["check_in_at"]), sequence=2)
    first = plan(day=local_day(visit["check_in_at"]), sequence=1)
    phone.push(changes(visits={"created": [{**visit, "planned_visit_id": planned}]}))
    assert stored(app, PlannedVisit, id=planned)[0]["status"] == "done"
    assert stored(app, PlannedVisit, id=first)[0]["status"] == "planned"


def test_a_planned_visit_id_that_is_not_the_reps_stop_at_the_visits_customer_quarantines_it(plan,
        app, world, phone):
    day = local_day(now_ms() - 3_600_000)
    elsewhere = plan(day=day, customer=world.customer2)
    others = plan(day=day, rep=world.team.rep2)
    for planned_id in (elsewhere, others, "no-such-stop"):
        visit = _visit_at(world, planned_visit_id=planned_id)
        answer = phone.push(changes(visits={"created": [visit]}))
        assert [list(q["errors"]) for q in answer["quarantined"]] == [["planned_visit_id"]]
        assert stored(app, Visit, id=visit["id"]) == []
    assert {p["status"] for p in stored(app, PlannedVisit)} == {"planned"}


def test_a_version_1_update_of_a_visit_keeps_its_planned_visit(plan, app, world, phone):
    visit = _visit_at(world)
    planned = plan(day=local_day(visit["check_in_at"]))
    phone.pull(None)
    phone.push(changes(visits={"created": [visit]}))
    phone.pull()
    update = {k: v for k, v in visit.items() if k != "planned_visit_id"}
    phone.push(changes(visits={"updated": [{**update, "notes": "ordered more",
                                            "_status": "updated", "_changed": "notes"}]}))
    row = stored(app, Visit, id=visit["id"])[0]
    assert (row["notes"], row["planned_visit_id"]) == ("ordered more", planned)
    assert stored(app, PlannedVisit, id=planned)[0]["status"] == "done"
