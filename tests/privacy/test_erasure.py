"""Erasure (users.service.erase, privacy/erasure.py): a person's positions and free text go,
their name and email become a tombstone that frees the email, and the business records stay."""
import json

import pytest

from fieldsales.auth.models import LoginFailure
from fieldsales.feedback.models import Feedback
from fieldsales.locations.models import LocationPing, PositionView
from fieldsales.orders.models import Order, OrderLine
from fieldsales.plans.models import PlannedVisit
from fieldsales.sync.models import QuarantinedRecord, SyncLog
from fieldsales.tasks.models import Task
from fieldsales.users.models import User, UserErasure
from fieldsales.visits.models import Visit
from tests.factories import PASSWORD, at

DAY = "2026-11-10"


def field_day(world, team, rep):
    """A day of the rep's: pings, a visit with notes, a done task, feedback, an order, a
    quarantined record, sync history, a failed sign-in and a manager's look at their day."""
    shop = world.customer(team=team.manager, name="Shop")
    product = world.product(price=10.0)
    world.ping(rep=rep, at=at(DAY, 9), lat=52.1, lon=4.1)
    world.ping(rep=rep, at=at(DAY, 10), lat=52.2, lon=4.2)
    visit = world.visit(rep=rep, customer=shop, at=at(DAY, 9, 30), notes="Owner was grumpy")
    world.task(rep=rep, customer=shop, completed_at=at(DAY, 11), completion_note="Done late",
               latitude=52.0, longitude=4.0)
    world.feedback(rep=rep, customer=shop, at=at(DAY, 9, 40), rating=2, comment="Too pricey")
    order = world.order(rep=rep, customer=shop, at=at(DAY, 9, 45), lines=[(product, 3, 10.0)],
                        notes="Call before delivery")
    world.add(QuarantinedRecord, user_id=rep.id, table_name="visits", operation="created",
              payload={"id": "v9", "check_in_latitude": 52.3}, errors={"customer_id": ["?"]})
    world.add(SyncLog, user_id=rep.id, direction="push", outcome="ok", device_id="phone")
    world.add(LoginFailure, email=rep.email, address="10.1.1.1")
    world.add(PositionView, rep_id=rep.id, viewer_id=team.manager.id, what="activity")
    world.add(PlannedVisit, rep_id=rep.id, customer_id=shop, planned_date=DAY, sequence=1,
              status="skipped", skip_reason="My kid was ill")
    return {"visit": visit, "order": order}


@pytest.fixture
def leaver(make_user, team):
    return make_user("rep", manager=team.manager, name="Lea Leaver")


def erase(client, team, user_id, who="admin"):
    return client.delete(f"/api/v1/users/{user_id}", query_string={"erase": "true"},
                         headers=team.headers[who])


def test_an_erased_reps_positions_and_words_are_gone_and_the_sales_stay(
        client, world, team, leaver, login):
    theirs = field_day(world, team, leaver)
    others = field_day(world, team, team.rep2)
    token = login(leaver)

    assert erase(client, team, leaver.id).status_code == 204

    assert world.rows(LocationPing, LocationPing.rep_id == leaver.id) == []
    visit = world.one(Visit, Visit.rep_id == leaver.id)
    assert (visit.check_in_latitude, visit.check_in_longitude, visit.notes) == (None, None, None)
    assert visit.verified and visit.customer_id  # still a visit at that customer
    task = world.one(Task, Task.assigned_rep_id == leaver.id)
    assert (task.latitude, task.longitude, task.completion_note) == (None, None, None)
    assert task.status == "done"
    assert world.one(Feedback, Feedback.rep_id == leaver.id).comment is None
    skipped = world.one(PlannedVisit, PlannedVisit.rep_id == leaver.id)
    assert (skipped.status, skipped.skip_reason) == ("skipped", None)
    order = world.one(Order, Order.rep_id == leaver.id)
    assert order.id == theirs["order"] and order.notes is None
    assert [line.quantity for line in world.rows(OrderLine, OrderLine.order_id == order.id)] \
        == [3]
    for model, column in ((QuarantinedRecord, QuarantinedRecord.user_id),
                          (SyncLog, SyncLog.user_id), (PositionView, PositionView.rep_id)):
        assert world.rows(model, column == leaver.id) == [], model
    assert world.rows(LoginFailure, LoginFailure.email == leaver.email) == []
    # Signed out everywhere, and their name and email are a tombstone.
    assert client.get("/api/v1/users/me", headers=token).status_code == 401
    tombstone = world.get(User, leaver.id)
    assert (tombstone.name, tombstone.active) == ("Erased user", False)
    assert leaver.email not in tombstone.email and tombstone.erased_at is not None
    # Nobody else's data was touched.
    assert len(world.rows(LocationPing, LocationPing.rep_id == team.rep2.id)) == 2
    assert world.get(Visit, others["visit"]).notes == "Owner was grumpy"


