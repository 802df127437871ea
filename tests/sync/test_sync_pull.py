"""Pull rules 1-8 of the sync contract, through GET /api/v1/sync."""
from fieldsales.changes.models import SyncClock
from fieldsales.common import DAY_MS, now_ms
from fieldsales.customers.models import Customer
from fieldsales.extensions import db
from fieldsales.locations.models import LocationPing
from fieldsales.orders.models import Order
from fieldsales.sync.models import SyncLog
from fieldsales.tasks.models import Task
from fieldsales.visits.models import Visit
from tests.factories import (
    TABLE_NAMES,
    Phone,
    World,
    changes,
    ids,
    line_record,
    order_record,
    ping_record,
    stored,
    uid,
    visit_record,
)

CUSTOMER_COLUMNS = {"id", "name", "address", "latitude", "longitude", "geofence_radius_m",
                    "segment", "phone", "kind"}
PRODUCT_COLUMNS = {"id", "sku", "name", "unit", "unit_price", "stock_on_hand"}
TASK_COLUMNS = {"id", "customer_id", "title", "description", "category", "due_at", "status",
                "completed_at", "completion_note", "latitude", "longitude"}
VISIT_COLUMNS = {"id", "customer_id", "check_in_at", "check_in_latitude", "check_in_longitude",
                 "check_in_accuracy_m", "check_out_at", "check_out_latitude",
                 "check_out_longitude", "outcome", "notes", "verified", "distance_m"}
ORDER_COLUMNS = {"id", "customer_id", "visit_id", "ordered_at", "requested_delivery_at", "notes",
                 "status", "promised_dispatch_at"}
LINE_COLUMNS = {"id", "order_id", "product_id", "quantity", "unit_price", "delivered_quantity"}


# -- rule 1: shape and timestamp ------------------------------------------------------------

def test_pull_answers_changes_of_every_table_and_a_server_timestamp(world, phone):
    before = now_ms()
    body = phone.pull()
    assert set(body) == {"changes", "timestamp"}
    assert set(body["changes"]) == set(TABLE_NAMES)
    for table in body["changes"].values():
        assert set(table) == {"created", "updated", "deleted"}
    assert isinstance(body["timestamp"], int)
    assert before - 5000 <= body["timestamp"] <= now_ms() + 5000


def test_timestamps_never_go_back(world, phone, phone2):
    stamps = [phone.pull()["timestamp"], phone2.pull()["timestamp"], phone.pull()["timestamp"]]
    assert stamps == sorted(stamps)


def test_records_carry_exactly_the_contract_columns_with_exact_json_types(world, phone):
    v = visit_record(world.customer)
    o = order_record(world.customer, visit_id=v["id"])
    phone.push(changes(visits={"created": [v]}, orders={"created": [o]},
                       order_lines={"created": [line_record(o["id"], world.product, quantity=2)]}))
    pulled = phone.pull(None)["changes"]

    customer = next(c for c in pulled["customers"]["created"] if c["id"] == world.customer2)
    assert set(customer) == CUSTOMER_COLUMNS
    assert customer == {"id": world.customer2, "name": "Cafe Nord", "address": None,
                        "latitude": 52.55, "longitude": 13.4, "geofence_radius_m": 50.0,
                        "segment": "horeca", "phone": "+49301", "kind": "account"}
    product = next(p for p in pulled["products"]["created"] if p["id"] == world.product)
    assert set(product) == PRODUCT_COLUMNS
    assert product["unit_price"] == 12.5 and isinstance(product["unit_price"], float)
    assert isinstance(product["stock_on_hand"], float)
    water = next(p for p in pulled["products"]["created"] if p["id"] == world.product2)
    assert water["unit_price"] == 4.0 and isinstance(water["unit_price"], float)
    task = pulled["tasks"]["created"][0]
    assert set(task) == TASK_COLUMNS and isinstance(task["due_at"], int)
    pulled_visit = pulled["visits"]["created"][0]
    assert set(pulled_visit) == VISIT_COLUMNS
    assert pulled_visit["verified"] is True and isinstance(pulled_visit["distance_m"], float)
    assert isinstance(pulled_visit["check_in_at"], int)
    pulled_order = pulled["orders"]["created"][0]
    assert set(pulled_order) == ORDER_COLUMNS and pulled_order["status"] == "open"
    assert pulled_order["visit_id"] == v["id"]
    pulled_line = pulled["order_lines"]["created"][0]
    assert set(pulled_line) == LINE_COLUMNS
    assert pulled_line["order_id"] == o["id"] and pulled_line["unit_price"] == 12.5
    assert pulled_line["delivered_quantity"] == 0.0


