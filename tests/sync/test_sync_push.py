"""Push rules 1-8 of the sync contract, through POST /api/v1/sync."""
import io
import json

import pytest

from fieldsales.common import DAY_MS, now_ms
from fieldsales.customers import service as customers_service
from fieldsales.customers.models import Customer
from fieldsales.feedback.models import Feedback
from fieldsales.locations.models import LocationPing
from fieldsales.orders.models import Order, OrderLine
from fieldsales.sync.models import QuarantinedRecord, SyncLog
from fieldsales.tasks.models import Task
from fieldsales.visits.models import Visit
from tests.factories import (
    changes,
    feedback_record,
    ids,
    line_record,
    order_record,
    ping_record,
    stored,
    uid,
    visit_record,
)

# -- transport --------------------------------------------------------------------------------

@pytest.mark.parametrize("content_type", ["text/plain;charset=UTF-8", "application/json", ""])
def test_the_body_is_json_whatever_the_content_type(world, app, phone, content_type):
    v = visit_record(world.customer)
    result = phone.push(changes(visits={"created": [v]}), content_type=content_type)
    assert result == {"accepted": {"customers": 0, "products": 0, "tasks": 0, "visits": 1,
                                   "location_pings": 0, "feedback": 0, "orders": 0,
                                   "order_lines": 0},
                      "quarantined": []}
    assert [r["id"] for r in stored(app, Visit)] == [v["id"]]


def test_every_table_with_empty_lists_and_missing_keys_is_fine(world, phone):
    phone.push(changes())
    phone.push({"visits": {}, "tasks": {"created": []}})
    phone.push({})


BAD_BODIES = [
    ("not json at all", "not valid JSON"),
    ("[]", "changes object"),
    ('"visits"', "changes object"),
    ('{"widgets": {"created": []}}', "Unknown table 'widgets'"),
    ('{"visits": []}', "'visits' must be an object"),
    ('{"visits": {"created": {}}}', "'visits.created' must be a list"),
    ('{"visits": {"created": null}}', "'visits.created' must be a list"),
    ('{"visits": {"created": ["abc"]}}', "'visits.created[0]' must be a record object"),
    ('{"visits": {"deleted": [{"id": "x"}]}}', "'visits.deleted[0]' must be an id string"),
    ('{"visits": {"changed": []}}', "unknown keys: changed"),
    ('{"visits": {"created": [{"id": "a", "check_in_latitude": NaN}]}}', "not valid JSON"),
    (b"\xff\xfe{}", "not valid JSON"),
]


def test_a_body_that_is_not_a_changes_object_is_400_naming_the_problem(world, app, phone):
    for body, problem in BAD_BODIES:
        result = phone.push(body, raw=True, expect=400)
        assert result["error"]["code"] == "bad_request"
        assert problem in result["error"]["message"], body
    assert stored(app, QuarantinedRecord) == []
    assert {e["outcome"] for e in stored(app, SyncLog)} == {"bad_request"}


def test_a_body_past_the_size_limit_is_413_with_a_json_error(world, app, phone, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2_000)
    pings = [ping_record() for _ in range(40)]
    result = phone.push(changes(location_pings={"created": pings}), expect=413)
    assert result["error"]["code"] == "payload_too_large"
    assert stored(app, LocationPing) == []
    assert [e["outcome"] for e in stored(app, SyncLog)] == ["too_large"]


def test_a_chunked_body_past_the_size_limit_is_413_too(world, app, phone, monkeypatch):
    """No Content-Length (Transfer-Encoding: chunked): the server reads up to the limit."""
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2_000)

    def chunked(body: bytes):
        return phone.client.post(
            "/api/v1/sync", query_string={"last_pulled_at": "null"},
            input_stream=io.BytesIO(body), environ_overrides={"wsgi.input_terminated": True},
            headers={**phone.headers, "Transfer-Encoding": "chunked"})

    too_large = chunked(json.dumps(changes(location_pings={"created": [
        ping_record() for _ in range(40)]})).encode())
    assert too_large.status_code == 413
    assert too_large.json["error"]["code"] == "payload_too_large"
    assert stored(app, LocationPing) == []
    exactly = json.dumps(changes(location_pings={"created": [ping_record()]})).encode()
    exactly += b" " * (2_000 - len(exactly))
    assert chunked(exactly).status_code == 200  # the limit itself is still fine
    assert len(stored(app, LocationPing)) == 1


