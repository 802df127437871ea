"""The quarantine (admins list and replay refused records) and the sync log for support."""
from fieldsales.customers.models import Customer
from fieldsales.extensions import db
from fieldsales.feedback.models import Feedback
from fieldsales.sync.models import QuarantinedRecord
from fieldsales.tasks.models import Task
from fieldsales.visits.models import Visit
from tests.factories import (
    Phone,
    changes,
    feedback_record,
    ping_record,
    stored,
    visit_record,
)

URL = "/api/v1/sync/quarantine"


def quarantine_some(world, phone, other_phone):
    """Three refused records of the rep, one of the other rep."""
    phone.push(changes(visits={"created": [visit_record("later-customer")]},
                       feedback={"created": [feedback_record(world.customer, rating=9),
                                             feedback_record(world.customer, category="weather")]}))
    other_phone.push(changes(location_pings={"created": [ping_record(lat=95)]}))


def test_admins_list_quarantined_records_newest_first_with_filters(world, client, phone,
                                                                   other_phone, team):
    quarantine_some(world, phone, other_phone)
    admin = team.headers["admin"]
    items = client.get(URL, headers=admin).json["items"]
    assert [(i["table"], i["user_id"]) for i in items] == [
        ("location_pings", team.other_rep.id), ("feedback", team.rep.id),
        ("feedback", team.rep.id), ("visits", team.rep.id)]
    first = items[-1]
    assert set(first) >= {"id", "user_id", "table", "record_id", "operation", "payload",
                          "errors", "received_at", "status"}
    assert first["status"] == "pending" and first["operation"] == "created"

    def listed(**query):
        return [i["id"] for i in client.get(URL, headers=admin, query_string=query).json["items"]]

    assert len(listed(user_id=team.rep.id)) == 3
    assert len(listed(table="feedback")) == 2
    assert len(listed(table="feedback", user_id=team.other_rep.id)) == 0
    assert len(listed(status="pending")) == 4 and listed(status="replayed") == []
    page = client.get(URL, headers=admin, query_string={"limit": 3}).json
    rest = client.get(URL, headers=admin,
                      query_string={"limit": 3, "cursor": page["next_cursor"]}).json
    assert [i["id"] for i in page["items"] + rest["items"]] == listed()
    assert rest["next_cursor"] is None
    assert client.get(URL, headers=admin, query_string={"table": "widgets"}).status_code == 422


def test_only_admins_see_the_quarantine(world, client, team):
    for role in ("manager", "procurement", "rep"):
        assert client.get(URL, headers=team.headers[role]).status_code == 403
        assert client.post(f"{URL}/1/replay", headers=team.headers[role]).status_code == 403


def test_a_quarantined_record_is_replayed_once_its_cause_is_fixed(world, app, client, phone,
                                                                  team):
    record = visit_record("late-customer")
    phone.push(changes(visits={"created": [record]}))
    [entry] = client.get(URL, headers=team.headers["admin"]).json["items"]
    assert entry["payload"] == record and entry["record_id"] == record["id"]

    still = client.post(f"{URL}/{entry['id']}/replay", headers=team.headers["admin"])
    assert still.status_code == 422
    assert still.json["error"]["details"] == {
        "customer_id": ["No customer with this id is assigned to you."]}
    assert stored(app, Visit) == []

    with app.app_context():  # the customer the phone knew about reaches the server
        db.session.add(Customer(id="late-customer", name="Late", latitude=52.52,
                                longitude=13.405, assigned_rep_id=team.rep.id))
        db.session.commit()
    replayed = client.post(f"{URL}/{entry['id']}/replay", headers=team.headers["admin"])
    assert replayed.status_code == 200
    assert replayed.json["status"] == "replayed" and replayed.json["resolved_at"]
    assert replayed.json["resolved_by_id"] == team.admin.id
    [row] = stored(app, Visit)
    assert (row["id"], row["rep_id"], row["verified"]) == (record["id"], team.rep.id, True)
    assert phone.pull(None)["changes"]["visits"]["created"][0]["id"] == record["id"]

    again = client.post(f"{URL}/{entry['id']}/replay", headers=team.headers["admin"])
    assert again.status_code == 409 and again.json["error"]["code"] == "already_resolved"


def test_a_replay_may_carry_a_fixed_record(world, app, client, phone, team):
    bad = feedback_record(world.customer, rating=9)
    phone.push(changes(feedback={"created": [bad]}))
    [entry] = client.get(URL, headers=team.headers["admin"]).json["items"]
    response = client.post(f"{URL}/{entry['id']}/replay", headers=team.headers["admin"],
                           json={"record": {**bad, "rating": 5}})
    assert response.status_code == 200
    assert response.json["replayed_record"]["rating"] == 5
    assert response.json["payload"]["rating"] == 9  # the original is kept
    assert [(r["id"], r["rating"], r["rep_id"]) for r in stored(app, Feedback)] == [
        (bad["id"], 5, team.rep.id)]


def test_a_replay_is_validated_as_the_original_rep(world, app, client, phone, other_phone, team):
    theirs = visit_record(world.foreign_customer, check_in_latitude=48.1, check_in_longitude=11.5)
    other_phone.push(changes(visits={"created": [theirs]}))
    phone.push(changes(visits={"created": [{**theirs, "customer_id": world.customer}]}))
    [entry] = client.get(URL, headers=team.headers["admin"]).json["items"]
    response = client.post(f"{URL}/{entry['id']}/replay", headers=team.headers["admin"])
    assert response.status_code == 422
    assert response.json["error"]["details"] == {
        "id": ["This id cannot be written by you."]}
    assert stored(app, Visit)[0]["rep_id"] == team.other_rep.id