def test_pulled_records_return_what_the_phone_pushed_unchanged(world, phone):
    v = visit_record(world.customer, notes="Ünïcode ✓", check_in_accuracy_m=12.25)
    phone.pull()
    phone.push(changes(visits={"created": [v]}))
    pulled = phone.pull()["changes"]["visits"]["created"][0]
    for column, value in v.items():
        if not column.startswith("_") and column not in ("verified", "distance_m"):
            assert pulled[column] == value, column


# -- rule 3: first pull, then created / updated / deleted ------------------------------------

def test_first_pull_sends_everything_visible_as_created_and_nothing_deleted(world, phone, client):
    client.delete(f"/api/v1/customers/{world.customer2}", headers=world.team.headers["manager"])
    for since in (None, "missing"):
        if since == "missing":
            response = client.get("/api/v1/sync", headers=phone.headers)
            assert response.status_code == 200
            body = response.json
        else:
            body = phone.pull(None)
        assert ids(body, "customers", "created") == {world.customer}
        assert ids(body, "products", "created") == {world.product, world.product2}
        assert ids(body, "tasks", "created") == {world.task}
        for table in body["changes"].values():
            assert table["updated"] == [] and table["deleted"] == []


def test_later_pulls_split_changes_into_created_updated_and_deleted(world, phone, client):
    manager = world.team.headers["manager"]
    phone.pull()
    assert client.patch(f"/api/v1/customers/{world.customer}", json={"name": "Kiosk Mitte 2"},
                        headers=manager).status_code == 200
    created = client.post("/api/v1/customers", headers=manager, json={
        "name": "New Shop", "latitude": 52.5, "longitude": 13.3, "geofence_radius_m": 80,
        "kind": "prospect", "assigned_rep_id": world.team.rep.id}).json["id"]
    assert client.delete(f"/api/v1/tasks/{world.task}", headers=manager).status_code in (200, 204)

    body = phone.pull()
    assert ids(body, "customers", "created") == {created}
    assert ids(body, "customers", "updated") == {world.customer}
    assert body["changes"]["customers"]["updated"][0]["name"] == "Kiosk Mitte 2"
    assert ids(body, "tasks", "deleted") == {world.task}
    assert ids(body, "products", "created") == set()

    again = phone.pull()
    assert all(not any(table.values()) for table in again["changes"].values())


def test_a_reassigned_customer_moves_between_reps_pulls(world, client, team):
    phone, phone_b = Phone(client, team.headers["rep"]), Phone(client, team.headers["rep2"])
    phone.pull(), phone_b.pull()
    response = client.patch(f"/api/v1/customers/{world.customer}", headers=team.headers["manager"],
                            json={"assigned_rep_id": team.rep2.id})
    assert response.status_code == 200

    lost, gained = phone.pull(), phone_b.pull()
    assert ids(lost, "customers", "deleted") == {world.customer}
    assert world.customer not in ids(lost, "customers", "updated")
    assert ids(gained, "customers", "created") == {world.customer}

    client.patch(f"/api/v1/customers/{world.customer}", headers=team.headers["manager"],
                 json={"assigned_rep_id": team.rep.id})
    back, gone = phone.pull(), phone_b.pull()
    assert ids(back, "customers", "created") == {world.customer}
    assert ids(back, "customers", "deleted") == set()
    assert ids(gone, "customers", "deleted") == {world.customer}


def test_access_changes_recorded_by_the_rest_side_helper_reach_pulls(world, app, phone, phone2,
                                                                     client, team):
    """`sync.access.reassigned` is what REST services call when a row changes hands."""
    from fieldsales.changes.access import reassigned

    other = Phone(client, team.headers["other_rep"])
    phone.pull(), other.pull()
    with app.app_context():
        task = db.session.get(Task, world.task)
        reassigned(db.session, table_name="tasks", record_id=task.id,
                   old_rep_id=task.assigned_rep_id, new_rep_id=team.other_rep.id)
        task.assigned_rep_id = team.other_rep.id
        db.session.commit()
    assert ids(phone.pull(), "tasks", "deleted") == {world.task}
    assert ids(other.pull(), "tasks", "created") == {world.task}


# -- rule 4: each rep sees only their own ----------------------------------------------------