def test_ten_thousand_pings_in_one_push_are_accepted(world, app, phone):
    start = now_ms() - 10_000 * 5_000
    pings = [ping_record(start + i * 5_000, lat=52.52 + i * 1e-5) for i in range(10_000)]
    body = json.dumps(changes(location_pings={"created": pings}))
    assert len(body) < app.config["MAX_CONTENT_LENGTH"]
    result = phone.push(body, raw=True)
    assert result["accepted"]["location_pings"] == 10_000 and result["quarantined"] == []
    with app.app_context():
        assert LocationPing.query.filter_by(rep_id=world.team.rep.id).count() == 10_000


# -- rule 1: one transaction -----------------------------------------------------------------

def test_a_push_that_fails_half_way_stores_nothing(world, app, phone, monkeypatch):
    def crash(**_):
        raise RuntimeError("disk on fire")

    # The orders' after-write step (prospect promotion) runs after every other write.
    monkeypatch.setattr(customers_service, "promote_prospects", crash)
    o = order_record(world.customer)
    response = phone.client.post(
        "/api/v1/sync", headers=phone.headers, data=json.dumps(changes(
            visits={"created": [visit_record(world.customer)]},
            location_pings={"created": [ping_record()]}, orders={"created": [o]},
            order_lines={"created": [line_record(o["id"], world.product)]})))
    assert response.status_code == 500 and response.json["error"]["code"] == "internal_error"
    for model in (Visit, LocationPing, Order, OrderLine):
        assert stored(app, model) == []


# -- rule 2: retries never duplicate ---------------------------------------------------------

def test_the_same_push_three_times_gives_one_copy_and_the_same_state(world, app, phone):
    v = visit_record(world.customer)
    o = order_record(world.customer, visit_id=v["id"])
    body = changes(visits={"created": [v]},
                   location_pings={"created": [ping_record(), ping_record()]},
                   feedback={"created": [feedback_record(world.customer, visit_id=v["id"])]},
                   orders={"created": [o]},
                   order_lines={"created": [line_record(o["id"], world.product)]},
                   tasks={"created": [{"id": uid("t"), "title": "Call back", "category": "admin",
                                       "status": "open", "due_at": None, "customer_id": None}]})
    results = [phone.push(body, last_pulled_at=None) for _ in range(3)]
    assert results[0] == results[1] == results[2]
    assert results[0]["quarantined"] == []
    snapshot = {model: stored(app, model) for model in (Visit, LocationPing, Feedback, Order,
                                                        OrderLine, Task)}
    assert [len(rows) for rows in snapshot.values()] == [1, 2, 1, 1, 1, 2]
    phone.push(body, last_pulled_at=None)
    assert {model: stored(app, model) for model in snapshot} == snapshot  # not even re-stamped


def test_a_created_record_that_exists_updates_the_same_owners_record(world, app, phone):
    v = visit_record(world.customer)
    phone.push(changes(visits={"created": [v]}))
    phone.pull()
    phone.push(changes(visits={"created": [{**v, "notes": "second thoughts"}]}))
    assert [r["notes"] for r in stored(app, Visit)] == ["second thoughts"]


def test_an_updated_record_that_does_not_exist_is_created(world, app, phone):
    v = visit_record(world.customer, _status="updated")
    phone.pull()
    result = phone.push(changes(visits={"updated": [v]}))
    assert result["accepted"]["visits"] == 1
    assert stored(app, Visit)[0]["rep_id"] == world.team.rep.id


def test_a_deleted_id_that_does_not_exist_is_ignored(world, phone):
    result = phone.push(changes(visits={"deleted": ["never-was"]},
                                tasks={"deleted": ["nor-this"]}))
    assert result["quarantined"] == [] and result["accepted"]["visits"] == 1


def test_deleting_a_record_phones_may_not_delete_is_refused_not_applied(world, app, phone):
    v = visit_record(world.customer)
    phone.push(changes(visits={"created": [v]}))
    result = phone.push(changes(visits={"deleted": [v["id"]]}, tasks={"deleted": [world.task]}))
    assert {(q["table"], q["id"]) for q in result["quarantined"]} == {
        ("visits", v["id"]), ("tasks", world.task)}
    assert stored(app, Visit)[0]["deleted_at"] is None


# -- rule 3: ownership from the token --------------------------------------------------------

def test_another_reps_id_never_overwrites_their_record(world, app, phone, other_phone):
    theirs = visit_record(world.foreign_customer, check_in_latitude=48.1, check_in_longitude=11.5)
    other_phone.push(changes(visits={"created": [theirs]}))
    hijack = {**theirs, "customer_id": world.customer, "notes": "mine now"}
    for kind in ("created", "updated"):
        result = phone.push(changes(visits={kind: [hijack]}))
        assert result["accepted"]["visits"] == 0
        assert result["quarantined"] == [{
            "table": "visits", "id": theirs["id"],
            "errors": {"id": ["This id cannot be written by you."]}}]
    [row] = stored(app, Visit)
    assert row["rep_id"] == world.team.other_rep.id and row["notes"] == "fine"


