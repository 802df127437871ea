"""The quarantine (admins list and replay refused records) and the sync log for support."""
import json

from sqlalchemy import select

from fieldsales.common import DAY_MS, now_ms
from fieldsales.customers.models import Customer
from fieldsales.extensions import db
from fieldsales.feedback.models import Feedback
from fieldsales.sync import quarantine
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


# -- what the quarantine keeps, its caps per rep, and expiry -----------------------------------

def test_keys_that_are_no_column_of_the_table_are_dropped_before_a_record_is_kept(world, app,
                                                                                  phone):
    """The review's push: invalid pings carrying 5 KB junk keys. The record is kept with its
    columns (read-only ones too), its id and WatermelonDB's `_status` and `_changed`."""
    ping = ping_record(lat=95, _status="created", _changed="")
    visit = visit_record(world.customer, check_in_latitude=123.0, _changed="notes")
    junk = {f"junk{n}": "x" * 5_000 for n in range(3)} | {"_private": "y" * 5_000}
    result = phone.push(changes(location_pings={"created": [{**ping, **junk}]},
                                visits={"updated": [{**visit, **junk}]}))
    assert [q["id"] for q in result["quarantined"]] == [visit["id"], ping["id"]]
    kept = {q["record_id"]: q for q in stored(app, QuarantinedRecord)}
    assert kept[ping["id"]]["payload"] == ping
    assert kept[visit["id"]]["payload"] == visit  # verified and distance_m included
    assert kept[ping["id"]]["size_bytes"] < 1_000


def test_a_push_past_the_pending_cap_is_refused_whole_until_an_admin_resolves(
        world, app, client, phone, team, monkeypatch):
    monkeypatch.setitem(app.config, "SYNC_QUARANTINE_MAX_PENDING_PER_USER", 3)
    first = changes(feedback={"created": [feedback_record(world.customer, rating=9)
                                          for _ in range(3)]})
    phone.push(first)
    good = visit_record(world.customer)
    body = changes(visits={"created": [good]},
                   location_pings={"created": [ping_record(lat=95)]})

    refused = client.post("/api/v1/sync", query_string={"last_pulled_at": "null"},
                          data=json.dumps(body), headers=phone.headers)
    assert refused.status_code == 429
    error = refused.json["error"]
    assert error["code"] == "quarantine_full"
    assert "Nothing of this push was stored" in error["message"]
    assert "Ask an admin to replay or discard" in error["message"]
    assert {k: error["details"][k] for k in ("pending", "incoming", "max_pending")} == {
        "pending": 3, "incoming": 1, "max_pending": 3}
    assert stored(app, Visit) == []  # the valid record neither: one push, one transaction
    assert len(stored(app, QuarantinedRecord)) == 3
    [log] = client.get("/api/v1/sync/log", headers=team.headers["admin"],
                       query_string={"limit": 1}).json["items"]
    assert log["outcome"] == "quarantine_full"
    assert len(phone.push(first)["quarantined"]) == 3  # a retry adds nothing: still fine

    oldest = min(q["id"] for q in stored(app, QuarantinedRecord))
    assert client.post(f"{URL}/{oldest}/discard",
                       headers=team.headers["admin"]).status_code == 200
    result = phone.push(body)  # the phone sends the same records again
    assert result["accepted"]["visits"] == 1 and len(result["quarantined"]) == 1
    assert [v["id"] for v in stored(app, Visit)] == [good["id"]]
    assert len(stored(app, QuarantinedRecord, status="pending")) == 3


def test_the_bytes_cap_counts_what_is_kept_and_refuses_a_push_too_large_to_keep(
        world, app, phone, monkeypatch):
    monkeypatch.setitem(app.config, "SYNC_QUARANTINE_MAX_BYTES_PER_USER", 4_000)

    def bad_visit(notes_length: int) -> dict:  # valid notes, invalid latitude
        return visit_record(world.customer, check_in_latitude=123.0, notes="n" * notes_length)

    junk = {"junk": "x" * 5_000}  # dropped: it does not count
    phone.push(changes(visits={"created": [{**bad_visit(1_500), **junk}]}))
    [held] = stored(app, QuarantinedRecord)
    assert 1_500 < held["size_bytes"] < 2_000

    full = phone.push(changes(visits={"created": [bad_visit(2_500)]}), expect=429)
    assert full["error"]["code"] == "quarantine_full"
    assert full["error"]["details"]["pending_bytes"] == held["size_bytes"]
    too_large = phone.push(changes(visits={"created": [bad_visit(4_000)]}), expect=413)
    assert too_large["error"]["code"] == "quarantine_too_large"
    assert "Nothing of this push was stored" in too_large["error"]["message"]
    assert stored(app, QuarantinedRecord) == [held]
    assert len(phone.push(changes(visits={"created": [bad_visit(1_500)]}))["quarantined"]) == 1


def test_the_push_documents_its_quarantine_refusals(client):
    answers = client.get("/api/v1/openapi.json").json["paths"]["/api/v1/sync"]["post"][
        "responses"]
    assert "quarantine_too_large" in answers["413"]["description"]
    assert "quarantine_full" in answers["429"]["description"]


def test_resolved_entries_expire_after_the_window_and_pending_ones_stay(
        world, app, client, phone, team, monkeypatch):
    monkeypatch.setitem(app.config, "SYNC_QUARANTINE_RESOLVED_DAYS", days := 10)
    phone.push(changes(feedback={"created": [feedback_record(world.customer, rating=9)
                                             for _ in range(5)]}))
    old_pending, expired, recent, fresh, last = (q["id"] for q in stored(app, QuarantinedRecord))
    for entry in (expired, recent, fresh):
        assert client.post(f"{URL}/{entry}/discard",
                           headers=team.headers["admin"]).status_code == 200
    with app.app_context():  # as if resolved (or received) that long ago
        for entry, age_days in ((old_pending, days + 30), (expired, days + 1),
                                (recent, days - 1)):
            row = db.session.get(QuarantinedRecord, entry)
            row.received_at = now_ms() - (age_days + 1) * DAY_MS
            if row.status != "pending":
                row.resolved_at = now_ms() - age_days * DAY_MS
        db.session.commit()

    assert client.post(f"{URL}/{last}/discard", headers=team.headers["admin"]).status_code == 200
    assert sorted((q["id"], q["status"]) for q in stored(app, QuarantinedRecord)) == [
        (old_pending, "pending"), (recent, "discarded"), (fresh, "discarded"),
        (last, "discarded")]
    assert client.get(f"{URL}/{expired}", headers=team.headers["admin"]).status_code == 404


def test_expiry_deletes_in_bounded_batches_oldest_first(world, app, client, phone, team):
    phone.push(changes(feedback={"created": [feedback_record(world.customer, rating=9)
                                             for _ in range(3)]}))
    entries = [q["id"] for q in stored(app, QuarantinedRecord)]
    with app.app_context():
        for age, entry in enumerate(entries, start=40):
            row = db.session.get(QuarantinedRecord, entry)
            row.status, row.resolved_at = "replayed", now_ms() - age * DAY_MS
        db.session.commit()
        assert quarantine.expire_resolved(now=now_ms(), days=30, limit=2) == 2
        db.session.commit()
        assert [q.id for q in db.session.scalars(select(QuarantinedRecord))] == [entries[0]]
        assert quarantine.expire_resolved(now=now_ms(), days=30, limit=2) == 1
        db.session.commit()


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