def test_a_rep_pulls_only_what_the_visibility_rules_allow(world, app, phone, other_phone, team):

    old = now_ms() - 40 * DAY_MS
    rows = World(app)
    done_task = rows.add(Task, id=uid("t"), assigned_rep_id=team.rep.id,
                         title="done long ago", status="done", completed_at=old)
    rows.add(Task, id=uid("t"), assigned_rep_id=team.other_rep.id, title="not mine")
    rows.add(Visit, id=uid("v"), rep_id=team.rep.id, customer_id=world.customer,
             check_in_at=old, check_in_latitude=52.52, check_in_longitude=13.405)
    delivered = rows.add(Order, id=uid("o"), rep_id=team.rep.id, customer_id=world.customer,
                         ordered_at=old, status="delivered")
    rows.add(LocationPing, id=uid("g"), rep_id=team.rep.id, recorded_at=now_ms(), latitude=1,
             longitude=1)
    with app.app_context():  # closed 40 days ago, unchanged since
        db.session.execute(db.update(Task).where(Task.id == done_task).values(changed_seq=old))
        db.session.execute(db.update(Order).where(Order.id == delivered).values(changed_seq=old))
        db.session.commit()
    recent = visit_record(world.customer)
    open_order = order_record(world.customer)
    phone.push(changes(visits={"created": [recent]}, orders={"created": [open_order]},
                       location_pings={"created": [ping_record()]}), last_pulled_at=None)
    other_phone.push(changes(visits={"created": [visit_record(world.foreign_customer,
                                                       check_in_latitude=48.1,
                                                       check_in_longitude=11.5)]}),
                     last_pulled_at=None)

    mine = phone.pull(None)
    assert ids(mine, "customers", "created") == {world.customer, world.customer2}
    assert ids(mine, "tasks", "created") == {world.task}
    assert ids(mine, "visits", "created") == {recent["id"]}
    assert ids(mine, "orders", "created") == {open_order["id"]}
    assert ids(mine, "products", "created") == {world.product, world.product2}
    assert mine["changes"]["location_pings"] == {"created": [], "updated": [], "deleted": []}

    theirs = other_phone.pull(None)
    assert ids(theirs, "customers", "created") == {world.foreign_customer}
    assert world.customer not in str(theirs)
    assert recent["id"] not in str(theirs)


def test_a_task_done_recently_is_still_pulled(world, phone, client):
    phone.pull()
    client.patch(f"/api/v1/tasks/{world.task}", json={"status": "done"},
                 headers=world.team.headers["manager"])
    assert phone.pull()["changes"]["tasks"]["updated"][0]["status"] == "done"
    assert ids(phone.pull(None), "tasks", "created") == {world.task}


def test_a_removed_product_is_deleted_for_every_rep(world, app, phone, other_phone):
    from fieldsales.products.models import Product

    phone.pull(), other_phone.pull()
    with app.app_context():
        db.session.get(Product, world.product).deleted_at = now_ms()
        db.session.commit()
    assert ids(phone.pull(), "products", "deleted") == {world.product}
    assert ids(other_phone.pull(), "products", "deleted") == {world.product}


# -- rule 5: schema version, parameters ------------------------------------------------------

def test_schema_version_1_2_or_missing_is_accepted_and_a_null_migration_is_none(world, phone):
    phone.pull(schema_version=1)
    phone.pull(schema_version=2)
    phone.pull(schema_version=2, migration='{"from": 1, "tables": [], "columns": []}')
    phone.pull(migration="null")


def test_a_migration_not_from_a_supported_version_below_the_schema_version_is_400(world,
                                                                                  phone):
    for version, migration in ((1, '{"from": 1, "tables": [], "columns": []}'),
                               (2, '{"from": 2}'), (2, '{"from": 0}'), (2, '{"from": "1"}'),
                               (2, "{from: 1}"), (2, "[1]"), (None, '{"from": 1}')):
        params = {"migration": migration}
        if version is not None:
            params["schema_version"] = version
        body = phone.pull(expect=400, **params)
        assert body["error"]["code"] == "unsupported_schema", migration


def test_an_unsupported_schema_version_is_400(world, phone):
    for version in ("3", "0", "abc", "", "١"):
        body = phone.pull(schema_version=version, expect=400)
        assert body["error"]["code"] == "unsupported_schema"


def test_a_garbage_last_pulled_at_is_400(world, phone):
    for value in ("yesterday", "-5", "1.5", "", "1e12"):
        body = phone.pull(value, expect=400)
        assert body["error"]["code"] == "bad_request"
        assert "last_pulled_at" in body["error"]["details"]


# -- rule 8: a phone is never stuck ----------------------------------------------------------

def test_a_cursor_later_than_any_timestamp_handed_out_is_answered_as_a_first_pull(world, app,
                                                                                   phone):
    phone.pull()
    v = visit_record(world.customer)
    phone.push(changes(visits={"created": [v]}))
    ten_years_on = now_ms() + 10 * 365 * DAY_MS
    before = now_ms()
    body = phone.pull(ten_years_on)
    assert before - 5000 <= body["timestamp"] <= now_ms() + 5000  # fresh, from the server
    assert ids(body, "customers", "created") == {world.customer, world.customer2}
    assert ids(body, "visits", "created") == {v["id"]}
    assert ids(body, "tasks", "created") == {world.task}
    assert all(not table["updated"] and not table["deleted"]
               for table in body["changes"].values())
    last = stored(app, SyncLog)[-1]
    assert (last["direction"], last["outcome"], last["last_pulled_at"]) == (
        "pull", "reset", ten_years_on)  # support sees the phone that was started again