def test_the_owner_is_the_signed_in_rep_whatever_the_payload_says(world, app, phone):
    v = visit_record(world.customer, rep_id=world.team.other_rep.id, assigned_rep_id="x")
    phone.push(changes(visits={"created": [v]}))
    assert stored(app, Visit)[0]["rep_id"] == world.team.rep.id


def test_tables_phones_may_not_push_are_refused_record_by_record(world, app, phone):
    customer = {"id": world.customer, "name": "Renamed", "latitude": 0, "longitude": 0,
                "geofence_radius_m": 1, "kind": "account"}
    product = {"id": uid("p"), "sku": "X", "name": "Free beer", "unit": "each",
               "unit_price": 0, "stock_on_hand": 1}
    v = visit_record(world.customer)
    result = phone.push(changes(customers={"updated": [customer]},
                                products={"created": [product]}, visits={"created": [v]}))
    assert result["accepted"]["visits"] == 1
    assert {(q["table"], q["id"]) for q in result["quarantined"]} == {
        ("customers", world.customer), ("products", product["id"])}
    assert stored(app, Customer, id=world.customer)[0]["name"] == "Kiosk Mitte"


def test_create_only_tables_refuse_changes_but_accept_retries(world, app, phone):
    o = order_record(world.customer)
    f = feedback_record(world.customer)
    p = ping_record()
    phone.push(changes(orders={"created": [o]}, feedback={"created": [f]},
                       location_pings={"created": [p]}))
    phone.pull()
    retry = phone.push(changes(orders={"updated": [{**o, "status": "delivered"}]},
                               feedback={"created": [f]}, location_pings={"created": [p]}))
    assert retry["quarantined"] == []
    changed = phone.push(changes(orders={"updated": [{**o, "notes": "more"}]},
                                 feedback={"updated": [{**f, "rating": 1}]},
                                 location_pings={"created": [{**p, "latitude": 10}]}))
    assert {q["table"] for q in changed["quarantined"]} == {"orders", "feedback",
                                                           "location_pings"}
    assert stored(app, Order)[0]["notes"] is None
    assert stored(app, Feedback)[0]["rating"] == 4
    assert stored(app, LocationPing)[0]["latitude"] == 52.52


# -- rule 4: conflicts -----------------------------------------------------------------------

def test_an_update_of_a_record_changed_since_the_last_pull_is_409_and_stores_nothing(
        world, app, phone, phone2):
    v = visit_record(world.customer)
    phone.push(changes(visits={"created": [v]}))
    phone.pull(), phone2.pull()
    phone2.push(changes(visits={"updated": [{**v, "notes": "phone 2 was here"}]}))

    newcomer = visit_record(world.customer2, check_in_latitude=52.55, check_in_longitude=13.40)
    result = phone.push(changes(visits={"created": [newcomer],
                                        "updated": [{**v, "outcome": "closed"}]},
                                location_pings={"created": [ping_record()]}), expect=409)
    assert result["error"]["code"] == "sync_conflict"
    assert result["error"]["details"] == {"conflicts": [{"table": "visits", "ids": [v["id"]]}]}
    assert [(r["id"], r["notes"], r["outcome"]) for r in stored(app, Visit)] == [
        (v["id"], "phone 2 was here", "order")]
    assert stored(app, LocationPing) == [] and stored(app, QuarantinedRecord) == []
    pushes = [e["outcome"] for e in stored(app, SyncLog) if e["direction"] == "push"]
    assert pushes[-1] == "conflict"


def test_a_retried_update_that_was_already_applied_is_not_a_conflict(world, app, phone):
    v = visit_record(world.customer)
    phone.push(changes(visits={"created": [v]}))
    phone.pull()
    since = phone.last_pulled_at
    body = changes(visits={"updated": [{**v, "outcome": "closed", "_changed": "outcome"}]})
    phone.push(body, last_pulled_at=since)
    phone.push(body, last_pulled_at=since)  # the answer was lost; the phone tries again
    assert stored(app, Visit)[0]["outcome"] == "closed"


def test_a_push_without_a_pull_conflicts_on_existing_rows_it_would_change(world, phone):
    result = phone.push(changes(tasks={"updated": [{"id": world.task, "title": "Mine",
                                                    "status": "done"}]}),
                        last_pulled_at=None, expect=409)
    assert result["error"]["details"]["conflicts"] == [{"table": "tasks", "ids": [world.task]}]


