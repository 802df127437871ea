#!/usr/bin/env python3
"""Simulated phones: N reps live a field day in fast-forward against a real server.

    .venv/bin/python bench/phones.py --phones 50                  # gunicorn on a fresh SQLite file
    .venv/bin/python bench/phones.py --phones 200 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test   # in a fresh schema
    .venv/bin/python bench/phones.py --target http://127.0.0.1:8000 \\
        --admin-email a@example.com --admin-password secret123 --database-url ...  # a running server

What it does:
1. Starts gunicorn itself (several workers, 127.0.0.1, a free port) on a fresh database, unless
   `--target` names a running server. An admin made with the CLI builds the world through the
   REST API: managers, reps, products, customers assigned to reps, tasks.
2. Every phone signs in with its own token (some reps carry two phones) and lives a field day in
   phone time: a GPS ping every few seconds, visits (check in, check out), orders with lines,
   feedback, task completions, offline gaps that queue work. It syncs like WatermelonDB: pull,
   then push with `last_pulled_at`; on 409 pull and push again. Some pushes are sent and hung up
   on before the answer (a client timeout) and then resent as they were; some accepted pushes
   are sent a second time; a few records are invalid on purpose (they belong in the quarantine).
   Transport failures and 5xx answers are retried with the same body.
   Meanwhile the admin edits task descriptions, so phones that complete tasks meet conflicts.
3. At the end it reads the database and compares it with what the phones recorded: every record
   exactly once, nothing lost, nothing extra, every column a phone owns as the phone last had it,
   the invalid records in the quarantine and nowhere else.
4. It prints throughput, push latency percentiles and the error count, and exits non-zero if
   the check fails or any request got an unexpected answer.

Only the standard library talks HTTP (http.client); SQLAlchemy reads the database for the check.
Bounded: loopback only, a fixed phone day, retries with a deadline, a wall-clock limit.
`Fleet`, `Server` and `check` are importable (the fault test drives them).
"""
from __future__ import annotations

import argparse
import bisect
import http.client
import json
import math
import os
import random
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from fieldsales.scratch import scratch_database  # noqa: E402  (runs as a script from anywhere)

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
PASSWORD = "bench-password-1"

# Every table of the phone's schema goes into every push (a stock WatermelonDB client does so).
PHONE_TABLES = ("customers", "products", "tasks", "visits", "location_pings", "feedback",
                "orders", "order_lines")
# Columns a phone owns, per table it creates records in: the server must store them as sent.
OWNED = {
    "visits": ("customer_id", "check_in_at", "check_in_latitude", "check_in_longitude",
               "check_in_accuracy_m", "check_out_at", "check_out_latitude",
               "check_out_longitude", "outcome", "notes"),
    "location_pings": ("recorded_at", "latitude", "longitude", "accuracy_m", "speed_mps",
                       "battery_pct"),
    "feedback": ("customer_id", "visit_id", "recorded_at", "rating", "category", "product_id",
                 "requested_quantity", "comment"),
    "orders": ("customer_id", "visit_id", "ordered_at", "requested_delivery_at", "notes"),
    "order_lines": ("order_id", "product_id", "quantity", "unit_price"),
}
TASK_OWNED = ("status", "completed_at", "completion_note")
ID_ALPHABET = string.ascii_letters + string.digits
MINUTE_MS = 60_000
NOTES = ("Shelf restocked", "Gerente ausente, voltar 5ª feira", "Wants the 6-pack promo",
         "Paid cash — receipt №42", "Prefers deliveries before 10:00", "店主说下周再订",
         "Competitor display by the door", "")


@dataclass
class Plan:
    """The shape of the run. Phone times are simulated; only `pace_ms`, `timeout_s`,
    `retry_for_s` and `max_wall_s` are real seconds."""

    phones: int = 50
    two_phone_share: float = 0.1  # share of reps that carry a second phone
    reps_per_manager: int = 10
    customers_per_rep: int = 8
    tasks_per_rep: int = 3
    products: int = 40
    hours: float = 8.0  # the field day, in phone time
    ping_every_s: int = 30
    sync_every_min: float = 10.0
    visits_per_day: int = 8
    order_share: float = 0.6
    feedback_share: float = 0.4
    offline_gaps: int = 2  # per phone and day, 15-60 minutes each
    abandon_share: float = 0.03  # pushes hung up on before the answer, then resent as they were
    duplicate_share: float = 0.03  # accepted pushes sent a second time
    bad_share: float = 0.01  # feedback with rating 9: belongs in the quarantine
    admin_edits_per_s: float = 2.0  # task descriptions changed by the admin during the day
    pace_ms: int = 0  # real pause after each sync (0: as fast as the server answers)
    timeout_s: float = 60.0  # client socket timeout
    retry_for_s: float = 120.0  # how long a phone keeps resending one request
    max_wall_s: float = 900.0  # phones stop their day early past this
    setup_threads: int = 8
    seed: int = 1


# --- HTTP ---------------------------------------------------------------------------------


class BenchError(RuntimeError):
    """The run cannot go on (server did not start, the world could not be built)."""


class TransportError(Exception):
    """No HTTP answer: refused, reset, timed out."""


class GiveUp(Exception):
    """A request kept failing for longer than the phone retries."""


@dataclass
class Reply:
    status: int
    data: bytes
    ms: float

    @property
    def json(self):
        try:
            return json.loads(self.data)
        except ValueError:
            return None

    def excerpt(self) -> str:
        return self.data[:300].decode("utf-8", "replace")


