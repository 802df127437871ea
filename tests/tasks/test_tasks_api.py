"""Tasks REST: who assigns what to whom, reps completing their own, soft removal, the list
(pages, sorts, CSV)."""
import pytest

from fieldsales.common import DAY_MS, now_ms
from fieldsales.listing import NO_DATE
from tests.factories import Phone
from tests.factories import ids as pulled_ids
from tests.list_checks import (
    assert_csv_is_the_json,
    assert_unknown_sort_is_422,
    assert_walk_in_order,
    walk,
)

URL = "/api/v1/tasks"
DUE = 1_900_000_000_000


@pytest.fixture
def customers(client, team):
    """A customer in each team, made over HTTP."""
    made = {}
    for name, rep in (("mine", team.rep), ("other", team.other_rep)):
        response = client.post("/api/v1/customers", headers=team.headers["admin"], json={
            "name": f"Customer {name}", "latitude": 38.72, "longitude": -9.14,
            "assigned_rep_id": rep.id})
        assert response.status_code == 201
        made[name] = response.json["id"]
    return made


@pytest.fixture
def create(client, team, customers):
    def do(as_="manager", **overrides):
        data = {"assigned_rep_id": team.rep.id, "customer_id": customers["mine"],
                "title": "Present the summer range", "description": "Bring samples",
                "category": "selling", "due_at": DUE, **overrides}
        response = client.post(URL, json=data, headers=team.headers[as_])
        assert response.status_code == 201, response.json
        return response.json
    return do


def test_manager_creates_a_task_for_their_rep(client, team, create, customers):
    task = create()
    assert task["id"] and task["assigned_rep_id"] == team.rep.id
    assert task["customer_id"] == customers["mine"] and task["status"] == "open"
    assert task["due_at"] == DUE and task["completed_at"] is None
    assert task["created_by_id"] == team.manager.id and task["deleted_at"] is None
    assert client.get(f"{URL}/{task['id']}", headers=team.headers["rep"]).json == task


def test_admin_task_without_customer_and_client_id(client, team, create):
    task = create(as_="admin", id="task-1", customer_id=None, category="admin",
                  title="Expense report", assigned_rep_id=team.other_rep.id)
    assert task["id"] == "task-1" and task["customer_id"] is None and task["category"] == "admin"
    response = client.post(URL, headers=team.headers["admin"], json={
        "id": "task-1", "assigned_rep_id": team.rep.id, "title": "Again"})
    assert response.status_code == 409 and response.json["error"]["code"] == "duplicate_id"


def test_created_done_is_completed_now(create):
    before = now_ms()
    task = create(status="done")
    assert task["completed_at"] >= before
    assert create(status="done", completed_at=DUE - DAY_MS)["completed_at"] == DUE - DAY_MS


def test_manager_cannot_assign_another_teams_rep_or_use_its_customer(client, team, customers):
    base = {"title": "T", "due_at": DUE}
    response = client.post(URL, headers=team.headers["manager"],
                           json={**base, "assigned_rep_id": team.other_rep.id})
    assert response.status_code == 422
    assert "assigned_rep_id" in response.json["error"]["details"]
    response = client.post(URL, headers=team.headers["manager"], json={
        **base, "assigned_rep_id": team.rep.id, "customer_id": customers["other"]})
    assert response.status_code == 422 and "customer_id" in response.json["error"]["details"]
    response = client.post(URL, headers=team.headers["admin"], json={
        **base, "assigned_rep_id": team.rep.id, "customer_id": "no-such-customer"})
    assert response.status_code == 422 and "customer_id" in response.json["error"]["details"]
    assert client.get(URL, headers=team.headers["admin"]).json["items"] == []


@pytest.mark.parametrize("role, status", [("rep", 403), ("procurement", 403)])
def test_reps_and_procurement_cannot_create(client, team, role, status):
    response = client.post(URL, headers=team.headers[role],
                           json={"assigned_rep_id": team.rep.id, "title": "Mine"})
    assert response.status_code == status


def test_procurement_and_anonymous_are_refused_everywhere(client, team, create):
    task_id = create()["id"]
    for headers, status in (({}, 401), (team.headers["procurement"], 403)):
        assert client.get(URL, headers=headers).status_code == status
        assert client.get(f"{URL}/{task_id}", headers=headers).status_code == status
        assert client.patch(f"{URL}/{task_id}", json={"status": "done"},
                            headers=headers).status_code == status
        assert client.delete(f"{URL}/{task_id}", headers=headers).status_code == status


@pytest.mark.parametrize("field, value", [
    ("title", ""), ("title", "t" * 201), ("category", "fun"), ("status", "later"),
    ("due_at", "tomorrow"), ("due_at", -1), ("due_at", 1.5), ("latitude", 95),
    ("longitude", 200), ("customer_id", "a b"), ("id", "x" * 65), ("owner", "me"),
    ("description", "d" * 5001),
])
def test_invalid_fields_are_422_naming_the_field(client, team, field, value):
    data = {"assigned_rep_id": team.rep.id, "title": "T", field: value}
    response = client.post(URL, json=data, headers=team.headers["admin"])
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"
    assert field in response.json["error"]["details"]