def test_a_retried_create_carrying_the_reps_later_edit_is_stored_not_a_conflict(world, app,
                                                                                phone):
    # The answer to the first push is lost; the rep edits the task, which the phone still
    # holds as created (WatermelonDB keeps no _changed for it), and the retry carries the edit.
    # A 409 here would make the phone pull the old version over the rep's edit.
    task = {"id": uid("t"), "customer_id": world.customer, "title": "Bring samples",
            "description": None, "category": "selling", "due_at": None, "status": "open",
            "completed_at": None, "completion_note": None, "latitude": None, "longitude": None}
    phone.pull()
    since = phone.last_pulled_at
    phone.push(changes(tasks={"created": [task]}), last_pulled_at=since)
    edited = {**task, "status": "done", "completed_at": now_ms(), "completion_note": "2 boxes"}
    retry = phone.push(changes(tasks={"created": [edited]}), last_pulled_at=since)
    assert retry["accepted"]["tasks"] == 1
    stored_task = stored(app, Task, id=task["id"])[0]
    assert (stored_task["status"], stored_task["completion_note"]) == ("done", "2 boxes")


def test_a_retried_created_record_is_not_a_conflict_for_server_changes_to_read_only_columns(
        world, app, phone, client):
    o = order_record(world.customer)
    ln = line_record(o["id"], world.product, quantity=3)
    phone.pull()
    since = phone.last_pulled_at
    body = changes(orders={"created": [o]}, order_lines={"created": [ln]})
    phone.push(body, last_pulled_at=since)
    delivered = client.post(f"/api/v1/orders/{o['id']}/deliveries",
                            json={"lines": [{"order_line_id": ln["id"], "quantity": 3}]},
                            headers=world.team.headers["procurement"])
    assert delivered.status_code == 201, delivered.json

    retry = phone.push(body, last_pulled_at=since)  # status and delivered_quantity changed
    assert retry["quarantined"] == [] and retry["accepted"]["orders"] == 1
    assert stored(app, Order)[0]["status"] == "delivered"
    assert stored(app, OrderLine)[0]["delivered_quantity"] == 3


def test_a_push_with_a_cursor_the_server_never_handed_out_is_409_and_stores_nothing(
        world, app, phone):
    ten_years_on = now_ms() + 10 * 365 * DAY_MS
    v = visit_record(world.customer)
    result = phone.push(changes(visits={"created": [v]},
                                location_pings={"created": [ping_record()]}),
                        last_pulled_at=ten_years_on, expect=409)
    assert set(result) == {"error"}
    assert result["error"]["code"] == "sync_conflict"
    assert result["error"]["message"].endswith("pull, then push again.")
    assert result["error"]["details"]["conflicts"] == []
    assert "last_pulled_at" in result["error"]["details"]
    assert stored(app, Visit) == [] and stored(app, LocationPing) == []
    last = stored(app, SyncLog)[-1]
    assert (last["direction"], last["outcome"], last["last_pulled_at"]) == (
        "push", "conflict", ten_years_on)


def test_a_phone_holding_a_cursor_from_the_future_syncs_again_like_a_stock_client(
        world, app, phone):
    """synchronize(): pull, then push with the pull's timestamp; after a 409, the same again."""
    phone.last_pulled_at = now_ms() + 400 * DAY_MS  # restored from another server's backup
    v = visit_record(world.customer)
    body = changes(visits={"created": [v]})
    phone.push(body, expect=409)  # an app that pushes first is told to pull
    pulled = phone.pull()  # answered as a first pull, with a fresh timestamp
    assert ids(pulled, "customers", "created") == {world.customer, world.customer2}
    assert phone.last_pulled_at <= now_ms()
    phone.push(body)
    assert [r["id"] for r in stored(app, Visit)] == [v["id"]]
    again = phone.pull()  # and from then on, ordinary pulls from its new cursor
    assert ids(again, "visits", "created") == {v["id"]}
    assert ids(again, "customers", "created") == set()
    phone.push(changes(visits={"updated": [{**v, "notes": "later", "_changed": "notes"}]}))
    assert stored(app, Visit)[0]["notes"] == "later"


def test_append_only_tables_never_conflict(world, phone, phone2):
    f = feedback_record(world.customer)
    phone.push(changes(feedback={"created": [f]}))
    phone.pull()
    phone2.push(changes(feedback={"updated": [f]}), last_pulled_at=0)
    phone2.push(changes(feedback={"updated": [{**f, "rating": 2}]}), last_pulled_at=0)


