"""The admin and customer pages of the console: the sync quarantine (inspect, fix and replay,
discard) and the duplicate customers (side by side, merge keeping the one chosen), over the
same services as the API's routes. Quarantined records come from a real push of the rep's
phone over HTTP; bad input is shown by its field, never a 500."""
import json
import re

import pytest

from fieldsales.common import now_ms
from fieldsales.customers.models import Customer
from fieldsales.feedback.models import Feedback
from fieldsales.jobs.models import JobRun
from fieldsales.sync.models import QuarantinedRecord
from fieldsales.users.models import User
from tests.factories import Phone, at, changes, feedback_record

QUARANTINE = "/api/v1/sync/quarantine"


@pytest.fixture
def refused(client, team, world):
    """A feedback the rep's phone pushed rated 9 of 5: quarantined. (entry id, the record)"""
    customer = world.customer(rep=team.rep, name="Kiosk Mitte")
    record = feedback_record(customer, rating=9, comment="loves it")
    pushed = Phone(client, team.headers["rep"]).push(changes(feedback={"created": [record]}))
    assert [q["id"] for q in pushed["quarantined"]] == [record["id"]]
    entry = client.get(QUARANTINE, headers=team.headers["admin"]).json["items"][0]
    return str(entry["id"]), record


def textarea(page: str) -> str:
    found = re.search(r'<textarea id="record"[^>]*>(.*?)</textarea>', page, re.S)
    assert found, "no record editor on the page"
    return found.group(1)


def entry_status(client, team, entry_id) -> str:
    return client.get(f"{QUARANTINE}/{entry_id}", headers=team.headers["admin"]).json["status"]


# --- the sync quarantine ----------------------------------------------------------------------
def test_the_quarantine_lists_pending_records_with_rep_table_and_reasons(visitor, team, refused):
    entry_id, _record = refused
    page = visitor(team.admin).get("/admin/quarantine").text
    assert team.rep.name in page and "feedback" in page and "<code>rating</code>" in page
    assert f'href="/admin/quarantine/{entry_id}"' in page
    assert "No replayed records." in visitor(team.admin).get(
        "/admin/quarantine?status=replayed").text


def test_a_bad_filter_is_shown_by_its_field(visitor, team):
    response = visitor(team.admin).get("/admin/quarantine?table=widgets")
    assert response.status_code == 422 and 'id="table-error"' in response.text


def test_inspecting_shows_the_record_as_pushed_and_why_it_was_refused(visitor, team, refused):
    entry_id, record = refused
    page = visitor(team.admin).get(f"/admin/quarantine/{entry_id}").text
    shown = json.loads(textarea(page).replace("&#34;", '"').replace("&quot;", '"'))
    assert shown == record
    assert "<code>rating</code>" in page and team.rep.name in page


def test_edited_json_that_does_not_parse_is_shown_by_the_field_and_kept(client, visitor,
                                                                        team, refused):
    entry_id, _record = refused
    admin = visitor(team.admin)
    response = admin.post(f"/admin/quarantine/{entry_id}/replay", {"record": '{"rating": 4,'},
                          form_on=f"/admin/quarantine/{entry_id}")
    assert response.status_code == 422
    assert 'id="record-error"' in response.text and "Not valid JSON" in response.text
    assert textarea(response.text) == "{&#34;rating&#34;: 4,"
    response = admin.post(f"/admin/quarantine/{entry_id}/replay", {"record": "[1, 2]"},
                          form_on=f"/admin/quarantine/{entry_id}")
    assert response.status_code == 422 and "Must be a JSON object" in response.text
    assert entry_status(client, team, entry_id) == "pending"


def test_a_record_that_still_fails_is_refused_with_its_reasons(client, visitor, team, refused):
    entry_id, record = refused
    admin = visitor(team.admin)
    response = admin.post(f"/admin/quarantine/{entry_id}/replay",
                          {"record": json.dumps(record)}, form_on=f"/admin/quarantine/{entry_id}")
    assert response.status_code == 422
    assert "The record is still invalid: check rating." in response.text
    assert "rating: " in response.text
    moved = dict(record, id="another-id", rating=4)
    response = admin.post(f"/admin/quarantine/{entry_id}/replay",
                          {"record": json.dumps(moved)}, form_on=f"/admin/quarantine/{entry_id}")
    assert response.status_code == 422 and "must keep the record&#39;s id" in response.text
    assert entry_status(client, team, entry_id) == "pending"