class Http:
    """One connection to the server (kept alive when the server allows), JSON bytes in/out."""

    def __init__(self, base_url: str, timeout: float):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port or 80
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None) -> Reply:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        start = time.perf_counter()
        try:
            self.conn.request(method, self.prefix + path, body=body, headers=headers or {})
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as error:
            self.close()
            raise TransportError(f"{type(error).__name__}: {error}") from None
        return Reply(response.status, data, (time.perf_counter() - start) * 1000)

    def abandon(self, method: str, path: str, body: bytes, headers: dict, after_s: float) -> None:
        """Send a request and hang up before reading the answer (a client-side timeout)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=5)
        try:
            conn.request(method, self.prefix + path, body=body, headers=headers)
            time.sleep(after_s)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


# --- the world: users, products, customers, tasks, made through the REST API --------------


@dataclass
class Rep:
    id: str
    email: str
    phones: int
    base: tuple[float, float]
    customers: list[str] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)


class Admin:
    """The admin's REST calls (thread-safe: a connection per thread)."""

    def __init__(self, base_url: str, email: str, password: str, plan: Plan):
        self.base_url, self.plan = base_url, plan
        self.local = threading.local()
        reply = self._http().request("POST", "/api/v1/auth/token", json.dumps(
            {"email": email, "password": password}).encode(),
            {"Content-Type": "application/json"})
        if reply.status != 200:
            raise BenchError(f"admin sign-in failed: {reply.status} {reply.excerpt()}")
        self.headers = {"Authorization": f"Bearer {reply.json['access_token']}",
                        "Content-Type": "application/json"}
        self.calls = 0
        self.server_errors = 0  # 5xx answers, resent: errors all the same

    def _http(self) -> Http:
        if getattr(self.local, "http", None) is None:
            self.local.http = Http(self.base_url, self.plan.timeout_s)
        return self.local.http

    def call(self, method: str, path: str, body: dict | None = None) -> Reply:
        """A REST call, resent after transport failures (PATCH and ids made here are
        idempotent; a POST resent after a lost answer may meet its own 409)."""
        data = json.dumps(body).encode() if body is not None else None
        give_up_at = time.monotonic() + self.plan.retry_for_s
        while True:
            try:
                reply = self._http().request(method, path, data, self.headers)
                self.calls += 1
                if reply.status < 500:
                    return reply
                self.server_errors += 1
            except TransportError:
                pass
            if time.monotonic() > give_up_at:
                raise GiveUp(f"{method} {path}")
            time.sleep(0.2)

    def create(self, path: str, body: dict) -> dict:
        reply = self.call("POST", path, body)
        if reply.status == 201:
            return reply.json
        if reply.status == 409 and body.get("id"):  # our own earlier attempt got through
            return {**body}
        raise BenchError(f"POST {path} {body} -> {reply.status} {reply.excerpt()}")