def test_writes_to_a_record_removed_on_the_server_are_quarantined_not_accepted(world, app,
                                                                               phone, client):
    task = phone.pull()["changes"]["tasks"]["created"][0]
    assert client.delete(f"/api/v1/tasks/{world.task}",
                         headers=world.team.headers["manager"]).status_code == 204
    done = {**task, "status": "done", "completed_at": now_ms(), "_changed": "status"}
    for kind in ("updated", "created"):  # from before the removal: kept, not a 409
        result = phone.push(changes(tasks={kind: [done]}))
        assert result["accepted"]["tasks"] == 0
        assert result["quarantined"] == [{"table": "tasks", "id": world.task, "errors": {
            "_schema": ["This record was removed on the server."]}}]
    kept = stored(app, QuarantinedRecord)
    assert [(q["operation"], q["payload"]) for q in kept] == [("updated", done), ("created", done)]
    [row] = stored(app, Task, id=world.task)
    assert row["status"] == "open" and row["deleted_at"] is not None


# -- rule 5: quarantine -----------------------------------------------------------------------

def test_invalid_records_are_quarantined_whole_and_the_rest_is_stored(world, app, phone):
    good = visit_record(world.customer)
    bad_coordinates = visit_record(world.customer, check_in_latitude=123.0)
    unknown_customer = visit_record("no-such-customer")
    foreign_customer = visit_record(world.foreign_customer)
    bad_rating = feedback_record(world.customer, rating=9)
    text_for_number = visit_record(world.customer, check_in_at="yesterday")
    bad_id = visit_record(world.customer, id="has spaces!")
    odd_ids = [visit_record(world.customer, id=[1]), visit_record(world.customer, id={"a": 1}),
               {k: v for k, v in visit_record(world.customer).items() if k != "id"}]
    bad_enum = feedback_record(world.customer, category="weather")
    result = phone.push(changes(
        visits={"created": [good, bad_coordinates, unknown_customer, foreign_customer,
                            text_for_number, bad_id, *odd_ids]},
        feedback={"created": [bad_rating, bad_enum]}))

    assert result["accepted"]["visits"] == 1 and result["accepted"]["feedback"] == 0
    errors = {q["id"]: q["errors"] for q in result["quarantined"] if q["id"] is not None}
    assert [q["errors"] for q in result["quarantined"] if q["id"] is None] == [
        {"id": ["Must be an id of 1-64 characters of A-Z a-z 0-9 _ - ."]}] * 3
    assert errors == {
        bad_coordinates["id"]: {"check_in_latitude": ["Must be at most 90."]},
        unknown_customer["id"]: {"customer_id": ["No customer with this id is assigned to you."]},
        foreign_customer["id"]: {"customer_id": ["No customer with this id is assigned to you."]},
        text_for_number["id"]: {"check_in_at": ["Must be a number."]},
        "has spaces!": {"id": ["Must be an id of 1-64 characters of A-Z a-z 0-9 _ - ."]},
        bad_rating["id"]: {"rating": ["Must be at most 5."]},
        bad_enum["id"]: {"category": [
            "Must be one of: product, delivery, service, price, other."]},
    }
    assert [r["id"] for r in stored(app, Visit)] == [good["id"]]
    kept = {q["record_id"]: q for q in stored(app, QuarantinedRecord)}
    assert kept[bad_rating["id"]]["payload"] == bad_rating  # whole, as pushed
    assert kept[bad_rating["id"]]["table_name"] == "feedback"
    assert kept[bad_rating["id"]]["operation"] == "created"
    assert kept[bad_rating["id"]]["user_id"] == world.team.rep.id
    assert kept[bad_rating["id"]]["status"] == "pending"


COLUMN_CHECKS = [
    ("check_in_at", True, "Must be a number."),
    ("check_in_at", 1.5, "Must be a whole number."),
    ("check_in_at", -1, "Must be a time in milliseconds since the Unix epoch."),
    ("check_in_latitude", "52.5", "Must be a number."),
    ("check_in_longitude", -181, "Must be at least -180."),
    ("check_in_accuracy_m", -3, "Must be at least 0."),
    ("customer_id", None, "Must not be null."),
    ("outcome", "maybe", "Must be one of: order, no_order, follow_up, closed."),
    ("notes", "x" * 10_001, "Must be at most 10000 characters."),
    ("notes", "nul\x00byte", "Must not contain NUL characters."),
    ("notes", 12, "Must be a string."),
    ("customer_id", "c000001\n", "Must be an id of 1-64 characters of A-Z a-z 0-9 _ - ."),
    ("check_in_latitude", float("inf"), "Must be a finite number."),
]


