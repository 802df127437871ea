"""The phones in several client processes, so the client is not what runs out of CPU.

Each process builds its share of the world and signs its phones in, then all wait at one
barrier and live their day together; each brings back its figures, what its phones recorded
and the CPU it used. `Merged` joins the shares into one fleet for the check and the report.
"""
from __future__ import annotations

import multiprocessing
import resource
import time
from collections import Counter
from dataclasses import dataclass, replace
from types import SimpleNamespace

from tests.support.phones import Fleet, Plan
from tests.support.phones.report import rates


@dataclass
class Share:
    """What one client process brings back."""

    figures: dict
    expected: dict
    bad: dict
    rep_ids: list
    push_ms: list
    pull_ms: list
    cpu_s: float
    error: str | None = None


def _live(index: int, plan: Plan, base_url: str, admin: tuple[str, str], barrier,
          results) -> None:
    try:
        fleet = Fleet(base_url, plan, admin_email=admin[0], admin_password=admin[1])
        fleet.build()
        barrier.wait(timeout=600)
        before = resource.getrusage(resource.RUSAGE_SELF)
        figures = fleet.run()
        after = resource.getrusage(resource.RUSAGE_SELF)
        results.put((index, Share(
            figures=figures, expected=fleet.expected(), bad=fleet.bad(),
            rep_ids=[rep.id for rep in fleet.reps],
            push_ms=[ms for phone in fleet.phones for ms in phone.push_ms],
            pull_ms=[ms for phone in fleet.phones for ms in phone.pull_ms],
            cpu_s=(after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))))
    except Exception as error:  # reported by the parent, never lost
        barrier.abort()
        results.put((index, Share({}, {}, {}, [], [], [], 0.0, error=repr(error))))


def run_in_processes(plan: Plan, *, processes: int, base_url: str,
                     admin: tuple[str, str]) -> Merged:
    """`plan.phones` phones split over `processes` client processes; the admin's task edits
    are split too, so the server sees the rate the plan names."""
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(processes), context.Queue()
    sizes = [plan.phones // processes + (1 if i < plan.phones % processes else 0)
             for i in range(processes)]
    workers = [context.Process(target=_live, args=(
        i, replace(plan, phones=size, seed=plan.seed + 1000 * i,
                   admin_edits_per_s=plan.admin_edits_per_s / processes),
        base_url, admin, barrier, results), daemon=True)
        for i, size in enumerate(sizes) if size]
    for worker in workers:
        worker.start()
    shares: dict[int, Share] = {}
    deadline = time.monotonic() + plan.max_wall_s + plan.retry_for_s + 900
    while len(shares) < len(workers) and time.monotonic() < deadline:
        try:
            index, share = results.get(timeout=5)
            shares[index] = share
        except Exception:
            if not any(worker.is_alive() for worker in workers) and results.empty():
                break
    for worker in workers:
        worker.join(10)
    failed = [s.error for s in shares.values() if s.error]
    if failed or len(shares) < len(workers):
        raise RuntimeError(f"client processes failed: {failed or 'some never answered'}")
    return Merged([shares[i] for i in sorted(shares)])


class Merged:
    """The shares as one fleet: what `check` and `report_text` read."""

    def __init__(self, shares: list[Share]):
        self.shares = shares
        self.reps = [SimpleNamespace(id=rep_id) for s in shares for rep_id in s.rep_ids]
        seconds = max(s.figures["seconds"] for s in shares)
        counts: Counter = Counter()
        world: Counter = Counter()
        for s in shares:
            counts.update(s.figures["counts"])
            world.update({k: v for k, v in s.figures["world"].items() if k != "seconds"})
        self.client_cpu_s = sum(s.cpu_s for s in shares)
        admin_edits: Counter = Counter()
        for s in shares:
            admin_edits.update(s.figures["admin_edits"])
        self.figures = {
            "world": {**world, "seconds": max(s.figures["world"]["seconds"] for s in shares)},
            **rates(seconds=seconds, records=sum(s.figures["records"] for s in shares),
                    accepted=counts["records_accepted"],
                    pushes=sum(s.figures["pushes"] for s in shares),
                    pulls=sum(s.figures["pulls"] for s in shares),
                    push_ms=[ms for s in shares for ms in s.push_ms],
                    pull_ms=[ms for s in shares for ms in s.pull_ms]),
            "errors": sum(s.figures["errors"] for s in shares),
            "counts": dict(sorted(counts.items())), "admin_edits": dict(admin_edits),
            "samples": [x for s in shares for x in s.figures["samples"]][:20],
            "client_processes": len(shares),
            "client_cpu_cores": round(self.client_cpu_s / seconds, 2),
        }

    def expected(self) -> dict:
        out: dict = {}
        for s in self.shares:
            for table, records in s.expected.items():
                out.setdefault(table, {}).update(records)
        return out

    def bad(self) -> dict:
        out: dict = {}
        for s in self.shares:
            for table, ids in s.bad.items():
                out.setdefault(table, set()).update(ids)
        return out
