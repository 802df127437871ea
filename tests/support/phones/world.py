"""The world the phones work in: users, products, customers and tasks, made through the REST
API by an admin."""
from __future__ import annotations

import json
import math
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from fieldsales.common import DAY_MS, now_ms
from tests.support.phones.plan import PASSWORD, Plan
from tests.support.phones.transport import BenchError, GiveUp, Http, Reply, TransportError


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
                    "category": "selling", "due_at": now_ms() + DAY_MS}
            rep.tasks.append(admin.create("/api/v1/tasks", body)["id"])

    list(pool.map(make_tasks, reps))
    pool.shutdown()
    return reps, {"managers": n_managers, "reps": n_reps, "products": len(products),
                  "customers": n_reps * plan.customers_per_rep,
                  "tasks": n_reps * plan.tasks_per_rep}
