"""One device: a local database in WatermelonDB's shape and a field day to live."""
from __future__ import annotations

import bisect
import json
import random
import time
from collections import Counter
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from fieldsales.common import DAY_MS, HOUR_MS, MINUTE_MS, new_id, now_ms
from fieldsales.geo import geodesic_short_m
from tests.support.phones.check import same
from tests.support.phones.plan import OWNED, PHONE_TABLES
from tests.support.phones.transport import GiveUp, Http, Reply, TransportError
from tests.support.phones.world import Rep

if TYPE_CHECKING:
    from tests.support.phones.fleet import Fleet

NOTES = ("Shelf restocked", "Gerente ausente, voltar 5ª feira", "Wants the 6-pack promo",
         "Paid cash — receipt №42", "Prefers deliveries before 10:00", "店主说下周再订",
         "Competitor display by the door", "")


class Phone:
    """One device: a local database in WatermelonDB's shape and a field day to live."""

    def __init__(self, fleet: Fleet, rep: Rep, index: int, token: str):
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
        return new_id(rng=self.rng)

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
                        if not same(local.get(column), record.get(column)):
                            self.anomaly(f"pull changed {table}.{column} of own record "
                                         f"{record_id}: {local.get(column)!r} -> "
                                         f"{record.get(column)!r}")
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
        code = (reply.json or {}).get("error", {}).get("code")
        if reply.status == 409 and code == "sync_conflict":
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
        day_ms = int(plan.hours * HOUR_MS)
        start = now_ms() - day_ms - HOUR_MS  # the whole day lies in the past
        end = start + day_ms
        for n in range(plan.bad_first):
            self.bad_feedback(self.rep.customers[n % len(self.rep.customers)], start - n)
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
        t = start
        while t <= end and time.monotonic() < self.fleet.deadline:  # end_day() may move it
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
        distance = geodesic_short_m(*previous, *here)
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
                "requested_delivery_at": t + rng.randint(1, 7) * DAY_MS,
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

    def bad_feedback(self, customer_id: str, t: int) -> None:
        """Feedback rated 9 (1-5 is valid): the server must quarantine it, once."""
        self.create("feedback", {
            "id": self.new_id(), "customer_id": customer_id, "visit_id": None,
            "recorded_at": t, "rating": 9, "category": "other", "product_id": None,
            "requested_quantity": None, "comment": "rated 9 on purpose"}, bad=True)

    def bad_sent(self) -> int:
        """Invalid records a push carried and got its 200 for."""
        return sum(1 for table, ids in self.bad.items() for record_id in list(ids)
                   if record_id not in self.pending[table])

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