def test_a_fixed_record_is_replayed_as_the_reps(client, visitor, team, world, refused):
    entry_id, record = refused
    admin = visitor(team.admin)
    fixed = dict(record, rating=4)
    response = admin.post(f"/admin/quarantine/{entry_id}/replay",
                          {"record": json.dumps(fixed)}, form_on=f"/admin/quarantine/{entry_id}")
    assert response.status_code == 302 and response.location == "/admin/quarantine"
    assert f"Record {entry_id} replayed" in admin.get("/admin/quarantine").text
    stored = world.get(Feedback, record["id"])
    assert (stored.rating, stored.rep_id) == (4, team.rep.id)
    entry = world.get(QuarantinedRecord, int(entry_id))
    assert (entry.status, entry.resolved_by_id, entry.replayed_record["rating"]) == (
        "replayed", team.admin.id, 4)
    again = admin.get(f"/admin/quarantine/{entry_id}").text
    assert "replayed" in again and '<textarea id="record"' not in again


def test_discarding_closes_the_record_and_a_second_discard_says_so(client, visitor, team,
                                                                   world, refused):
    entry_id, record = refused
    admin = visitor(team.admin)
    path = f"/admin/quarantine/{entry_id}/discard"
    response = admin.post(path, {}, form_on=f"/admin/quarantine/{entry_id}")
    assert response.status_code == 302
    assert entry_status(client, team, entry_id) == "discarded"
    assert world.rows(Feedback) == []
    again = admin.post(path, {}, form_on="/admin/quarantine")
    assert again.status_code == 409 and "This record was already discarded." in again.text


# --- duplicate customers ----------------------------------------------------------------------
@pytest.fixture
def pair(team, world):
    """Two records of one shop in the manager's team (same phone); the first has a visit."""
    first = world.customer(rep=team.rep, name="Bakery Smit", phone="+31 70 123 4567")
    second = world.customer(rep=team.rep2, name="Bakkerij Smit", phone="+31701234567",
                            lat=52.0003)
    world.visit(rep=team.rep, customer=first, at=at("2026-01-05", 10))
    return first, second


def test_duplicates_are_shown_side_by_side_with_the_suggested_one_to_keep(visitor, team, pair):
    first, second = pair
    page = visitor(team.manager).get("/customers/duplicates").text
    assert "Bakery Smit" in page and "Bakkerij Smit" in page and "same phone" in page
    assert re.search(rf'value="{first}" checked', page)
    assert not re.search(rf'value="{second}" checked', page)
    assert "No likely duplicates." in visitor(team.other_manager).get(
        "/customers/duplicates").text


def test_merging_keeps_the_customer_chosen(visitor, team, world, pair):
    first, second = pair
    manager = visitor(team.manager)
    pair_id = sorted((first, second))
    response = manager.post("/customers/duplicates/merge",
                            {"pair": ":".join(pair_id), "keep": second},
                            form_on="/customers/duplicates")
    assert response.status_code == 302
    assert "Merged into Bakkerij Smit" in manager.get("/customers/duplicates").text
    gone, kept = world.get(Customer, first), world.get(Customer, second)
    assert gone.merged_into_id == second and gone.deleted_at is not None
    assert kept.deleted_at is None
    assert "No likely duplicates." in manager.get("/customers/duplicates").text


def test_a_merge_without_a_choice_or_out_of_scope_is_refused_by_its_pair(visitor, team, world,
                                                                         pair):
    first, second = pair
    pair_id = ":".join(sorted((first, second)))
    manager = visitor(team.manager)
    response = manager.post("/customers/duplicates/merge", {"pair": pair_id},
                            form_on="/customers/duplicates")
    assert response.status_code == 422
    assert "Choose which customer of the pair to keep." in response.text
    other = visitor(team.other_manager)
    response = other.post("/customers/duplicates/merge", {"pair": pair_id, "keep": first},
                          form_on="/customers/duplicates")
    assert response.status_code == 404 and "No such customer." in response.text
    assert world.get(Customer, first).deleted_at is None
    assert world.get(Customer, second).deleted_at is None