def test_a_replay_of_a_record_removed_on_the_server_meanwhile_is_refused(world, app, client,
                                                                         phone, team):
    task = phone.pull()["changes"]["tasks"]["created"][0]
    phone.push(changes(tasks={"updated": [{**task, "status": "finished"}]}))
    [entry] = client.get(URL, headers=team.headers["admin"]).json["items"]
    assert client.delete(f"/api/v1/tasks/{world.task}",
                         headers=team.headers["manager"]).status_code == 204
    response = client.post(f"{URL}/{entry['id']}/replay", headers=team.headers["admin"],
                           json={"record": {**task, "status": "done"}})
    assert response.status_code == 422
    assert response.json["error"]["details"] == {
        "_schema": ["This record was removed on the server."]}
    assert stored(app, Task)[0]["status"] == "open"


def test_a_fixed_record_must_keep_the_quarantined_records_id(world, app, client, phone, team):
    bad = feedback_record(world.customer, rating=9)
    phone.push(changes(feedback={"created": [bad]}))
    [entry] = client.get(URL, headers=team.headers["admin"]).json["items"]
    for other_id in ("f-someone-else", None):
        response = client.post(f"{URL}/{entry['id']}/replay", headers=team.headers["admin"],
                               json={"record": {**bad, "rating": 5, "id": other_id}})
        assert response.status_code == 422
        assert list(response.json["error"]["details"]) == ["id"]
    assert stored(app, Feedback) == []
    assert client.get(f"{URL}/{entry['id']}", headers=team.headers["admin"]).json[
        "status"] == "pending"


def test_retrying_a_push_with_the_same_bad_record_keeps_one_pending_entry(world, app, client,
                                                                         phone, team):
    bad = feedback_record(world.customer, rating=9)
    no_id = {**ping_record(lat=95), "id": [1]}
    body = changes(feedback={"created": [bad]}, location_pings={"created": [no_id, no_id]})
    answers = [phone.push(body) for _ in range(3)]
    assert all(len(answer["quarantined"]) == 3 for answer in answers)  # every answer says so
    kept = stored(app, QuarantinedRecord)
    assert sorted((q["table_name"], q["record_id"]) for q in kept) == [
        ("feedback", bad["id"]), ("location_pings", None)]

    phone.push(changes(feedback={"created": [{**bad, "rating": 8}],  # not the same payload
                                 "updated": [bad]}))  # nor the same operation
    assert len(stored(app, QuarantinedRecord)) == 4
    other = Phone(client, team.headers["rep2"], device="p2")
    other.push(changes(location_pings={"created": [no_id]}))  # nor the same user
    assert len(stored(app, QuarantinedRecord)) == 5

    first = min(q["id"] for q in kept if q["table_name"] == "feedback")
    client.post(f"{URL}/{first}/discard", headers=team.headers["admin"])
    phone.push(body)  # no pending entry holds it any more
    assert len(stored(app, QuarantinedRecord, table_name="feedback", status="pending")) == 3


def test_a_record_that_should_never_apply_is_discarded(world, client, phone, team):
    phone.push(changes(customers={"created": [{"id": "c-x", "name": "Mine"}]}))
    [entry] = client.get(URL, headers=team.headers["admin"]).json["items"]
    assert client.post(f"{URL}/{entry['id']}/replay",
                       headers=team.headers["admin"]).status_code == 422
    discarded = client.post(f"{URL}/{entry['id']}/discard", headers=team.headers["admin"])
    assert discarded.status_code == 200 and discarded.json["status"] == "discarded"
    assert client.post(f"{URL}/{entry['id']}/replay",
                       headers=team.headers["admin"]).status_code == 409


def test_unknown_quarantine_ids_are_404(world, client, team):
    for quarantine_id in ("999999", "abc", "-1"):
        response = client.post(f"{URL}/{quarantine_id}/replay", headers=team.headers["admin"])
        assert response.status_code == 404
        response = client.get(f"{URL}/{quarantine_id}", headers=team.headers["admin"])
        assert response.status_code == 404


# -- the sync log ---------------------------------------------------------------------------

def test_the_sync_log_is_for_admins_and_the_reps_manager(world, client, team, phone,
                                                         other_phone):
    phone.push(changes(location_pings={"created": [ping_record()]}))
    Phone(client, team.headers["rep2"], device="p2").pull()
    other_phone.pull()

    def users(role, **query):
        response = client.get("/api/v1/sync/log", headers=team.headers[role], query_string=query)
        assert response.status_code == 200
        return [entry["user_id"] for entry in response.json["items"]]

    assert users("admin") == [team.other_rep.id, team.rep2.id, team.rep.id]
    assert users("manager") == [team.rep2.id, team.rep.id]
    assert users("other_manager") == [team.other_rep.id]
    assert users("manager", user_id=team.other_rep.id) == []
    assert users("admin", user_id=team.rep.id, direction="push") == [team.rep.id]
    for role in ("rep", "procurement"):
        assert client.get("/api/v1/sync/log", headers=team.headers[role]).status_code == 403


def test_the_quarantine_and_the_log_refuse_a_cursor_they_did_not_give_out(client, team):
    """The operators' logs share one cursor: an id of ASCII digits that their INTEGER ids
    can hold."""
    for url in (URL, "/api/v1/sync/log", "/api/v1/jobs/runs"):
        for cursor in ("abc", "²", "٣", "+1", "-1", "9" * 30, "9" * 18, str(2**31)):
            response = client.get(url, query_string={"cursor": cursor},
                                  headers=team.headers["admin"])
            assert response.status_code == 422, (url, cursor)
            assert response.json["error"]["details"] == {
                "cursor": ["Pass back next_cursor unchanged."]}
        assert client.get(url, query_string={"cursor": str(2**31 - 1)},
                          headers=team.headers["admin"]).status_code == 200