def test_the_erasure_is_recorded_without_personal_data(client, world, team, leaver):
    field_day(world, team, leaver)

    erase(client, team, leaver.id)

    record = world.one(UserErasure, UserErasure.user_id == leaver.id)
    assert record.erased_by_id == team.admin.id and record.erased_at
    assert record.removed["location_pings"] == 2 and record.removed["visits"] == 1
    assert record.removed["feedback"] == 1 and record.removed["auth_tokens"] >= 0
    text = json.dumps(record.removed)
    assert leaver.email not in text and leaver.name not in text


def test_an_erased_email_can_be_used_again(client, world, team, leaver):
    erase(client, team, leaver.id)

    again = client.post("/api/v1/users", headers=team.headers["admin"], json={
        "email": leaver.email, "password": PASSWORD, "name": "Lea Again", "role": "rep",
        "manager_id": team.manager.id})

    assert again.status_code == 201, again.json
    assert again.json["id"] != leaver.id


def test_a_removed_user_can_still_be_erased_once(client, world, team, leaver):
    assert client.delete(f"/api/v1/users/{leaver.id}",
                         headers=team.headers["admin"]).status_code == 204
    world.ping(rep=leaver, at=at(DAY, 9))

    assert erase(client, team, leaver.id).status_code == 204
    assert world.rows(LocationPing, LocationPing.rep_id == leaver.id) == []
    assert erase(client, team, leaver.id).status_code == 404


@pytest.mark.parametrize("target, status, code", [
    ("nobody", 404, "not_found"),
    ("admin", 409, "cannot_erase_self"),
])
def test_an_unknown_user_is_404_and_erasing_yourself_is_refused(client, team, target, status,
                                                                code):
    user_id = team.admin.id if target == "admin" else "no-such-user"

    response = erase(client, team, user_id)

    assert (response.status_code, response.json["error"]["code"]) == (status, code)


def test_only_admins_erase(client, team, leaver):
    assert erase(client, team, leaver.id, who="manager").status_code == 403
    assert client.get("/api/v1/users/me", headers=team.headers["rep"]).status_code == 200


def test_a_rep_with_customers_hands_them_over_first(client, world, team, leaver):
    world.customer(rep=leaver, name="Theirs")

    response = erase(client, team, leaver.id)

    assert (response.status_code, response.json["error"]["code"]) == (409, "rep_has_work")
    assert world.get(User, leaver.id).erased_at is None


def test_flask_users_erase_does_the_same_from_the_command_line(app, world, team, leaver):
    field_day(world, team, leaver)
    cli = app.test_cli_runner()

    refused = cli.invoke(args=["users", "erase", leaver.email], input="n\n")
    assert refused.exit_code != 0 and world.get(User, leaver.id).erased_at is None
    done = cli.invoke(args=["users", "erase", leaver.email, "--yes"])

    assert done.exit_code == 0, done.output
    assert f"Erased user {leaver.id}" in done.output and "location_pings 2" in done.output
    assert world.one(UserErasure, UserErasure.user_id == leaver.id).erased_by_id is None
    unknown = cli.invoke(args=["users", "erase", leaver.email, "--yes"])
    assert unknown.exit_code != 0 and "No user" in unknown.output