@pytest.mark.parametrize("field", ["assigned_rep_id", "title"])
def test_required_fields(client, team, field):
    data = {"assigned_rep_id": team.rep.id, "title": "T"}
    del data[field]
    response = client.post(URL, json=data, headers=team.headers["admin"])
    assert response.status_code == 422 and field in response.json["error"]["details"]


def test_who_reads_what(client, team, create):
    mine = create()["id"]
    teammates = create(assigned_rep_id=team.rep2.id, customer_id=None)["id"]
    other = create(as_="other_manager", assigned_rep_id=team.other_rep.id, customer_id=None)["id"]
    rules = {"admin": {mine, teammates, other}, "manager": {mine, teammates},
             "other_manager": {other}, "rep": {mine}, "rep2": {teammates}, "other_rep": {other}}
    for role, allowed in rules.items():
        listed = client.get(URL, headers=team.headers[role])
        assert listed.status_code == 200
        assert {t["id"] for t in listed.json["items"]} == allowed, role
        for task_id in (mine, teammates, other):
            status = client.get(f"{URL}/{task_id}", headers=team.headers[role]).status_code
            assert status == (200 if task_id in allowed else 404), (role, task_id)


def test_filters(client, team, create, customers):
    early = create(due_at=DUE)["id"]
    late = create(due_at=DUE + DAY_MS, category="admin", customer_id=None)["id"]
    done = create(due_at=DUE + 2 * DAY_MS, status="done", assigned_rep_id=team.rep2.id,
                  customer_id=None)["id"]

    def ids(**query):
        response = client.get(URL, query_string=query, headers=team.headers["manager"])
        assert response.status_code == 200, response.json
        return {t["id"] for t in response.json["items"]}

    assert ids(status="open") == {early, late}
    assert ids(assigned_rep_id=team.rep2.id) == {done}
    assert ids(customer_id=customers["mine"]) == {early}
    assert ids(due_from=DUE + 1) == {late, done}
    assert ids(due_from=DUE, due_to=DUE + DAY_MS) == {early}
    assert ids(category="admin") == {late}
    response = client.get(URL, query_string={"due_from": "soon"}, headers=team.headers["manager"])
    assert response.status_code == 422 and "due_from" in response.json["error"]["details"]


def test_manager_reassigns_within_the_team(client, team, create):
    task_id = create(customer_id=None)["id"]
    old_phone, new_phone = Phone(client, team.headers["rep"]), Phone(client, team.headers["rep2"])
    old_phone.pull(), new_phone.pull()
    response = client.patch(f"{URL}/{task_id}", json={"assigned_rep_id": team.rep2.id},
                            headers=team.headers["manager"])
    assert response.status_code == 200 and response.json["assigned_rep_id"] == team.rep2.id
    assert client.get(f"{URL}/{task_id}", headers=team.headers["rep"]).status_code == 404
    assert client.get(f"{URL}/{task_id}", headers=team.headers["rep2"]).status_code == 200
    assert pulled_ids(old_phone.pull(), "tasks", "deleted") == {task_id}
    assert pulled_ids(new_phone.pull(), "tasks", "created") == {task_id}


class TestTheCustomerIsOneOfTheTasksRepsTeam:
    """Another team's customer would leak to a phone that may not see it; a teammate's is
    fine (a rep covering a colleague's round)."""

    def test_a_task_at_a_teammates_customer_is_allowed(self, client, team, customers):
        response = client.post(URL, headers=team.headers["manager"], json={
            "assigned_rep_id": team.rep2.id, "customer_id": customers["mine"], "title": "Visit"})
        assert response.status_code == 201, response.json

    def test_admins_cannot_give_a_rep_another_teams_customer(self, client, team, customers):
        response = client.post(URL, headers=team.headers["admin"], json={
            "assigned_rep_id": team.rep.id, "customer_id": customers["other"], "title": "Visit"})
        assert response.status_code == 422
        assert list(response.json["error"]["details"]) == ["customer_id"]

    def test_moving_the_task_to_another_teams_rep_needs_a_customer_of_theirs(
            self, client, team, create, customers):
        task_id = create()["id"]
        admin = team.headers["admin"]
        response = client.patch(f"{URL}/{task_id}", json={"assigned_rep_id": team.other_rep.id},
                                headers=admin)
        assert response.status_code == 422 and "customer_id" in response.json["error"]["details"]
        response = client.patch(f"{URL}/{task_id}", headers=admin, json={
            "assigned_rep_id": team.other_rep.id, "customer_id": customers["other"]})
        assert response.status_code == 200 and response.json["assigned_rep_id"] == team.other_rep.id


