"""The real WatermelonDB against a real server: a stock `synchronize()` on its LokiJS adapter, in
Node (tests/support/watermelon/phone.js), syncing with gunicorn on a scratch database.

- A phone on schema version 1 syncs as it always did: it never sees planned visits, and what
  it makes (a visit, an order and its line) is stored and comes back verified.
- The same phone upgrades to version 2 with WatermelonDB's own `schemaMigrations`; its next
  sync is WatermelonDB's migration sync (`migrationsEnabledAtVersion: 1`): it pulls its plan,
  skips one planned visit with a reason, carries out another (a verified visit at that
  customer) and syncs; the server shows one done, one skipped, one still planned.

The JavaScript's packages are pinned by tests/support/watermelon/package-lock.json and
installed with `npm ci` on first use (node_modules is git-ignored and kept while the lock is
the same). Without Node (or npm) the tests are skipped, unless FIELDSALES_REQUIRE_NODE=1 or
CI is set (.ci/run), where that is a failure.
"""
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fieldsales.common import DAY_MS
from tests.support.phones import Server
from tests.test_wire import sign_in

# gunicorn (another process) and this one must share a clock: not under --at.
pytestmark = [pytest.mark.real_clock]

PHONE_DIR = Path(__file__).resolve().parents[1] / "support" / "watermelon"
ADMIN, PASSWORD = "admin@watermelon.example.com", "wire-password-1"
V1_TABLES = ["customers", "feedback", "location_pings", "order_lines", "orders", "products",
             "tasks", "visits"]


def _missing(reason: str):
    if os.environ.get("FIELDSALES_REQUIRE_NODE") == "1" or os.environ.get("CI"):
        pytest.fail(f"{reason}, and this is CI (FIELDSALES_REQUIRE_NODE=1 or CI set): "
                    ".ci/run installs Node")
    pytest.skip(f"{reason} (install Node 18+ with npm; FIELDSALES_REQUIRE_NODE=1 makes this a "
                "failure)")


