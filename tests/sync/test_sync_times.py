"""Device times (push rule 7, docs/sync.md "Device times"): every time a phone reports is
judged against the server's receipt. What cannot be true is quarantined with the reason; what
is only odd is stored and flagged in `time_flags`; targets count a time no later than the
server knew of it."""
import pytest

from fieldsales.common import DAY_MS, HOUR_MS, MINUTE_MS, now_ms
from fieldsales.extensions import db
from fieldsales.feedback.models import Feedback
from fieldsales.locations.models import LocationPing
from fieldsales.orders.models import Order, OrderLine
from fieldsales.sync.models import QuarantinedRecord
from fieldsales.targets import service as targets
from fieldsales.targets.models import Target
from fieldsales.tasks.models import Task
from fieldsales.visits.models import Visit
from tests.factories import (
    changes,
    feedback_record,
    line_record,
    order_record,
    ping_record,
    stored,
    uid,
    visit_record,
)

YEAR_MS = 365 * DAY_MS


def visit_at(customer, check_in_at, check_out_at=None, **overrides):
    return visit_record(customer, check_in_at=check_in_at, check_out_at=check_out_at,
                        **overrides)


def refused(result) -> dict:
    """Quarantined records of a push answer: id -> errors."""
    return {item["id"]: item["errors"] for item in result["quarantined"]}


def task_record(world, completed_at=None, **overrides):
    """A task the rep makes on the phone, done at `completed_at` (open without it)."""
    return {"id": uid("t"), "customer_id": world.customer, "title": "Call back",
            "category": "selling", "due_at": None,
            "status": "open" if completed_at is None else "done",
            "completed_at": completed_at, **overrides}


# -- what cannot be true: quarantined ---------------------------------------------------------

def test_a_visit_400_days_ahead_is_quarantined_with_the_reason_and_the_rest_is_stored(
        world, app, phone):
    ahead = visit_at(world.customer, now_ms() + 400 * DAY_MS)
    fine = visit_at(world.customer, now_ms() - HOUR_MS, now_ms() - 30 * MINUTE_MS)
    result = phone.push(changes(visits={"created": [ahead, fine]}))
    assert result["accepted"]["visits"] == 1
    assert refused(result) == {ahead["id"]: {"check_in_at": [
        "Is more than 1 day after the server received it: the phone's clock is wrong."]}}
    assert [r["id"] for r in stored(app, Visit)] == [fine["id"]]
    [entry] = stored(app, QuarantinedRecord)
    assert entry["payload"]["check_in_at"] == ahead["check_in_at"]  # kept whole, as pushed


def test_an_order_dated_a_year_ahead_is_quarantined_and_its_lines_with_it(world, app, phone):
    order = order_record(world.customer, ordered_at=now_ms() + YEAR_MS,
                         requested_delivery_at=now_ms() + YEAR_MS + DAY_MS)
    line = line_record(order["id"], world.product)
    result = phone.push(changes(orders={"created": [order]}, order_lines={"created": [line]}))
    assert set(refused(result)[order["id"]]) == {"ordered_at"}
    assert refused(result)[line["id"]] == {"order_id": ["No order of yours with this id."]}
    assert stored(app, Order) == [] and stored(app, OrderLine) == []


def test_a_check_out_before_its_check_in_is_quarantined_also_in_a_later_update(
        world, app, phone):
    start = now_ms() - 2 * HOUR_MS
    backwards = visit_at(world.customer, start, start - MINUTE_MS)
    result = phone.push(changes(visits={"created": [backwards]}))
    assert refused(result) == {backwards["id"]: {"check_out_at": [
        "Must not be before check_in_at."]}}

    open_visit = visit_at(world.customer, start)
    phone.push(changes(visits={"created": [open_visit]}))
    phone.pull()
    result = phone.push(changes(visits={"updated": [{"id": open_visit["id"],
                                                     "check_out_at": start - 1}]}))
    assert set(refused(result)[open_visit["id"]]) == {"check_out_at"}
    assert stored(app, Visit)[0]["check_out_at"] is None
    phone.push(changes(visits={"updated": [{"id": open_visit["id"], "check_out_at": start}]}))
    assert stored(app, Visit)[0]["check_out_at"] == start  # zero minutes on site is possible