def test_manager_cannot_reassign_outside_the_team(client, team, create, customers):
    task_id = create()["id"]
    response = client.patch(f"{URL}/{task_id}", json={"assigned_rep_id": team.other_rep.id},
                            headers=team.headers["manager"])
    assert response.status_code == 422
    assert "assigned_rep_id" in response.json["error"]["details"]
    response = client.patch(f"{URL}/{task_id}", json={"customer_id": customers["other"]},
                            headers=team.headers["manager"])
    assert response.status_code == 422 and "customer_id" in response.json["error"]["details"]
    assert client.patch(f"{URL}/{task_id}", json={"title": "Mine now"},
                        headers=team.headers["other_manager"]).status_code == 404
    task = client.get(f"{URL}/{task_id}", headers=team.headers["admin"]).json
    assert task["assigned_rep_id"] == team.rep.id and task["title"] == "Present the summer range"


def test_rep_completes_their_own_task(client, team, create):
    task_id = create()["id"]
    before = now_ms()
    response = client.patch(f"{URL}/{task_id}", headers=team.headers["rep"],
                            json={"status": "done", "completion_note": "Ordered 3 boxes"})
    assert response.status_code == 200
    assert response.json["status"] == "done" and response.json["completed_at"] >= before
    assert response.json["completion_note"] == "Ordered 3 boxes"
    response = client.patch(f"{URL}/{task_id}", headers=team.headers["manager"],
                            json={"status": "open"})
    assert response.json["status"] == "open" and response.json["completed_at"] is None


def test_rep_cannot_change_other_fields_or_other_reps_tasks(client, team, create):
    task_id = create()["id"]
    response = client.patch(f"{URL}/{task_id}", headers=team.headers["rep"],
                            json={"assigned_rep_id": team.rep2.id, "title": "Easier"})
    assert response.status_code == 403
    assert set(response.json["error"]["details"]) == {"assigned_rep_id", "title"}
    assert client.patch(f"{URL}/{task_id}", json={"status": "done"},
                        headers=team.headers["rep2"]).status_code == 404
    assert client.delete(f"{URL}/{task_id}", headers=team.headers["rep"]).status_code == 403
    assert client.get(f"{URL}/{task_id}", headers=team.headers["admin"]).json["status"] == "open"


def test_delete_is_a_soft_removal(client, team, create):
    task_id = create()["id"]
    other_manager = team.headers["other_manager"]
    assert client.delete(f"{URL}/{task_id}", headers=other_manager).status_code == 404
    assert client.delete(f"{URL}/{task_id}", headers=team.headers["manager"]).status_code == 204
    for role in ("admin", "manager", "rep"):
        assert client.get(f"{URL}/{task_id}", headers=team.headers[role]).status_code == 404
        assert client.get(URL, headers=team.headers[role]).json["items"] == []
    assert client.patch(f"{URL}/{task_id}", json={"status": "done"},
                        headers=team.headers["rep"]).status_code == 404


def test_pagination_walks_the_whole_list_once(client, team, create):
    created = {create(title=f"Visit {n}")["id"] for n in range(13)}
    seen, cursor = [], None
    while True:
        query = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get(URL, query_string=query, headers=team.headers["rep"]).json
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 13 and set(seen) == created


@pytest.fixture
def work(create, team):
    """Tasks of the manager's reps with repeated and missing due times, and another team's."""
    rows = [("Call back", DUE, "open"), ("audit shelf", None, "done"), ("Deliver samples", DUE,
            "open"), ("call back", DUE - DAY_MS, "done"), ("Expense report", None, "open")]
    mine = [create(title=title, due_at=due, status=status,
                   assigned_rep_id=team.rep.id if n % 2 else team.rep2.id)["id"]
            for n, (title, due, status) in enumerate(rows)]
    create(as_="other_manager", assigned_rep_id=team.other_rep.id, customer_id=None)
    return mine


@pytest.mark.parametrize("sort, key", [
    ("due_at", lambda t: NO_DATE if t["due_at"] is None else t["due_at"]),
    ("-due_at", lambda t: NO_DATE if t["due_at"] is None else t["due_at"]),
    ("-status", lambda t: t["status"]),
    ("title", lambda t: t["title"].lower()),
])
def test_a_walk_in_another_sort_loses_and_repeats_nothing(client, team, work, sort, key):
    items = walk(client, URL, headers=team.headers["manager"], sort=sort, limit=2)
    assert_walk_in_order(items, ids=work, sort=sort, key=key)
    if sort == "due_at":
        assert [t["due_at"] for t in items[-2:]] == [None, None], "no due time: last"


def test_the_csv_export_is_every_row_of_the_json_pages_in_the_callers_scope(client, team,
                                                                             work):
    open_ones = assert_csv_is_the_json(client, URL, headers=team.headers["manager"],
                                       status="open", sort="due_at")
    assert {t["title"] for t in open_ones[:2]} == {"Call back", "Deliver samples"}
    assert open_ones[2]["title"] == "Expense report" and len(open_ones) == 3  # no due time
    own = assert_csv_is_the_json(client, URL, headers=team.headers["rep"])
    assert {t["assigned_rep_id"] for t in own} == {team.rep.id} and len(own) == 2
    assert len(assert_csv_is_the_json(client, URL, headers=team.headers["admin"])) == 6


def test_only_allow_listed_fields_sort_tasks(client, team):
    assert_unknown_sort_is_422(client, URL, headers=team.headers["rep"], field="-completed_at")