def test_each_column_is_checked_for_type_and_range(world, app, phone):
    records = [{**visit_record(world.customer), column: value}
               for column, value, _ in COLUMN_CHECKS]
    body = json.dumps(changes(visits={"created": records})).replace("Infinity", "1e999")
    result = phone.push(body, raw=True)
    assert result["accepted"]["visits"] == 0
    assert [q["errors"] for q in result["quarantined"]] == [
        {column: [message]} for column, _, message in COLUMN_CHECKS]
    kept = {q["record_id"]: q["payload"] for q in stored(app, QuarantinedRecord)}
    assert kept[records[-1]["id"]]["check_in_latitude"] == "inf"  # kept, as text


def test_required_columns_missing_from_a_new_record_are_refused(world, phone):
    record = {"id": uid("v"), "customer_id": world.customer}
    result = phone.push(changes(visits={"created": [record]}))
    assert result["quarantined"][0]["errors"] == {
        "check_in_at": ["Missing."], "check_in_latitude": ["Missing."],
        "check_in_longitude": ["Missing."]}


def test_private_keys_unknown_keys_and_read_only_columns_are_ignored(world, app, phone):
    o = order_record(world.customer, status="delivered", promised_dispatch_at=123,
                     _status="created", _changed="notes", created_at=now_ms(),
                     updated_at=now_ms())
    v = visit_record(world.customer, verified=True, distance_m=0.0, check_in_latitude=52.53)
    ln = line_record(o["id"], world.product, delivered_quantity=99)
    result = phone.push(changes(orders={"created": [o]}, visits={"created": [v]},
                                order_lines={"created": [ln]}))
    assert result["quarantined"] == []
    [stored_order] = stored(app, Order)
    assert (stored_order["status"], stored_order["promised_dispatch_at"]) == ("open", None)
    [stored_visit] = stored(app, Visit)
    assert stored_visit["verified"] is False and stored_visit["distance_m"] > 1000
    assert stored(app, OrderLine)[0]["delivered_quantity"] == 0


def test_order_lines_are_checked_against_products_and_orders(world, app, phone, other_phone):
    o = order_record(world.customer)
    bad_order = order_record("no-such-customer")
    theirs = order_record(world.foreign_customer)
    other_phone.push(changes(orders={"created": [theirs]}))
    lines = [line_record(o["id"], world.product),
             line_record(o["id"], world.product2, unit_price=4),
             line_record(o["id"], "no-such-product"), line_record(o["id"], world.gone_product),
             line_record(bad_order["id"], world.product),
             line_record(theirs["id"], world.product),
             line_record(o["id"], world.product, unit_price=1.234),
             line_record(o["id"], world.product, quantity=0)]
    result = phone.push(changes(orders={"created": [o, bad_order]},
                                order_lines={"created": lines}))
    assert result["accepted"]["order_lines"] == 2
    errors = {q["id"]: q["errors"] for q in result["quarantined"]}
    assert errors[lines[2]["id"]] == {"product_id": ["No active product with this id."]}
    assert errors[lines[3]["id"]] == {"product_id": ["No active product with this id."]}
    assert errors[lines[4]["id"]] == {"order_id": ["No order of yours with this id."]}
    assert errors[lines[5]["id"]] == {"order_id": ["No order of yours with this id."]}
    assert errors[lines[6]["id"]] == {"unit_price": ["Must have at most 2 decimal places."]}
    assert errors[lines[7]["id"]] == {"quantity": ["Must be at least 1e-06."]}
    assert {r["id"] for r in stored(app, OrderLine)} == {lines[0]["id"], lines[1]["id"]}

    later = line_record(o["id"], world.product2, unit_price=4)  # onto an order stored earlier
    assert phone.push(changes(order_lines={"created": [later]}))["accepted"]["order_lines"] == 1


def test_feedback_and_orders_may_point_to_visits_of_the_same_push_or_earlier(world, phone):
    v = visit_record(world.customer)
    first = phone.push(changes(visits={"created": [v]},
                               feedback={"created": [feedback_record(
                                   world.customer, visit_id=v["id"], product_id=world.product,
                                   requested_quantity=12)]}))
    later = phone.push(changes(
        orders={"created": [order_record(world.customer, visit_id=v["id"])]},
        feedback={"created": [feedback_record(world.customer, visit_id="not-a-visit")]}))
    assert first["quarantined"] == []
    assert later["accepted"]["orders"] == 1
    assert later["quarantined"][0]["errors"] == {"visit_id": ["No visit of yours with this id."]}


