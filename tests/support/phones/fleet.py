"""All phones of a run, and the admin who edits tasks while they work."""
from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

from tests.support.phones.phone import Phone
from tests.support.phones.plan import OWNED, PASSWORD, Plan
from tests.support.phones.report import rates
from tests.support.phones.transport import BenchError, GiveUp, Http
from tests.support.phones.world import Admin, Rep, build_world


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

    def end_day(self) -> None:
        """Phones stop their day now and sync what they hold: a caller that has seen the work it
        needs (the fault test) ends a day made long enough for any machine's speed."""
        self.deadline = time.monotonic()

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
            **rates(seconds=seconds, records=stored + bad, accepted=stats["records_accepted"],
                    pushes=stats["pushes"], pulls=stats["pulls"], push_ms=push_ms,
                    pull_ms=pull_ms),
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