# --- customers ------------------------------------------------------------------------------
def test_customers_are_searched_by_name_within_the_viewers_scope(visitor, team, world):
    world.customer(rep=team.rep, name="Cafe Central")
    world.customer(rep=team.rep2, name="Central Pharmacy")
    world.customer(rep=team.rep, name="Bakery Smit")
    world.customer(rep=team.other_rep, name="Central Kiosk")
    manager = visitor(team.manager).get("/customers?q=central").text
    assert "Cafe Central" in manager and "Central Pharmacy" in manager
    assert "Bakery Smit" not in manager and "Central Kiosk" not in manager
    assert manager.index("Cafe Central") < manager.index("Central Pharmacy")  # by name
    rep = visitor(team.rep).get("/customers").text
    assert "Cafe Central" in rep and "Central Pharmacy" not in rep
    assert 'name="assigned_rep_id"' not in rep  # reps only read
    everyone = visitor(team.procurement).get("/customers?q=central").text
    assert "Central Kiosk" in everyone and "Cafe Central" in everyone


def test_a_bad_search_is_shown_by_its_field(visitor, team):
    response = visitor(team.manager).get("/customers?kind=giant")
    assert response.status_code == 422 and 'id="kind-error"' in response.text


def test_a_manager_assigns_a_rep_of_the_team_and_never_one_of_another(visitor, team, world):
    shop = world.customer(rep=team.rep, name="Cafe Central")
    manager = visitor(team.manager)
    response = manager.post(f"/customers/{shop}/assign?q=cafe",
                            {"assigned_rep_id": team.rep2.id}, form_on="/customers")
    assert response.status_code == 302 and response.location == "/customers?q=cafe"
    assert f"Cafe Central: assigned to {team.rep2.name}." in manager.get("/customers").text
    assert world.get(Customer, shop).assigned_rep_id == team.rep2.id
    response = manager.post(f"/customers/{shop}/assign",
                            {"assigned_rep_id": team.other_rep.id}, form_on="/customers")
    assert response.status_code == 422
    assert f'id="rep-{shop}-error"' in response.text
    assert world.get(Customer, shop).assigned_rep_id == team.rep2.id


# --- job runs -----------------------------------------------------------------------------
def test_job_runs_are_listed_newest_first_and_admins_see_where_and_why(visitor, team, world):
    world.run("demand", now=now_ms())
    world.run("backlog", now=now_ms())
    admin = visitor(team.admin).get("/admin/jobs").text
    job = '<td data-label="Job">{}</td>'.format
    assert admin.index(job("backlog")) < admin.index(job("demand"))
    assert "pid " in admin and "Run now" in admin
    manager = visitor(team.manager).get("/admin/jobs?job=demand").text
    assert job("demand") in manager and job("backlog") not in manager
    assert "pid " not in manager and "Run now" not in manager
    response = visitor(team.manager).get("/admin/jobs?status=exploded")
    assert response.status_code == 422 and 'id="status-error"' in response.text


def test_an_admin_runs_a_job_now_and_an_unknown_job_is_refused(visitor, team, world):
    admin = visitor(team.admin)
    response = admin.post("/admin/jobs/run", {"job": "backlog"}, form_on="/admin/jobs")
    assert response.status_code == 302
    assert "Job backlog: ok" in admin.get("/admin/jobs").text
    run = world.one(JobRun)
    assert (run.job, run.status, run.trigger) == ("backlog", "ok", "manual")
    response = admin.post("/admin/jobs/run", {"job": "weather"}, form_on="/admin/jobs")
    assert response.status_code == 422 and "Unknown job" in response.text
    assert len(world.rows(JobRun)) == 1