@pytest.fixture(scope="module")
def node() -> str:
    """Node, with the phone's packages installed by `npm ci` (once per lock file)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        _missing("no node or npm on PATH")
    lock = PHONE_DIR / "package-lock.json"
    stamp = PHONE_DIR / "node_modules" / ".fieldsales-lock-sha256"
    wanted = hashlib.sha256(lock.read_bytes()).hexdigest()
    with open(PHONE_DIR / ".npm-ci.lock", "w") as guard:  # xdist workers install once
        fcntl.flock(guard, fcntl.LOCK_EX)
        if not stamp.exists() or stamp.read_text() != wanted:
            done = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=PHONE_DIR,
                                  capture_output=True, text=True, timeout=600)
            assert done.returncode == 0, f"npm ci failed:\n{done.stdout}\n{done.stderr}"
            stamp.write_text(wanted)
    return node


@pytest.fixture(scope="module")
def server():
    with tempfile.TemporaryDirectory(prefix="fieldsales-watermelon-") as folder:
        # SQLite outside pytest's folders, as tests/hardening/test_fault_phones.py explains.
        server = Server(f"sqlite:///{folder}/phones.db", workers=1,
                        log_path=Path(folder) / "server.log")
        server.prepare(admin_email=ADMIN, admin_password=PASSWORD)
        server.start()
        try:
            yield server
        finally:
            server.stop()


_reps = iter(range(1, 1000))


@pytest.fixture
def rep(server):
    """A fresh rep of a fresh manager, four customers of the rep in Lisbon and a product."""
    n = next(_reps)
    admin = sign_in(server, ADMIN)
    manager = admin.json("POST", "/api/v1/users", {
        "email": f"manager{n}@watermelon.example.com", "password": PASSWORD,
        "name": f"Manager {n}", "role": "manager"}, expect=201)
    rep = admin.json("POST", "/api/v1/users", {
        "email": f"rep{n}@watermelon.example.com", "password": PASSWORD, "name": f"Rep {n}",
        "role": "rep", "manager_id": manager["id"]}, expect=201)
    customers = [admin.json("POST", "/api/v1/customers", {
        "name": f"Outlet {n}.{k}", "latitude": 38.70 + k / 100, "longitude": -9.14,
        "geofence_radius_m": 100, "kind": "account", "assigned_rep_id": rep["id"]},
        expect=201) for k in range(4)]
    product = admin.json("POST", "/api/v1/products", {
        "sku": f"WM-{n}", "name": f"Product {n}", "unit": "case", "unit_price": 4.5,
        "stock_on_hand": 10, "lead_time_days": 2}, expect=201)
    return {"id": rep["id"], "email": rep["email"], "customers": customers, "product": product,
            "manager": sign_in(server, manager["email"]), "admin": admin}


def run_phone(node: str, server: Server, rep: dict, steps: list[dict]) -> list:
    """The phone's steps, run by phone.js in one Node process; what each step returned."""
    config = {"base_url": server.base_url, "email": rep["email"], "password": PASSWORD,
              "steps": steps}
    done = subprocess.run([node, "phone.js", json.dumps(config)], cwd=PHONE_DIR,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"phone.js failed:\n{done.stderr}\n{done.stdout}"
    return [entry["result"] for entry in json.loads(done.stdout)["results"]]


def _visit_at(customer: dict, check_in_at: int) -> dict:
    return {"customer_id": customer["id"], "check_in_at": check_in_at,
            "check_in_latitude": customer["latitude"], "check_in_longitude": customer["longitude"],
            "check_in_accuracy_m": 8, "check_out_at": check_in_at + 1000,
            "check_out_latitude": customer["latitude"],
            "check_out_longitude": customer["longitude"], "outcome": "no_order",
            "notes": "Met the owner"}


def _now_ms() -> int:
    return int(time.time() * 1000)


def test_a_version_1_watermelondb_phone_syncs_what_it_makes_and_never_sees_plans(node, server,
                                                                                 rep):
    customer = rep["customers"][0]
    rep["manager"].json("POST", "/api/v1/planned-visits", {  # a plan: not for this phone
        "rep_id": rep["id"], "customer_id": customer["id"],
        "planned_date": datetime.now(UTC).date().isoformat()}, expect=201)
    at = _now_ms() - 60_000
    _open, first, _visit, _order, _line, second, _again, seen = run_phone(node, server, rep, [
        {"do": "open", "version": 1},
        {"do": "sync"},
        {"do": "create", "table": "visits", "as": "visit", "values": _visit_at(customer, at)},
        {"do": "create", "table": "orders", "as": "order", "values": {
            "customer_id": customer["id"], "visit_id": {"$made": "visit"}, "ordered_at": at,
            "notes": "Rush"}},
        {"do": "create", "table": "order_lines", "values": {
            "order_id": {"$made": "order"}, "product_id": rep["product"]["id"], "quantity": 3,
            "unit_price": 4.5}},
        {"do": "sync"},
        {"do": "sync"},
        {"do": "snapshot"},
    ])
    pull = first["pulls"][0]
    assert pull["schemaVersion"] == 1 and pull["migration"] is None
    assert pull["tables"] == V1_TABLES and pull["counts"]["customers"]["created"] == 4
    push = second["pushes"][0]
    assert push["tables"] == V1_TABLES
    assert push["answer"]["quarantined"] == []
    assert {t: n for t, n in push["answer"]["accepted"].items() if n} == {
        "visits": 1, "orders": 1, "order_lines": 1}
    assert "planned_visits" not in push["answer"]["accepted"]
    assert seen["planned_visits"] is None  # the phone has no such table
    [visit] = seen["visits"]
    assert visit["verified"] is True and visit["_status"] == "synced"
    assert "planned_visit_id" not in visit
    assert [o["status"] for o in seen["orders"]] == ["open"]
    orders = rep["admin"].json("GET", f"/api/v1/orders?rep_id={rep['id']}")["items"]
    assert [o["notes"] for o in orders] == ["Rush"]


def test_a_watermelondb_phone_upgrades_to_version_2_pulls_its_plan_skips_one_and_does_one(
        node, server, rep):
    a, b, c, d = rep["customers"]
    today = datetime.now(UTC).date().isoformat()  # the team has no zone: UTC
    plan = {customer["id"]: rep["manager"].json("POST", "/api/v1/planned-visits", {
        "rep_id": rep["id"], "customer_id": customer["id"], "planned_date": today,
        "sequence": sequence}, expect=201)["id"]
        for sequence, customer in enumerate((a, b, c), start=1)}
    start_of_day = int(datetime.fromisoformat(today).replace(tzinfo=UTC).timestamp() * 1000)
    at = max(_now_ms() - 60_000, start_of_day + 1000)  # on the plan's day, never ahead
    assert at < start_of_day + DAY_MS
    steps = [
        {"do": "open", "version": 1},
        {"do": "sync"},
        {"do": "create", "table": "visits", "as": "old_visit", "values": _visit_at(d, at)},
        {"do": "sync"},
        {"do": "sync"},  # its last pull as version 1 is after the old visit's push
        {"do": "open", "version": 2},  # the app upgrade: WatermelonDB's schemaMigrations
        {"do": "snapshot"},
        {"do": "sync"},  # the migration sync
        {"do": "snapshot"},
        {"do": "update", "table": "planned_visits", "id": plan[b["id"]],
         "values": {"status": "skipped", "skip_reason": "Closed for renovation"}},
        {"do": "create", "table": "visits", "as": "visit", "values": _visit_at(a, at)},
        {"do": "sync"},
        {"do": "sync"},
        {"do": "snapshot"},
    ]
    results = run_phone(node, server, rep, steps)
    v1_sync, upgraded, migration_sync, migrated, made_visit, last_push, final = (
        results[1], results[6], results[7], results[8], results[10], results[11], results[13])
    assert v1_sync["pulls"][0]["schemaVersion"] == 1
    assert v1_sync["pulls"][0]["tables"] == V1_TABLES

    # WatermelonDB's migration ran on the phone: the table and column exist, still empty.
    assert upgraded["version"] == 2 and upgraded["planned_visits"] == []
    assert [v.get("planned_visit_id") for v in upgraded["visits"]] == [None]

    pull = migration_sync["pulls"][0]
    assert pull["schemaVersion"] == 2
    assert pull["migration"] == {"from": 1, "tables": ["planned_visits"],
                                 "columns": [{"table": "visits", "columns": ["planned_visit_id"]}]}
    assert pull["tables"] == sorted([*V1_TABLES, "planned_visits"])
    assert pull["counts"]["planned_visits"]["created"] == 3
    assert pull["counts"]["visits"] == {"created": 0, "updated": 1, "deleted": 0}  # the old
    # visit, sent again whole, with the new column
    assert "planned_visit_id" in pull["visitColumns"]
    assert sorted((p["sequence"], p["customer_id"], p["status"])
                  for p in migrated["planned_visits"]) == [
        (1, a["id"], "planned"), (2, b["id"], "planned"), (3, c["id"], "planned")]

    push = last_push["pushes"][0]
    assert push["answer"]["quarantined"] == []
    assert push["answer"]["accepted"]["planned_visits"] == 1
    assert push["answer"]["accepted"]["visits"] == 1

    server_plan = {p["customer_id"]: p for p in rep["manager"].json(
        "GET", f"/api/v1/planned-visits?rep_id={rep['id']}&planned_date={today}")["items"]}
    assert (server_plan[a["id"]]["status"], server_plan[a["id"]]["visit_id"]) == (
        "done", made_visit)
    assert (server_plan[b["id"]]["status"], server_plan[b["id"]]["skip_reason"]) == (
        "skipped", "Closed for renovation")
    assert server_plan[c["id"]]["status"] == "planned"

    # The phone learnt it too, and its visit knows the stop it carried out.
    phone_plan = {p["customer_id"]: p for p in final["planned_visits"]}
    assert [phone_plan[x["id"]]["status"] for x in (a, b, c)] == ["done", "skipped", "planned"]
    assert all(p["_status"] == "synced" for p in final["planned_visits"])
    visits = {v["id"]: v for v in final["visits"]}
    assert visits[made_visit]["planned_visit_id"] == plan[a["id"]]
    assert visits[made_visit]["verified"] is True