def build_world(admin: Admin, plan: Plan, run: str) -> tuple[list[Rep], dict]:
    """Managers, reps, products, customers and tasks, all through the REST API."""
    two = round(plan.phones * plan.two_phone_share / (1 + plan.two_phone_share))
    n_reps = plan.phones - two
    n_managers = max(1, math.ceil(n_reps / plan.reps_per_manager))
    pool = ThreadPoolExecutor(plan.setup_threads)

    managers = list(pool.map(lambda i: admin.create("/api/v1/users", {
        "email": f"manager{i}-{run}@bench.fieldsales.dev", "password": PASSWORD,
        "name": f"Manager {i}", "role": "manager"})["id"], range(n_managers)))

    def make_rep(i):
        user = admin.create("/api/v1/users", {
            "email": f"rep{i}-{run}@bench.fieldsales.dev", "password": PASSWORD,
            "name": f"Rep {i}", "role": "rep", "manager_id": managers[i % n_managers],
            "selling_style": "hunter" if i % 2 else "farmer"})
        base = (38.70 + (i % 20) * 0.05, -9.20 + (i // 20) * 0.05)  # reps spread over a grid
        return Rep(id=user["id"], email=user["email"], phones=2 if i < two else 1, base=base)

    reps = list(pool.map(make_rep, range(n_reps)))
    products = list(pool.map(lambda i: admin.create("/api/v1/products", {
        "id": f"bp{run}{i}", "sku": f"B-{run}-{i:04d}", "name": f"Bench product {i}",
        "unit": "case", "unit_price": round(1 + i * 0.75, 2), "stock_on_hand": 1000,
        "lead_time_days": 5})["id"], range(plan.products)))

    def make_customers(rep: Rep):
        for j in range(plan.customers_per_rep):
            local = random.Random(f"{plan.seed}-{rep.id}-{j}")
            body = {"id": f"bc{run}{rep.id[:8]}{j}", "name": f"Outlet {j} of {rep.email[:12]}",
                    "address": f"Rua {j}, Lisboa",
                    "latitude": round(rep.base[0] + local.uniform(-0.02, 0.02), 6),
                    "longitude": round(rep.base[1] + local.uniform(-0.02, 0.02), 6),
                    "geofence_radius_m": 150, "segment": "grocery", "kind": "account",
                    "assigned_rep_id": rep.id}
            rep.customers.append(admin.create("/api/v1/customers", body)["id"])

    list(pool.map(make_customers, reps))

    def make_tasks(rep: Rep):
        for j in range(plan.tasks_per_rep):
            body = {"id": f"bt{run}{rep.id[:8]}{j}", "assigned_rep_id": rep.id,
                    "customer_id": rep.customers[j % len(rep.customers)],
                    "title": f"Check the shelf {j}", "description": "original",
                    "category": "selling", "due_at": _now_ms() + 86_400_000}
            rep.tasks.append(admin.create("/api/v1/tasks", body)["id"])

    list(pool.map(make_tasks, reps))
    pool.shutdown()
    return reps, {"managers": n_managers, "reps": n_reps, "products": len(products),
                  "customers": n_reps * plan.customers_per_rep,
                  "tasks": n_reps * plan.tasks_per_rep}


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


# --- a phone --------------------------------------------------------------------------------


class Phone:
    """One device: a local database in WatermelonDB's shape and a field day to live."""

    def __init__(self, fleet: "Fleet", rep: Rep, index: int, token: str):
        self.fleet, self.plan, self.rep, self.index = fleet, fleet.plan, rep, index
        self.name = f"{rep.email.split('@')[0]}/{index}"
        self.rng = random.Random(f"{fleet.plan.seed}-{rep.id}-{index}")
        self.http = Http(fleet.base_url, fleet.plan.timeout_s)
        self.headers = {"Authorization": f"Bearer {token}", "X-Device-Id": f"bench-{index}"}
        if self.rng.random() < 0.5:  # the documented fetch sends no JSON content type
            self.headers["Content-Type"] = "text/plain;charset=UTF-8"
        self.local: dict[str, dict[str, dict]] = {t: {} for t in PHONE_TABLES}
        self.pending: dict[str, dict[str, tuple[str, set]]] = {t: {} for t in PHONE_TABLES}
        self.own: dict[str, set] = {t: set() for t in OWNED}
        # What this phone wrote, column by column, apart from the local rows pulls overwrite.
        self.truth: dict[str, dict[str, dict]] = {t: {} for t in (*OWNED, "tasks")}
        self.bad: dict[str, set] = {t: set() for t in OWNED}  # invalid on purpose
        self.last_pulled_at: int | None = None
        self.stats = Counter()
        self.push_ms: list[float] = []
        self.pull_ms: list[float] = []
        self.samples: list[str] = []

    # -- the local database --------------------------------------------------------------

    def new_id(self) -> str:
        return "".join(self.rng.choices(ID_ALPHABET, k=16))

    def create(self, table: str, record: dict, *, bad: bool = False) -> dict:
        self.local[table][record["id"]] = record
        self.pending[table][record["id"]] = ("created", set())
        (self.bad if bad else self.own)[table].add(record["id"])
        if not bad:
            self.truth[table][record["id"]] = {c: record[c] for c in OWNED[table]}
        return record

    def update(self, table: str, record_id: str, changes: dict) -> None:
        self.local[table][record_id].update(changes)
        self.truth[table].setdefault(record_id, {}).update(changes)
        kind, changed = self.pending[table].get(record_id, ("updated", set()))
        self.pending[table][record_id] = (kind, changed | set(changes))

    def apply_pull(self, changes: dict) -> None:
        """WatermelonDB's apply: server rows win, except columns with local pending changes."""
        for table, table_changes in changes.items():
            if table not in self.local:
                self.anomaly(f"pull: unknown table {table!r}")
                continue
            for record in table_changes.get("created", []) + table_changes.get("updated", []):
                record_id = record["id"]
                pending = self.pending[table].get(record_id)
                local = self.local[table].get(record_id)
                if pending is None and local is not None and record_id in self.own.get(table, ()):
                    for column in OWNED[table]:
                        if not _same(local.get(column), record.get(column)):
                            self.anomaly(f"pull changed {table}.{column} of own record {record_id}: "
                                         f"{local.get(column)!r} -> {record.get(column)!r}")
                if pending is None:
                    self.local[table][record_id] = dict(record)
                elif pending[0] == "updated":
                    merged = dict(record)
                    for column in pending[1]:
                        merged[column] = local[column]
                    self.local[table][record_id] = merged
            for record_id in table_changes.get("deleted", []):
                if record_id not in self.pending[table]:
                    self.local[table].pop(record_id, None)

    # -- HTTP with the phone's retry loop ---------------------------------------------------

    def call(self, method: str, path: str, body: bytes | None = None) -> Reply:
        """Send until there is an answer below 500, resending the same bytes after transport
        failures and 5xx answers, for at most `retry_for_s`."""
        give_up_at = min(time.monotonic() + self.plan.retry_for_s, self.fleet.hard_deadline)
        delay = 0.05
        while True:
            try:
                reply = self.http.request(method, path, body, self.headers)
                if reply.status < 500:
                    return reply
                self.stats["server_errors"] += 1
                self.sample(f"{method} {path.split('?')[0]} -> {reply.status} {reply.excerpt()}")
            except TransportError as error:
                self.stats["transport_retries"] += 1
                if self.stats["transport_retries"] <= 2:
                    self.sample(f"transport (retried): {method} {path.split('?')[0]} {error}")
            if time.monotonic() > give_up_at:
                self.stats["gave_up"] += 1
                raise GiveUp(f"{method} {path}")
            time.sleep(delay + self.rng.random() * delay)
            delay = min(delay * 2, 1.0)

    def sample(self, text: str) -> None:
        if len(self.samples) < 5:
            self.samples.append(f"{self.name}: {text}")

    def anomaly(self, text: str) -> None:
        self.stats["anomalies"] += 1
        self.sample(text)

    # -- sync -------------------------------------------------------------------------------

    def pull(self) -> bool:
        query = urlencode({"last_pulled_at": "null" if self.last_pulled_at is None
                           else self.last_pulled_at, "schema_version": 1, "migration": "null"})
        reply = self.call("GET", f"/api/v1/sync?{query}")
        if reply.status != 200:
            self.stats["client_errors"] += 1
            self.sample(f"pull -> {reply.status} {reply.excerpt()}")
            return False
        body = reply.json
        self.pull_ms.append(reply.ms)
        self.stats["pulls"] += 1
        if self.last_pulled_at is not None and body["timestamp"] < self.last_pulled_at:
            self.anomaly(f"pull timestamp went back: {self.last_pulled_at} -> {body['timestamp']}")
        self.apply_pull(body["changes"])
        self.last_pulled_at = body["timestamp"]
        return True

    def changes(self) -> tuple[dict, list[tuple[str, str]]]:
        body = {t: {"created": [], "updated": [], "deleted": []} for t in PHONE_TABLES}
        sent = []
        for table in PHONE_TABLES:
            for record_id, (kind, changed) in self.pending[table].items():
                raw = dict(self.local[table][record_id])
                raw["_status"] = kind
                raw["_changed"] = ",".join(sorted(changed))
                body[table][kind].append(raw)
                sent.append((table, record_id))
        return body, sent

    def push(self) -> str:
        """One push of everything pending: 'ok', 'conflict', 'empty' or 'error'."""
        body, sent = self.changes()
        if not sent:
            return "empty"
        data = json.dumps(body).encode()
        path = f"/api/v1/sync?last_pulled_at={self.last_pulled_at}"
        if self.rng.random() < self.plan.abandon_share:
            self.stats["abandoned"] += 1
            self.http.abandon("POST", path, data, self.headers, self.rng.uniform(0, 0.05))
        reply = self.call("POST", path, data)
        if reply.status == 200:
            self.push_ms.append(reply.ms)
            self.stats["pushes"] += 1
            result = reply.json
            self.stats["records_accepted"] += sum(result.get("accepted", {}).values())
            for item in result.get("quarantined", []):
                table, record_id = item.get("table"), item.get("id")
                if record_id in self.bad.get(table, ()):
                    self.stats["quarantined_as_planned"] += 1
                else:
                    self.stats["quarantined_unexpectedly"] += 1
                    self.sample(f"quarantined: {table} {record_id} {item.get('errors')}")
            for table, record_id in sent:
                self.pending[table].pop(record_id, None)
            if self.rng.random() < self.plan.duplicate_share:
                self.send_duplicate(path, data)
            return "ok"
        if reply.status == 409 and (reply.json or {}).get("error", {}).get("code") == "sync_conflict":
            self.stats["conflicts"] += 1
            return "conflict"
        self.stats["client_errors"] += 1
        self.sample(f"push -> {reply.status} {reply.excerpt()}")
        return "error"

    def send_duplicate(self, path: str, data: bytes) -> None:
        """The same push again, as a flaky network delivers it: 200, or 409 if it updated."""
        self.stats["duplicates_sent"] += 1
        reply = self.call("POST", path, data)
        if reply.status == 409:
            self.stats["duplicates_409"] += 1
        elif reply.status != 200:
            self.stats["client_errors"] += 1
            self.sample(f"duplicate push -> {reply.status} {reply.excerpt()}")

    def sync(self) -> bool:
        """WatermelonDB's synchronize(): pull, push; after a 409 pull and push again."""
        try:
            for _ in range(8):
                if not self.pull():
                    return False
                outcome = self.push()
                if outcome != "conflict":
                    return outcome in ("ok", "empty")
            self.anomaly("still in conflict after 8 rounds")
            return False
        except GiveUp as error:
            self.sample(f"gave up on {error}")
            return False
        finally:
            if self.plan.pace_ms:
                time.sleep(self.plan.pace_ms / 1000)

    # -- the field day ----------------------------------------------------------------------

    def live(self) -> None:
        try:
            self._live()
        except Exception as error:  # noqa: BLE001  (a phone that crashes is an error, reported)
            self.stats["crashed"] += 1
            self.sample(f"phone crashed: {type(error).__name__}: {error}")

    def _live(self) -> None:
        plan, rng = self.plan, self.rng
        day_ms = int(plan.hours * 3_600_000)
        start = _now_ms() - day_ms - 3_600_000  # the whole day lies in the past
        end = start + day_ms
        for _ in range(5):
            if self.sync():
                break
        customers = [c for c in self.local["customers"].values()]
        if not customers:
            self.anomaly("no customers after the first pull")
            return
        products = list(self.local["products"].values())
        # The day: travel, visit, travel... and offline stretches where syncs are skipped.
        slot = (day_ms - 30 * MINUTE_MS) / plan.visits_per_day
        stops, events = [(start, self.rep.base)], []
        for i in range(plan.visits_per_day):
            customer = rng.choice(customers)
            arrive = int(start + 15 * MINUTE_MS + i * slot + rng.uniform(0.2, 0.4) * slot)
            leave = int(arrive + rng.uniform(0.3, 0.5) * slot)
            spot = (customer["latitude"], customer["longitude"])
            stops += [(arrive, spot), (leave, spot)]
            events.append((arrive, leave, customer))
        gaps = []
        for _ in range(plan.offline_gaps):
            gap_start = int(rng.uniform(start, end - 60 * MINUTE_MS))
            gaps.append((gap_start, gap_start + int(rng.uniform(15, 60) * MINUTE_MS)))
        stop_times = [t for t, _ in stops]

        def position(t):
            i = bisect.bisect_right(stop_times, t) - 1
            if i + 1 >= len(stops):
                return stops[-1][1]
            (t0, (a0, b0)), (t1, (a1, b1)) = stops[i], stops[i + 1]
            f = (t - t0) / (t1 - t0) if t1 > t0 else 0
            return a0 + (a1 - a0) * f, b0 + (b1 - b0) * f

        step = plan.ping_every_s * 1000
        sync_every = int(plan.sync_every_min * MINUTE_MS)
        next_sync = start + sync_every
        event_index, open_visit = 0, None
        previous = position(start)
        deadline = self.fleet.deadline
        t = start
        while t <= end and time.monotonic() < deadline:
            if open_visit is None and event_index < len(events) and events[event_index][0] <= t:
                open_visit = self.check_in(events[event_index], t)
            if open_visit is not None and events[event_index][1] <= t:
                self.check_out(open_visit, events[event_index], t, products)
                open_visit, event_index = None, event_index + 1
            here = position(t)
            self.ping(t, here, previous, day_ms, start)
            previous = here
            if t >= next_sync:
                next_sync += sync_every
                if any(a <= t < b for a, b in gaps):
                    self.stats["offline_skips"] += 1
                else:
                    self.sync()
            t += step
        # End of the day: sync until nothing is left (bounded).
        for _ in range(10):
            if self.sync() and not any(self.pending[t] for t in PHONE_TABLES):
                break
            if time.monotonic() > self.fleet.hard_deadline:
                break
            time.sleep(0.5)
        left = sum(len(p) for p in self.pending.values())
        if left:
            self.anomaly(f"{left} records never accepted")

    def ping(self, t: int, here, previous, day_ms: int, start: int) -> None:
        distance = _metres(previous, here)
        lat, lng = here
        jitter = self.rng.uniform(-0.00005, 0.00005)
        self.create("location_pings", {
            "id": self.new_id(), "recorded_at": t,
            "latitude": round(lat + jitter, 6), "longitude": round(lng - jitter, 6),
            "accuracy_m": round(self.rng.uniform(4, 25), 1),
            "speed_mps": round(distance / self.plan.ping_every_s, 2),
            "battery_pct": round(100 - 70 * (t - start) / day_ms, 1)})

    def check_in(self, event, t: int) -> str:
        _arrive, _leave, customer = event
        visit = self.create("visits", {
            "id": self.new_id(), "customer_id": customer["id"], "check_in_at": t,
            "check_in_latitude": round(customer["latitude"] + self.rng.uniform(-3e-4, 3e-4), 6),
            "check_in_longitude": round(customer["longitude"] + self.rng.uniform(-3e-4, 3e-4), 6),
            "check_in_accuracy_m": round(self.rng.uniform(5, 40), 1), "check_out_at": None,
            "check_out_latitude": None, "check_out_longitude": None, "outcome": None,
            "notes": None, "verified": None, "distance_m": None})
        return visit["id"]

    def check_out(self, visit_id: str, event, t: int, products: list) -> None:
        rng = self.rng
        _arrive, _leave, customer = event
        outcome = "no_order"
        if products and rng.random() < self.plan.order_share:
            outcome = "order"
            order = self.create("orders", {
                "id": self.new_id(), "customer_id": customer["id"], "visit_id": visit_id,
                "ordered_at": t - 5 * MINUTE_MS,
                "requested_delivery_at": t + rng.randint(1, 7) * 86_400_000,
                "notes": rng.choice(NOTES) or None, "status": None, "promised_dispatch_at": None})
            for product in rng.sample(products, k=min(len(products), rng.randint(1, 4))):
                self.create("order_lines", {
                    "id": self.new_id(), "order_id": order["id"], "product_id": product["id"],
                    "quantity": rng.randint(1, 24), "unit_price": product["unit_price"],
                    "delivered_quantity": None})
        if rng.random() < self.plan.feedback_share:
            bad = rng.random() < self.plan.bad_share
            product = rng.choice(products) if products and rng.random() < 0.5 else None
            self.create("feedback", {
                "id": self.new_id(), "customer_id": customer["id"], "visit_id": visit_id,
                "recorded_at": t - 3 * MINUTE_MS, "rating": 9 if bad else rng.randint(1, 5),
                "category": rng.choice(("product", "delivery", "service", "price", "other")),
                "product_id": product["id"] if product else None,
                "requested_quantity": rng.randint(1, 50) if product else None,
                "comment": rng.choice(NOTES) or None}, bad=bad)
        for task_id in self.my_tasks(customer["id"]):
            self.update("tasks", task_id, {"status": "done", "completed_at": t - 2 * MINUTE_MS,
                                           "completion_note": f"done by {self.name}"})
        self.update("visits", visit_id, {
            "check_out_at": t,
            "check_out_latitude": round(customer["latitude"] + rng.uniform(-3e-4, 3e-4), 6),
            "check_out_longitude": round(customer["longitude"] + rng.uniform(-3e-4, 3e-4), 6),
            "outcome": outcome, "notes": rng.choice(NOTES) or None})

    def my_tasks(self, customer_id: str) -> list[str]:
        """Open tasks at this customer that this phone (of the rep's phones) completes."""
        ids = sorted(self.local["tasks"])
        return [task_id for n, task_id in enumerate(ids)
                if n % self.rep.phones == self.index
                and self.local["tasks"][task_id].get("customer_id") == customer_id
                and self.local["tasks"][task_id].get("status") == "open"]

    def expected(self) -> dict[str, dict[str, dict]]:
        """What the server must hold of this phone's records, by table and id."""
        return {t: {i: dict(values) for i, values in records.items()}
                for t, records in self.truth.items()}


def _metres(a, b) -> float:
    """Equirectangular distance: plenty for a few kilometres."""
    lat = math.radians((a[0] + b[0]) / 2)
    dx = math.radians(b[1] - a[1]) * math.cos(lat)
    dy = math.radians(b[0] - a[0])
    return 6_371_000 * math.hypot(dx, dy)


def _same(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)
    return a == b


# --- the fleet ------------------------------------------------------------------------------


class Fleet:
    """All phones of a run, and the admin who edits tasks while they work."""

    def __init__(self, base_url: str, plan: Plan, *, admin_email: str, admin_password: str):
        self.base_url, self.plan = base_url, plan
        self.admin = Admin(base_url, admin_email, admin_password, plan)
        self.run_id = uuid.uuid4().hex[:6]
        self.reps: list[Rep] = []
        self.phones: list[Phone] = []
        self.descriptions: dict[str, str] = {}  # task id -> the admin's last description
        self.admin_edits = Counter()
        self.deadline = self.hard_deadline = time.monotonic() + plan.max_wall_s
        self.figures: dict = {}

    def build(self) -> None:
        started = time.perf_counter()
        self.reps, counts = build_world(self.admin, self.plan, self.run_id)
        for rep in self.reps:
            for task_id in rep.tasks:
                self.descriptions[task_id] = "original"
        logins = [(rep, i) for rep in self.reps for i in range(rep.phones)]

        def sign_in(item):
            rep, index = item
            http = Http(self.base_url, self.plan.timeout_s)
            reply = http.request("POST", "/api/v1/auth/token", json.dumps(
                {"email": rep.email, "password": PASSWORD}).encode(),
                {"Content-Type": "application/json"})
            http.close()
            if reply.status != 200:
                raise BenchError(f"sign-in of {rep.email} failed: {reply.status} {reply.excerpt()}")
            return Phone(self, rep, index, reply.json["access_token"])

        with ThreadPoolExecutor(self.plan.setup_threads) as pool:
            self.phones = list(pool.map(sign_in, logins))
        self.figures["world"] = {**counts, "phones": len(self.phones),
                                 "rest_calls": self.admin.calls + len(logins),
                                 "seconds": round(time.perf_counter() - started, 1)}

    def edit_tasks(self, stop: threading.Event) -> None:
        """The admin rewrites task descriptions while phones complete them (409s for them)."""
        if not self.plan.admin_edits_per_s or not self.descriptions:
            return
        rng = random.Random(self.plan.seed + 7)
        ids = sorted(self.descriptions)
        n = 0
        while not stop.wait(1 / self.plan.admin_edits_per_s):
            task_id, n = rng.choice(ids), n + 1
            text = f"edited {n} by the admin"
            try:
                reply = self.admin.call("PATCH", f"/api/v1/tasks/{quote(task_id)}",
                                        {"description": text})
            except GiveUp:
                self.admin_edits["gave_up"] += 1
                continue
            if reply.status == 200:
                self.descriptions[task_id] = text
                self.admin_edits["ok"] += 1
            else:
                self.admin_edits[f"status {reply.status}"] += 1

    def run(self) -> dict:
        """Every phone lives its day on its own thread; returns the figures."""
        # Days end by `deadline`; the last resends give up by `hard_deadline`.
        self.deadline = time.monotonic() + self.plan.max_wall_s
        self.hard_deadline = self.deadline + self.plan.retry_for_s + 30
        stop = threading.Event()
        editor = threading.Thread(target=self.edit_tasks, args=(stop,), daemon=True)
        threads = [threading.Thread(target=phone.live, name=phone.name, daemon=True)
                   for phone in self.phones]
        wall = time.perf_counter()
        editor.start()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(max(0.1, self.hard_deadline + 15 - time.monotonic()))
        stop.set()
        editor.join(self.plan.retry_for_s + 5)
        seconds = time.perf_counter() - wall
        stats = Counter()
        push_ms, pull_ms, samples = [], [], []
        for phone in self.phones:
            stats.update(phone.stats)
            push_ms += phone.push_ms
            pull_ms += phone.pull_ms
            samples += phone.samples
        stored = sum(len(ids) for phone in self.phones for ids in phone.own.values())
        bad = sum(len(ids) for phone in self.phones for ids in phone.bad.values())
        stats["still_running"] = sum(thread.is_alive() for thread in threads)
        stats["admin_server_errors"] = self.admin.server_errors
        stats["admin_edits_failed"] = sum(n for outcome, n in self.admin_edits.items()
                                          if outcome != "ok")
        errors = sum(stats[k] for k in ("server_errors", "client_errors", "gave_up", "anomalies",
                                        "quarantined_unexpectedly", "crashed", "still_running",
                                        "admin_server_errors", "admin_edits_failed"))
        self.figures.update({
            "seconds": round(seconds, 1),
            "records": stored + bad,
            "records_per_s": round((stored + bad) / seconds, 1),
            "records_accepted_per_s": round(stats["records_accepted"] / seconds, 1),
            "pushes": stats["pushes"],
            "pushes_per_s": round(stats["pushes"] / seconds, 1),
            "pulls": stats["pulls"],
            "push_ms": _percentiles(push_ms),
            "pull_ms": _percentiles(pull_ms),
            "errors": errors,
            "counts": dict(sorted(stats.items())),
            "admin_edits": dict(self.admin_edits),
            "samples": samples[:20],
        })
        return self.figures

    def expected(self) -> dict[str, dict[str, dict]]:
        out: dict[str, dict[str, dict]] = {t: {} for t in (*OWNED, "tasks")}
        for phone in self.phones:
            for table, records in phone.expected().items():
                for record_id, values in records.items():
                    if table != "tasks":
                        values = {**values, "_rep": phone.rep.id}
                    out[table][record_id] = values
        for task_id, values in out["tasks"].items():
            values["description"] = self.descriptions[task_id]
        return out

    def bad(self) -> dict[str, set]:
        out: dict[str, set] = {t: set() for t in OWNED}
        for phone in self.phones:
            for table, ids in phone.bad.items():
                out[table] |= ids
        return out


def _percentiles(values: list[float]) -> dict:
    if not values:
        return {}
    ordered = sorted(values)

    def at(q):
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": round(ordered[-1], 1)}


# --- the check ------------------------------------------------------------------------------


def check(database_url: str, fleet: Fleet) -> dict:
    """Compare the database with what the phones recorded: per table, ids and owned columns."""
    import sqlalchemy as sa

    expected, bad = fleet.expected(), fleet.bad()
    rep_ids = sorted({rep.id for rep in fleet.reps})
    reps = sa.bindparam("reps", expanding=True)
    engine = sa.create_engine(database_url)
    report = {"ok": True, "tables": {}}
    try:
        with engine.connect() as conn:
            for table, columns in OWNED.items():
                cols = ", ".join(f"t.{c}" for c in columns)
                if table == "order_lines":
                    sql = (f"SELECT t.id, o.rep_id AS _rep, t.deleted_at, {cols} FROM order_lines t "
                           "JOIN orders o ON o.id = t.order_id WHERE o.rep_id IN :reps")
                else:
                    deleted = "NULL" if table == "location_pings" else "t.deleted_at"
                    sql = (f"SELECT t.id, t.rep_id AS _rep, {deleted} AS deleted_at, {cols} "
                           f"FROM {table} t WHERE t.rep_id IN :reps")
                rows = conn.execute(sa.text(sql).bindparams(reps), {"reps": rep_ids}).mappings()
                report["tables"][table] = _compare(table, expected[table], bad[table],
                                                   list(rows), (*columns, "_rep"))
            task_ids = sorted(expected["tasks"])
            rows = []
            if task_ids:
                rows = conn.execute(sa.text(
                    "SELECT id, deleted_at, status, completed_at, completion_note, description "
                    "FROM tasks WHERE id IN :ids").bindparams(sa.bindparam("ids", expanding=True)),
                    {"ids": task_ids}).mappings().all()
            # Tasks: only those the phones completed; the rest were never the phones' to write.
            report["tables"]["tasks"] = _compare("tasks", expected["tasks"], set(), list(rows),
                                                 (*TASK_OWNED, "description"), extra_ok=True)
            quarantine = conn.execute(sa.text(
                "SELECT table_name, record_id, count(*) AS n FROM sync_quarantine "
                "WHERE user_id IN :reps GROUP BY table_name, record_id").bindparams(reps),
                {"reps": rep_ids}).all()
            got = {(t, i): n for t, i, n in quarantine}
            wanted = {(t, i) for t, ids in bad.items() for i in ids}
            report["quarantine"] = {
                "expected": len(wanted), "held": len(got),
                "missing": sorted(wanted - set(got))[:5],
                "unexpected": sorted(set(got) - wanted)[:5],
                # A resent push must not quarantine its bad record again.
                "held_more_than_once": sum(1 for n in got.values() if n > 1)}
            if (report["quarantine"]["missing"] or report["quarantine"]["unexpected"]
                    or report["quarantine"]["held_more_than_once"]):
                report["ok"] = False
            report["sync_log"] = {f"{d} {o}": n for d, o, n in conn.execute(sa.text(
                "SELECT direction, outcome, count(*) FROM sync_log WHERE user_id IN :reps "
                "GROUP BY direction, outcome ORDER BY 1, 2").bindparams(reps), {"reps": rep_ids})}
            # Time inside the server (the sync log's duration), apart from the queue before it.
            durations: dict[str, list] = {"push": [], "pull": []}
            for direction, ms in conn.execute(sa.text(
                    "SELECT direction, duration_ms FROM sync_log WHERE user_id IN :reps "
                    "AND outcome = 'ok'").bindparams(reps), {"reps": rep_ids}):
                durations.setdefault(direction, []).append(ms)
            report["server_ms"] = {d: _percentiles(v) for d, v in durations.items()}
    finally:
        engine.dispose()
    report["ok"] = report["ok"] and all(t["ok"] for t in report["tables"].values())
    return report


def _compare(table, expected: dict, bad: set, rows: list, columns, *, extra_ok=False) -> dict:
    stored = {row["id"]: row for row in rows}
    missing = sorted(set(expected) - set(stored))
    extra = [] if extra_ok else sorted(set(stored) - set(expected))
    stored_bad = sorted(set(stored) & bad)
    mismatched = []
    for record_id in set(expected) & set(stored):
        row, want = stored[record_id], expected[record_id]
        diffs = {c: (want[c], row[c]) for c in columns if c in want and not _same(want[c], row[c])}
        if row["deleted_at"] is not None:
            diffs["deleted_at"] = (None, row["deleted_at"])
        if diffs:
            mismatched.append((record_id, diffs))
    return {"expected": len(expected), "stored": len(stored) if not extra_ok else
            len(set(stored) & set(expected)), "missing": len(missing), "extra": len(extra),
            "invalid_stored": len(stored_bad), "mismatched": len(mismatched),
            "examples": [*missing[:3], *extra[:3], *stored_bad[:3],
                         *(f"{i}: {d}" for i, d in mismatched[:3])],
            "ok": not (missing or extra or stored_bad or mismatched)}


# --- a server to drive ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn serving wsgi:app on 127.0.0.1 and a free port, on one database."""

    def __init__(self, database_url: str, *, workers: int = 4, threads: int = 1,
                 scheduler: str = "off", log_path: Path | None = None, fast_hashing=True):
        self.database_url, self.workers, self.threads = database_url, workers, threads
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path or Path(tempfile.mkdtemp(prefix="fieldsales-bench-")) / "server.log"
        self.env = {**os.environ, "DATABASE_URL": database_url, "FIELDSALES_CONFIG": "production",
                    "FIELDSALES_SCHEDULER": scheduler, "SECRET_KEY": "bench-not-secret",
                    "PYTHONUNBUFFERED": "1"}
        if fast_hashing:  # sign-in cost is not what this measures
            self.env["PASSWORD_HASH_METHOD"] = "pbkdf2:sha256:1000"
        self.process: subprocess.Popen | None = None

    def prepare(self, *, admin_email: str, admin_password: str, schema: str = "create_all"):
        """The schema (from the models, or `flask db upgrade`) and an admin made by the CLI."""
        if schema == "upgrade":
            self._run([str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"])
        else:
            self._run([str(BIN / "python"), "-c",
                       "from fieldsales import create_app; from fieldsales.extensions import db\n"
                       "app = create_app()\nwith app.app_context(): db.create_all()"])
        self._run([str(BIN / "flask"), "--app", "wsgi", "users", "create", "--email", admin_email,
                   "--password", admin_password, "--name", "Bench Admin", "--role", "admin"])

    def _run(self, command: list[str]) -> None:
        done = subprocess.run(command, cwd=ROOT, env=self.env, capture_output=True, text=True,
                              timeout=120)
        if done.returncode:
            raise BenchError(f"{' '.join(command[:4])} failed:\n{done.stdout}{done.stderr}")

    def start(self, wait_s: float = 60) -> None:
        command = [str(BIN / "gunicorn"), "--workers", str(self.workers),
                   "--bind", f"127.0.0.1:{self.port}", "--timeout", "120",
                   "--graceful-timeout", "30", "--log-level", "warning",
                   "--error-logfile", str(self.log_path), "wsgi:app"]
        if self.threads > 1:
            command[1:1] = ["--threads", str(self.threads)]
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        give_up_at = time.monotonic() + wait_s
        while time.monotonic() < give_up_at:
            if self.process.poll() is not None:
                raise BenchError(f"gunicorn exited; see {self.log_path}")
            try:
                if Http(self.base_url, 2).request("GET", "/healthz").status == 200 \
                        and len(self.worker_pids()) == self.workers:
                    return
            except TransportError:
                pass
            time.sleep(0.1)
        raise BenchError(f"gunicorn did not answer in {wait_s} s; see {self.log_path}")

    def worker_pids(self) -> list[int]:
        """The master's children, read from /proc."""
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                    pids.append(int(entry.name))
        return sorted(pids)

    def kill_worker(self) -> int:
        """kill -9 one worker (the master starts a new one)."""
        pid = self.worker_pids()[0]
        os.kill(pid, signal.SIGKILL)
        return pid

    def stop(self, timeout: float = 40) -> None:
        """SIGTERM (graceful: requests in flight finish), SIGKILL if it hangs."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def restart(self) -> None:
        self.stop()
        self.start()


# --- the command ----------------------------------------------------------------------------


def report_text(plan: Plan, figures: dict, result: dict, where: str) -> str:
    c = figures["counts"]
    w = figures["world"]
    lines = [
        f"== {figures['world']['phones']} phones ({w['reps']} reps, "
        f"{figures['world']['phones'] - w['reps']} with two phones) on {where}",
        f"world: {w['managers']} managers, {w['reps']} reps, {w['products']} products, "
        f"{w['customers']} customers, {w['tasks']} tasks; {w['rest_calls']} REST calls in "
        f"{w['seconds']} s",
        f"field day: {plan.hours} h of phone time (ping every {plan.ping_every_s} s, sync every "
        f"{plan.sync_every_min} min) in {figures['seconds']} s real",
        f"throughput: {figures['records']} records ({figures['records_per_s']}/s stored; "
        f"{figures['records_accepted_per_s']}/s accepted incl. resends), "
        f"{figures['pushes']} pushes ({figures['pushes_per_s']}/s), {figures['pulls']} pulls",
        f"push latency ms: {figures['push_ms']}",
        f"pull latency ms: {figures['pull_ms']}",
        f"conflicts (409, then pull and push again): {c.get('conflicts', 0)}; offline syncs "
        f"skipped: {c.get('offline_skips', 0)}; client timeouts resent: {c.get('abandoned', 0)}; "
        f"duplicate pushes: {c.get('duplicates_sent', 0)} ({c.get('duplicates_409', 0)} got 409); "
        f"transport retries: {c.get('transport_retries', 0)}",
        f"admin task edits: {figures['admin_edits']}",
        f"errors: {figures['errors']} (5xx {c.get('server_errors', 0)}, unexpected 4xx "
        f"{c.get('client_errors', 0)}, gave up {c.get('gave_up', 0)}, anomalies "
        f"{c.get('anomalies', 0)}, quarantined unexpectedly {c.get('quarantined_unexpectedly', 0)}, "
        f"crashed {c.get('crashed', 0)}, admin 5xx {c.get('admin_server_errors', 0)}, "
        f"admin edits failed {c.get('admin_edits_failed', 0)})",
    ]
    for sample in figures["samples"][:10]:
        lines.append(f"   {sample}")
    lines.append(f"check: {'OK, every record exactly once' if result['ok'] else 'FAILED'}")
    for table, t in result["tables"].items():
        lines.append(f"   {table:15} expected {t['expected']:7} stored {t['stored']:7} "
                     f"missing {t['missing']} extra {t['extra']} mismatched {t['mismatched']} "
                     f"invalid stored {t['invalid_stored']}"
                     + (f"  e.g. {t['examples'][:3]}" if not t["ok"] else ""))
    lines.append(f"   quarantine: {result['quarantine']}")
    lines.append(f"   sync_log: {result['sync_log']}")
    lines.append(f"   time inside the server (sync_log.duration_ms): {result['server_ms']}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phones", type=int, default=50)
    parser.add_argument("--database-url", help="PostgreSQL base URL (a fresh schema is made and "
                        "dropped) or a sqlite:/// URL; default: a fresh SQLite file")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker")
    parser.add_argument("--target", help="a running server instead of starting gunicorn")
    parser.add_argument("--admin-email")
    parser.add_argument("--admin-password")
    parser.add_argument("--schema", choices=("create_all", "upgrade"), default="create_all")
    parser.add_argument("--keep", action="store_true", help="keep the database and log")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    for f in fields(Plan):
        if f.name != "phones":
            parser.add_argument(f"--{f.name.replace('_', '-')}", type=type(f.default),
                                default=f.default)
    args = parser.parse_args(argv)
    plan = Plan(**{f.name: getattr(args, f.name) for f in fields(Plan)})

    workdir = Path(tempfile.mkdtemp(prefix="fieldsales-bench-"))
    server, drop = None, lambda: None
    try:
        if args.target:
            if not (args.admin_email and args.admin_password and args.database_url):
                parser.error("--target needs --admin-email, --admin-password and --database-url")
            base_url, database_url = args.target, args.database_url
            admin_email, admin_password = args.admin_email, args.admin_password
            where = args.target
        else:
            database_url, drop = scratch_database(args.database_url, "bench", folder=str(workdir))
            server = Server(database_url, workers=args.workers, threads=args.threads,
                            log_path=workdir / "server.log")
            admin_email, admin_password = f"admin-{uuid.uuid4().hex[:6]}@bench.fieldsales.dev", PASSWORD
            server.prepare(admin_email=admin_email, admin_password=admin_password,
                           schema=args.schema)
            server.start()
            base_url = server.base_url
            kind = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
            where = (f"{kind}, gunicorn {args.workers} workers"
                     + (f" x {args.threads} threads" if args.threads > 1 else "")
                     + f", {os.cpu_count()} CPUs")
        fleet = Fleet(base_url, plan, admin_email=admin_email, admin_password=admin_password)
        fleet.build()
        figures = fleet.run()
        result = check(database_url, fleet)
        print(report_text(plan, figures, result, where), flush=True)
        if args.json:
            print(json.dumps({"figures": figures, "check": result}, default=str))
        return 0 if result["ok"] and figures["errors"] == 0 else 1
    except BenchError as error:
        print(f"bench failed: {error}", file=sys.stderr)
        return 2
    finally:
        if server is not None:
            server.stop()
        if not args.keep:
            drop()
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"kept: {workdir}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