# --- users ----------------------------------------------------------------------------------
def test_an_admin_creates_a_rep_in_a_managers_team_and_bad_fields_are_shown(visitor, team,
                                                                             world):
    admin = visitor(team.admin)
    response = admin.post("/admin/users/new", {"name": "Nina New", "email": "not-an-email",
                                               "role": "rep", "password": "short"})
    assert response.status_code == 422
    assert 'id="email-error"' in response.text and 'id="password-error"' in response.text
    assert 'value="Nina New"' in response.text and "short" not in response.text
    response = admin.post("/admin/users/new", {"name": "Nina New", "email": "nina@example.com",
                                               "role": "rep", "password": "long enough"})
    assert response.status_code == 422 and "Required for a rep." in response.text
    response = admin.post("/admin/users/new", {
        "name": "Nina New", "email": "nina@example.com", "role": "rep",
        "password": "long enough", "manager_id": team.manager.id})
    assert response.status_code == 302
    nina = world.one(User, User.email == "nina@example.com")
    assert (nina.role, nina.team_id, nina.selling_style) == ("rep", team.manager.team_id,
                                                             "farmer")
    assert visitor().sign_in(nina, password="long enough").status_code == 302


def test_an_admin_moves_resets_and_deactivates_a_rep(visitor, team, world):
    admin = visitor(team.admin)
    rep_session = visitor(team.rep2)
    path = f"/admin/users/{team.rep2.id}"
    other_team = team.other_manager.team_id
    assert admin.post(path, {"name": team.rep2.name, "team_id": other_team,
                             "active": "true"}).status_code == 302
    assert world.get(User, team.rep2.id).team_id == other_team
    assert admin.post(path, {"name": team.rep2.name, "password": "a new secret",
                             "active": "true"}).status_code == 302
    assert rep_session.get("/me").status_code == 302  # signed out: the password changed
    assert visitor().sign_in(world.get(User, team.rep2.id),
                             password="a new secret").status_code == 302
    assert admin.post(path, {"name": team.rep2.name, "active": "false"}).status_code == 302
    assert world.get(User, team.rep2.id).active is False
    assert "deactivated" in admin.get("/admin/users").text


def test_moving_a_rep_with_work_and_deactivating_oneself_are_refused_by_the_field(visitor,
                                                                                  team, world):
    world.customer(rep=team.rep)
    admin = visitor(team.admin)
    response = admin.post(f"/admin/users/{team.rep.id}", {
        "name": team.rep.name, "team_id": team.other_manager.team_id, "active": "true"})
    assert response.status_code == 422 and "Reassign the rep&#39;s 1 customer(s)" in response.text
    assert world.get(User, team.rep.id).team_id == team.manager.team_id
    response = admin.post(f"/admin/users/{team.admin.id}", {"name": team.admin.name,
                                                            "active": "false"})
    assert response.status_code == 422 and 'id="active-error"' in response.text
    assert world.get(User, team.admin.id).active is True


def test_an_admin_removes_a_user_after_confirming(client, visitor, team, world):
    admin, rep_session = visitor(team.admin), visitor(team.rep2)
    edit = admin.get(f"/admin/users/{team.rep2.id}")
    assert f'href="/admin/users/{team.rep2.id}/remove"' in edit.text
    confirm = admin.get(f"/admin/users/{team.rep2.id}/remove")
    assert confirm.status_code == 200 and 'value="remove"' in confirm.text
    assert world.get(User, team.rep2.id).deleted_at is None  # the page alone changes nothing
    response = admin.post(f"/admin/users/{team.rep2.id}/remove", {})
    assert response.status_code == 422 and 'id="action-error"' in response.text
    response = admin.post(f"/admin/users/{team.rep2.id}/remove", {"action": "remove"})
    assert response.status_code == 302
    assert "removed and signed out everywhere" in admin.get("/admin/users").text
    removed = world.get(User, team.rep2.id)
    assert removed.active is False and removed.deleted_at is not None
    assert removed.erased_at is None and removed.email == team.rep2.email
    assert rep_session.get("/me").status_code == 302  # signed out
    assert client.get(f"/api/v1/users/{team.rep2.id}",
                      headers=team.headers["admin"]).status_code == 404  # as DELETE /users