@pytest.mark.parametrize("table, column", [
    ("visits", "check_in_at"), ("visits", "check_out_at"), ("tasks", "completed_at"),
    ("tasks", "due_at"), ("feedback", "recorded_at"), ("orders", "ordered_at"),
    ("orders", "requested_delivery_at"),
])
def test_a_time_before_2000_is_quarantined_in_every_table(world, app, phone, table, column):
    """A phone whose clock was reset says 1970."""
    records = {
        "visits": lambda: visit_at(world.customer, now_ms() - HOUR_MS, now_ms()),
        "tasks": lambda: task_record(world, now_ms() - HOUR_MS, due_at=now_ms()),
        "feedback": lambda: feedback_record(world.customer),
        "orders": lambda: order_record(world.customer),
    }
    record = {**records[table](), column: 86_400_000}  # 1970-01-02
    if column == "check_in_at":
        record["check_out_at"] = None
    result = phone.push(changes(**{table: {"created": [record]}}))
    assert refused(result) == {record["id"]: {column: [
        "Must be after 2000-01-01: the phone's clock was not set."]}}


def test_a_requested_delivery_before_the_day_of_the_order_is_quarantined(world, app, phone):
    ordered_at = now_ms() - HOUR_MS
    same_day = order_record(world.customer, ordered_at=ordered_at,
                            requested_delivery_at=ordered_at - 20 * HOUR_MS)  # a picked date
    before = order_record(world.customer, ordered_at=ordered_at,
                          requested_delivery_at=ordered_at - 2 * DAY_MS)
    result = phone.push(changes(orders={"created": [same_day, before]}))
    assert refused(result) == {before["id"]: {"requested_delivery_at": [
        "Must not be more than 1 day before ordered_at."]}}
    assert [r["id"] for r in stored(app, Order)] == [same_day["id"]]


def test_a_planned_time_may_lie_ahead_but_not_beyond_the_horizon(world, app, phone):
    next_year = task_record(world, due_at=now_ms() + YEAR_MS)
    overdue = task_record(world, due_at=now_ms() - 60 * DAY_MS)  # long overdue: normal
    soon = order_record(world.customer, requested_delivery_at=now_ms() + 90 * DAY_MS)
    assert phone.push(changes(tasks={"created": [next_year, overdue]},
                              orders={"created": [soon]}))["quarantined"] == []
    assert {r["id"]: r["time_flags"] for r in stored(app, Task)
            if r["id"] != world.task} == {next_year["id"]: None, overdue["id"]: None}

    far_task = task_record(world, due_at=now_ms() + 3 * YEAR_MS)
    far = order_record(world.customer, requested_delivery_at=now_ms() + 3 * YEAR_MS)
    result = phone.push(changes(tasks={"created": [far_task]}, orders={"created": [far]}))
    assert refused(result) == {
        far_task["id"]: {"due_at": ["Must be at most 730 days ahead."]},
        far["id"]: {"requested_delivery_at": ["Must be at most 730 days ahead."]}}


def test_times_sent_back_unchanged_are_not_judged_again(world, app, client, team, phone):
    """A task the manager set due in three years (REST): the rep's phone sends it back whole
    when completing it, and the completion is stored."""
    response = client.post("/api/v1/tasks", headers=team.headers["manager"], json={
        "assigned_rep_id": team.rep.id, "customer_id": world.customer, "title": "Renewal",
        "category": "selling", "due_at": now_ms() + 3 * YEAR_MS})
    task = phone.pull()["changes"]["tasks"]["created"]
    [given] = [t for t in task if t["id"] == response.json["id"]]
    done = {**given, "status": "done", "completed_at": now_ms() - MINUTE_MS}
    assert phone.push(changes(tasks={"updated": [done]}))["quarantined"] == []
    assert stored(app, Task, id=given["id"])[0]["status"] == "done"


def test_the_limits_are_settings(world, app, phone, monkeypatch):
    monkeypatch.setitem(app.config, "DEVICE_TIME_SKEW_ALLOWANCE_S", 3600)
    monkeypatch.setitem(app.config, "DEVICE_TIME_PLAN_HORIZON_DAYS", 30)
    ahead = visit_at(world.customer, now_ms() + 2 * HOUR_MS)
    far = order_record(world.customer, requested_delivery_at=now_ms() + 40 * DAY_MS)
    result = phone.push(changes(visits={"created": [ahead]}, orders={"created": [far]}))
    assert refused(result) == {
        ahead["id"]: {"check_in_at": [
            "Is more than 1 hour after the server received it: the phone's clock is wrong."]},
        far["id"]: {"requested_delivery_at": ["Must be at most 30 days ahead."]}}


def test_an_admin_replays_a_quarantined_time_once_fixed(world, app, client, team, phone):
    ahead = visit_at(world.customer, now_ms() + 400 * DAY_MS)
    phone.push(changes(visits={"created": [ahead]}))
    [entry] = stored(app, QuarantinedRecord)
    url = f"/api/v1/sync/quarantine/{entry['id']}/replay"
    admin = team.headers["admin"]
    still = client.post(url, headers=admin)
    assert still.status_code == 422 and set(still.json["error"]["details"]) == {"check_in_at"}
    fixed = {**ahead, "check_in_at": now_ms() - HOUR_MS}
    assert client.post(url, headers=admin, json={"record": fixed}).status_code == 200
    assert [r["check_in_at"] for r in stored(app, Visit)] == [fixed["check_in_at"]]


