"""The check: the database against what the phones recorded, per table, ids and owned columns."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

from tests.support.phones.plan import OWNED, TASK_OWNED
from tests.support.phones.report import percentiles

if TYPE_CHECKING:
    from tests.support.phones.fleet import Fleet


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
                    sql = (f"SELECT t.id, o.rep_id AS _rep, t.deleted_at, {cols} "
                           "FROM order_lines t JOIN orders o ON o.id = t.order_id "
                           "WHERE o.rep_id IN :reps")
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
            report["server_ms"] = {d: percentiles(v) for d, v in durations.items()}
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
        diffs = {c: (want[c], row[c]) for c in columns if c in want and not same(want[c], row[c])}
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


def same(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)
    return a == b