def test_the_first_order_makes_a_prospect_an_account(world, app, phone):
    phone.pull()
    phone.push(changes(orders={"created": [order_record(world.customer)]}))
    assert stored(app, Customer, id=world.customer)[0]["kind"] == "account"
    assert phone.pull()["changes"]["customers"]["updated"][0]["kind"] == "account"


def test_work_done_offline_for_a_customer_reassigned_meanwhile_is_kept(world, phone, client,
                                                                       team):
    client.patch(f"/api/v1/customers/{world.customer}", headers=team.headers["manager"],
                 json={"assigned_rep_id": team.rep2.id})
    result = phone.push(changes(visits={"created": [visit_record(world.customer)]}))
    assert result["accepted"]["visits"] == 1


# -- tasks --------------------------------------------------------------------------------------

def test_a_rep_creates_and_completes_tasks_keeping_where_they_were_completed(world, app, phone):
    phone.pull()
    new = {"id": uid("t"), "customer_id": world.customer2, "title": "Bring samples",
           "description": None, "category": "selling", "due_at": now_ms(), "status": "open",
           "completed_at": None, "completion_note": None, "latitude": None, "longitude": None}
    phone.push(changes(tasks={"created": [new]}))
    phone.pull()
    done_at = now_ms()
    completed = {**new, "status": "done", "completed_at": done_at, "completion_note": "left 3",
                 "latitude": 52.5501, "longitude": 13.4002}
    phone.push(changes(tasks={"updated": [completed]}))
    row = stored(app, Task, id=new["id"])[0]
    assert row["assigned_rep_id"] == world.team.rep.id and row["created_by_id"] == world.team.rep.id
    assert (row["status"], row["completed_at"], row["latitude"], row["longitude"]) == (
        "done", done_at, 52.5501, 13.4002)
    pulled = phone.pull()["changes"]["tasks"]
    assert pulled["updated"] == [{k: v for k, v in completed.items()}]


def test_on_a_task_given_to_them_a_rep_changes_only_what_rest_lets_reps_change(world, app,
                                                                              phone, client):
    created = client.post("/api/v1/tasks", headers=world.team.headers["manager"], json={
        "assigned_rep_id": world.team.rep.id, "customer_id": world.customer,
        "title": "Count stock", "description": "Back room", "category": "admin",
        "due_at": now_ms() + 86_400_000})
    assert created.status_code == 201, created.json
    pulled = {t["id"]: t for t in phone.pull()["changes"]["tasks"]["created"]}
    for given in (pulled[world.task], pulled[created.json["id"]]):  # no creator, a manager
        other_category = {"selling": "admin", "admin": "selling"}[given["category"]]
        rewritten = {**given, "title": "Skip it", "category": other_category, "due_at": 1,
                     "customer_id": world.customer2, "status": "done", "_status": "updated"}
        result = phone.push(changes(tasks={"updated": [rewritten]}))
        assert result["accepted"]["tasks"] == 0
        assert result["quarantined"] == [{"table": "tasks", "id": given["id"], "errors": {
            column: ["Reps may not change this field."]
            for column in ("customer_id", "title", "category", "due_at")}}]
        assert stored(app, Task, id=given["id"])[0]["status"] == "open"

        # Sent whole, as WatermelonDB does: the unchanged columns pass ("" for no text, too).
        completed = {**given, "description": given["description"] or "",
                     "status": "done", "completed_at": now_ms(),
                     "completion_note": "counted", "latitude": 52.52, "longitude": 13.405,
                     "_status": "updated", "_changed": "status,completed_at,completion_note"}
        assert phone.push(changes(tasks={"updated": [completed]}))["quarantined"] == []
        row = stored(app, Task, id=given["id"])[0]
        assert (row["title"], row["status"], row["latitude"]) == (given["title"], "done", 52.52)


def test_a_task_the_rep_created_on_the_phone_stays_fully_editable(world, app, phone):
    mine = {"id": uid("t"), "customer_id": world.customer, "title": "Call back",
            "description": None, "category": "selling", "due_at": now_ms(), "status": "open",
            "completed_at": None, "completion_note": None, "latitude": None, "longitude": None}
    phone.push(changes(tasks={"created": [mine]}))
    phone.pull()
    edited = {**mine, "title": "Call back on Monday", "category": "admin",
              "due_at": mine["due_at"] + 3 * DAY_MS,
              "customer_id": world.customer2, "description": "ask for Ana"}
    assert phone.push(changes(tasks={"updated": [edited]}))["quarantined"] == []
    row = stored(app, Task, id=mine["id"])[0]
    assert (row["title"], row["category"], row["customer_id"]) == (
        "Call back on Monday", "admin", world.customer2)