def test_an_admin_erases_a_user_as_the_privacy_erasure_does(visitor, team, world):
    from fieldsales.locations.models import LocationPing
    from fieldsales.users.models import UserErasure
    world.ping(rep=team.rep2, at=at("2026-01-05", 9))
    name = team.rep2.name
    admin = visitor(team.admin)
    response = admin.post(f"/admin/users/{team.rep2.id}/remove", {"action": "erase"})
    assert response.status_code == 302
    assert f"{name}: erased" in admin.get("/admin/users").text
    erased = world.get(User, team.rep2.id)
    assert erased.erased_at is not None and erased.name == "Erased user"
    assert world.rows(LocationPing, LocationPing.rep_id == team.rep2.id) == []
    assert world.one(UserErasure).erased_by_id == team.admin.id
    # Erased once: the page is gone.
    assert admin.get(f"/admin/users/{team.rep2.id}/remove").status_code == 404


def test_a_removed_user_can_still_be_erased_from_the_console(visitor, team, world):
    admin = visitor(team.admin)
    admin.post(f"/admin/users/{team.rep2.id}/remove", {"action": "remove"})
    confirm = admin.get(f"/admin/users/{team.rep2.id}/remove")
    assert confirm.status_code == 200 and "removed already" in confirm.text
    assert 'value="remove"' not in confirm.text and 'value="erase"' in confirm.text
    assert admin.post(f"/admin/users/{team.rep2.id}/remove",
                      {"action": "erase"}).status_code == 302
    assert world.get(User, team.rep2.id).erased_at is not None


@pytest.mark.parametrize("action", ["remove", "erase"])
def test_removing_or_erasing_yourself_or_a_rep_with_work_is_refused(visitor, team, world,
                                                                   action):
    admin = visitor(team.admin)
    mine = admin.get(f"/admin/users/{team.admin.id}/remove")
    assert "You cannot remove or erase yourself" in mine.text and "<form method=\"post\"" \
        not in mine.text.split("<main", 1)[-1].split("</main>", 1)[0]
    response = admin.post(f"/admin/users/{team.admin.id}/remove", {"action": action},
                          form_on="/admin/users")
    assert response.status_code == 422 and "Admins cannot" in response.text
    assert world.get(User, team.admin.id).active is True
    world.customer(rep=team.rep)
    response = admin.post(f"/admin/users/{team.rep.id}/remove", {"action": action})
    assert response.status_code == 422 and "Reassign the rep&#39;s 1 customer(s)" in response.text
    assert world.get(User, team.rep.id).deleted_at is None


def test_removing_a_user_without_the_csrf_token_is_refused(visitor, team, world):
    response = visitor(team.admin).post(f"/admin/users/{team.rep2.id}/remove",
                                        {"action": "erase"}, csrf=False)
    assert response.status_code == 400
    assert world.get(User, team.rep2.id).erased_at is None


# --- the sync log ------------------------------------------------------------------------------
PUSH_CELL, PULL_CELL = 'data-label="Direction">push<', 'data-label="Direction">pull<'


def test_the_sync_log_shows_each_sync_newest_first_scoped_as_the_api(client, visitor, team, world):
    customer = world.customer(rep=team.rep, name="Kiosk Mitte")
    phone = Phone(client, team.headers["rep"], device="rep-phone-7")
    phone.pull()
    phone.push(changes(feedback={"created": [feedback_record(customer, rating=4)]}))
    Phone(client, team.headers["other_rep"], device="their-phone").pull()

    mine = visitor(team.manager).get("/admin/sync-log")
    assert mine.status_code == 200
    assert "rep-phone-7" in mine.text and "their-phone" not in mine.text
    assert mine.text.index(PUSH_CELL) < mine.text.index(PULL_CELL)  # newest first
    assert "feedback 1" in mine.text
    everyone = visitor(team.admin).get("/admin/sync-log").text
    assert "rep-phone-7" in everyone and "their-phone" in everyone
    pushes = visitor(team.admin).get("/admin/sync-log?direction=push").text
    assert PULL_CELL not in pushes and PUSH_CELL in pushes
    bad = visitor(team.admin).get("/admin/sync-log?direction=sideways")
    assert bad.status_code == 422 and 'id="direction-error"' in bad.text
