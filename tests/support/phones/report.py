"""A run's figures and check, as text."""
from __future__ import annotations

from tests.support.phones.plan import Plan


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
        f"{c.get('anomalies', 0)}, quarantined unexpectedly "
        f"{c.get('quarantined_unexpectedly', 0)}, "
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


def rates(*, seconds: float, records: int, accepted: int, pushes: int, pulls: int,
          push_ms: list[float], pull_ms: list[float]) -> dict:
    """A run's throughput and latency figures (one fleet, or several processes' together)."""
    return {"seconds": round(seconds, 1), "records": records,
            "records_per_s": round(records / seconds, 1),
            "records_accepted_per_s": round(accepted / seconds, 1),
            "pushes": pushes, "pushes_per_s": round(pushes / seconds, 1), "pulls": pulls,
            "push_ms": percentiles(push_ms), "pull_ms": percentiles(pull_ms)}


def percentiles(values: list[float]) -> dict:
    """p50, p95, p99 and the maximum, rounded to 0.1."""
    if not values:
        return {}
    ordered = sorted(values)

    def at(q):
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": round(ordered[-1], 1)}