def test_a_new_task_gets_column_defaults_and_needs_a_title(world, app, phone):
    minimal = {"id": uid("t"), "title": "Paperwork"}
    untitled = {"id": uid("t"), "title": "  "}
    result = phone.push(changes(tasks={"created": [minimal, untitled]}))
    assert result["quarantined"][0]["errors"] == {"title": ["Must not be empty."]}
    row = stored(app, Task, id=minimal["id"])[0]
    assert (row["category"], row["status"]) == ("selling", "open")


def test_an_update_may_send_only_some_columns(world, app, phone):
    v = visit_record(world.customer, check_out_at=None)
    phone.push(changes(visits={"created": [v]}))
    phone.pull()
    check_out = v["check_in_at"] + 900_000
    result = phone.push(changes(visits={"updated": [{"id": v["id"], "check_out_at": check_out}]}))
    assert result["quarantined"] == []
    row = stored(app, Visit)[0]
    assert (row["check_out_at"], row["notes"], row["time_on_site_s"]) == (check_out, "fine", 900)


JUNK = [None, "", " ", True, False, 0, -1, 10**30, -1e308, 1e-300, 3.5, "x" * 300, [], {},
        [1, 2], {"a": None}, "null", "\u202e\u0000"]


def test_junk_in_any_column_is_accepted_or_quarantined_never_an_error(world, app, phone):
    o = order_record(world.customer)
    base = {
        "tasks": {"id": "t", "customer_id": world.customer, "title": "T", "description": None,
                  "category": "admin", "due_at": now_ms(), "status": "open",
                  "completed_at": None, "completion_note": None, "latitude": None,
                  "longitude": None},
        "visits": visit_record(world.customer),
        "location_pings": ping_record(),
        "feedback": feedback_record(world.customer),
        "orders": o,
        "order_lines": line_record(o["id"], world.product),
        "customers": {"id": "c", "name": "C"},
        "products": {"id": "p", "sku": "S"},
    }
    body = changes(orders={"created": [o]})
    sent = 0
    for table, record in base.items():
        for column in [c for c in record if c != "id" and not c.startswith("_")] + ["id"]:
            for n, junk in enumerate(JUNK):
                body[table]["created"].append({**record, "id": uid(f"j{n}-"), column: junk})
                sent += 1
    result = phone.push(body)
    assert sum(result["accepted"].values()) + len(result["quarantined"]) == sent + 1
    with app.app_context():
        assert QuarantinedRecord.query.count() == len(result["quarantined"])


def test_an_integer_too_long_to_convert_quarantines_its_record_only(world, app, phone):
    huge = "9" * 5_000  # past Python's 4,300-digit limit for int()
    bad, good = visit_record(world.customer), visit_record(world.customer)
    body = json.dumps(changes(visits={"created": [bad, good]})).replace(
        '"check_in_accuracy_m": 10.0', '"check_in_accuracy_m": ' + huge, 1)
    result = phone.push(body, raw=True)
    assert result["accepted"]["visits"] == 1
    assert result["quarantined"] == [{"table": "visits", "id": bad["id"],
                                      "errors": {"check_in_accuracy_m": ["Out of range."]}}]
    assert [r["id"] for r in stored(app, Visit)] == [good["id"]]
    kept = stored(app, QuarantinedRecord)[0]["payload"]
    assert kept["check_in_accuracy_m"] == huge  # kept, as text


def test_the_answer_names_an_absurd_id_as_shortly_as_the_quarantine_keeps_it(world, app, phone):
    result = phone.push(changes(
        visits={"created": [visit_record(world.customer, id="x" * 2_000_000)]}))
    [kept] = stored(app, QuarantinedRecord)
    assert result["quarantined"][0]["id"] == kept["record_id"] == "x" * 200


def test_absurdly_nested_values_are_quarantined_and_cut(world, app, phone):
    record = visit_record(world.customer)
    body = json.dumps(changes(visits={"created": [record]})).replace(
        '"notes": "fine"', '"notes": ' + "[" * 500 + "]" * 500)
    result = phone.push(body, raw=True)
    assert result["quarantined"][0]["errors"] == {"notes": ["Must be a string."]}
    kept = stored(app, QuarantinedRecord)[0]["payload"]["notes"]
    assert json.dumps(kept).count("[") == 19 and "nested too deeply" in json.dumps(kept)