def test_a_cursor_just_past_the_clock_and_the_time_is_not_trusted_either(world, app, phone):
    phone.pull()
    with app.app_context():
        last_stamp = db.session.scalar(db.select(SyncClock.last_stamp))
    body = phone.pull(max(last_stamp, now_ms()) + 60_000)
    assert ids(body, "customers", "created") == {world.customer, world.customer2}


def test_after_a_restore_left_the_clock_behind_phones_cursors_they_still_sync(world, app,
                                                                              phone):
    phone.pull()
    with app.app_context():  # the database comes back from last night's backup
        db.session.execute(db.update(SyncClock).values(last_stamp=phone.last_pulled_at - DAY_MS))
        db.session.commit()
    phone.pull()  # the phone's cursor is beyond the clock, but not beyond the time
    phone.push(changes(location_pings={"created": [ping_record()]}))


def test_the_timestamp_a_pull_just_returned_is_always_accepted(world, phone, phone2):
    for _ in range(3):
        phone.pull()
        phone.pull()  # the very same timestamp again, at once
        phone.push(changes(location_pings={"created": [ping_record()]}))
        phone2.pull()
        phone.push(changes())


# -- rule 6: only reps ------------------------------------------------------------------------

def test_only_reps_sync(client, team):
    for role in ("admin", "manager", "procurement"):
        for method in ("get", "post"):
            response = getattr(client, method)("/api/v1/sync", headers=team.headers[role],
                                               data="{}")
            assert response.status_code == 403
            assert response.json["error"]["code"] == "forbidden"
    assert client.get("/api/v1/sync").status_code == 401
    assert client.post("/api/v1/sync", data="{}").json["error"]["code"] == "unauthorized"


# -- rule 7 and the conflict round trip with the REST side -----------------------------------

def test_a_manager_change_reaches_the_next_pull_and_conflicts_with_an_older_push(world, phone,
                                                                                client):
    first = phone.pull()
    task = first["changes"]["tasks"]["created"][0]
    assert client.patch(f"/api/v1/tasks/{world.task}", json={"title": "Visit Kiosk today"},
                        headers=world.team.headers["manager"]).status_code == 200

    completed = {**task, "status": "done", "completed_at": now_ms(), "latitude": 52.52,
                 "longitude": 13.405, "_status": "updated", "_changed": "status,completed_at"}
    stale = phone.push(changes(tasks={"updated": [completed]}), expect=409)
    assert stale["error"]["code"] == "sync_conflict"
    assert stale["error"]["details"]["conflicts"] == [{"table": "tasks", "ids": [world.task]}]

    pulled = phone.pull()  # rule 7: one pull, then the same push again succeeds
    assert pulled["changes"]["tasks"]["updated"][0]["title"] == "Visit Kiosk today"
    completed["title"] = "Visit Kiosk today"  # WatermelonDB keeps the server's column
    assert phone.push(changes(tasks={"updated": [completed]}))["accepted"]["tasks"] == 1
    final = phone.pull()["changes"]["tasks"]["updated"][0]
    assert final["status"] == "done" and final["latitude"] == 52.52


def test_after_a_conflict_a_pull_then_the_very_same_push_succeeds(world, phone, phone2):
    v = visit_record(world.customer)
    phone.pull()
    phone.push(changes(visits={"created": [v]}))
    phone2.pull()
    phone.pull()
    phone2.push(changes(visits={"updated": [{**v, "notes": "from phone 2"}]}))
    body = changes(visits={"updated": [{**v, "outcome": "follow_up"}]})
    phone.push(body, expect=409)
    phone.pull()
    phone.push(body)


def test_pull_and_push_are_in_the_sync_log(world, app, phone, client, team):
    phone.pull()
    phone.push(changes(location_pings={"created": [ping_record()]}))
    phone.pull("garbage", expect=400)
    log = client.get("/api/v1/sync/log", headers=team.headers["admin"]).json["items"]
    assert [(e["direction"], e["outcome"]) for e in log] == [
        ("pull", "bad_request"), ("push", "ok"), ("pull", "ok")]
    assert all(e["device_id"] == "phone-1" and e["user_id"] == team.rep.id for e in log)
    assert log[1]["counts"] == {"location_pings": 1}
    assert log[2]["counts"]["customers"] == {"created": 2, "updated": 0, "deleted": 0}
    with app.app_context():
        assert Customer.query.count() == 3