# -- what is only odd: stored and flagged -------------------------------------------------------

def test_odd_times_are_stored_and_flagged_in_every_table(world, app, client, team, phone):
    now = now_ms()
    ahead = visit_at(world.customer, now + 2 * HOUR_MS)  # the phone's clock runs ahead
    late = visit_at(world.customer, now - 40 * DAY_MS, now - 40 * DAY_MS + HOUR_MS)
    clean = visit_at(world.customer, now - HOUR_MS, now - MINUTE_MS)
    old_feedback = feedback_record(world.customer, recorded_at=now - 60 * DAY_MS)
    future_order = order_record(world.customer, ordered_at=now + 3 * HOUR_MS)
    task = task_record(world, now + 20 * HOUR_MS)
    result = phone.push(changes(
        visits={"created": [ahead, late, clean]}, feedback={"created": [old_feedback]},
        orders={"created": [future_order]}, tasks={"created": [task]}))
    assert result["quarantined"] == []
    flags = {r["id"]: r["time_flags"]
             for model in (Visit, Feedback, Order, Task) for r in stored(app, model)}
    assert flags == {ahead["id"]: "future", late["id"]: "stale", clean["id"]: None,
                     old_feedback["id"]: "stale", future_order["id"]: "future",
                     task["id"]: "future", world.task: None}
    pulled = phone.pull()["changes"]
    assert all("time_flags" not in r for r in pulled["visits"]["created"])  # never pulled
    manager = team.headers["manager"]  # the office reads them through REST
    assert client.get(f"/api/v1/orders/{future_order['id']}",
                      headers=manager).json["time_flags"] == "future"
    assert client.get(f"/api/v1/tasks/{task['id']}", headers=manager).json["time_flags"] == (
        "future")


def test_a_few_seconds_of_skew_are_no_flag(world, app, phone):
    record = visit_at(world.customer, now_ms() + 60_000)  # within the 5 minute tolerance
    phone.push(changes(visits={"created": [record]}))
    assert stored(app, Visit)[0]["time_flags"] is None


def test_the_flags_are_judged_again_when_the_row_is_written_again(world, app, phone):
    record = visit_at(world.customer, now_ms() - HOUR_MS, now_ms() + 3 * HOUR_MS)
    phone.push(changes(visits={"created": [record]}))
    assert stored(app, Visit)[0]["time_flags"] == "future"
    phone.pull()
    phone.push(changes(visits={"updated": [{**record, "check_out_at": now_ms()}]}))
    assert stored(app, Visit)[0]["time_flags"] is None


def test_pings_are_only_ever_flagged_whatever_their_time(world, app, phone):
    """Push rule 7: pings with implausible times are flagged, never dropped."""
    reset_clock = ping_record(86_400_000)
    far_ahead = ping_record(now_ms() + 400 * DAY_MS)
    result = phone.push(changes(location_pings={"created": [reset_clock, far_ahead]}))
    assert result["quarantined"] == []
    assert {r["id"]: r["flags"] for r in stored(app, LocationPing)} == {
        reset_clock["id"]: "stale", far_ahead["id"]: "future"}


# -- what counts: no later than the server knew of it -----------------------------------------

@pytest.mark.parametrize("metric", ["visits", "orders", "tasks_done"])
def test_a_time_flagged_future_counts_when_received_not_in_a_period_to_come(
        world, app, phone, metric):
    now = now_ms()
    ahead = now + 20 * HOUR_MS  # the phone's clock is 20 hours fast: stored, flagged
    bodies = {
        "visits": changes(visits={"created": [visit_at(world.customer, ahead)]}),
        "orders": changes(orders={"created": [order_record(world.customer, ordered_at=ahead,
                                                           requested_delivery_at=None)]}),
        "tasks_done": changes(tasks={"created": [task_record(world, ahead)]}),
    }
    assert phone.push(bodies[metric])["quarantined"] == []
    with app.app_context():
        rep = world.team.rep
        present, to_come = (Target(team_id=rep.team_id, rep_id=rep.id, metric=metric,
                                   period="day", period_start=start, period_end=start + 2 * HOUR_MS,
                                   goal=1)
                            for start in (now - HOUR_MS, ahead - HOUR_MS))
        db.session.add_all([present, to_come])
        db.session.flush()
        figures = targets.attainment(targets=[present, to_come], now=ahead + 2 * HOUR_MS)
        assert (figures[present.id]["actual"], figures[to_come.id]["actual"]) == (1, 0)
        db.session.rollback()
