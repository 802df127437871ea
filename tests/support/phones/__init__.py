"""Simulated phones: N reps live a field day in fast-forward against a real server.

1. `Server` starts gunicorn (several workers, 127.0.0.1, a free port) on a database; an admin
   made with the CLI builds the world through the REST API (`world`): managers, reps, products,
   customers assigned to reps, tasks.
2. Every `Phone` signs in with its own token (some reps carry two phones) and lives a field day
   in phone time: a GPS ping every few seconds, visits (check in, check out), orders with lines,
   feedback, task completions, offline gaps that queue work. It syncs like WatermelonDB: pull,
   then push with `last_pulled_at`; on 409 pull and push again. Some pushes are sent and hung up
   on before the answer (a client timeout) and then resent as they were; some accepted pushes
   are sent a second time; a few records are invalid on purpose (they belong in the quarantine).
   Transport failures and 5xx answers are retried with the same body.
   Meanwhile the admin edits task descriptions, so phones that complete tasks meet conflicts
   (`Fleet` runs them all).
3. `check` reads the database and compares it with what the phones recorded: every record
   exactly once, nothing lost, nothing extra, every column a phone owns as the phone last had it,
   the invalid records in the quarantine and nowhere else.

Only the standard library talks HTTP (http.client); SQLAlchemy reads the database for the check.
Bounded: loopback only, a fixed phone day, retries with a deadline, a wall-clock limit.
The phones bench (`bench/phones`) and the fault test (tests/hardening/test_fault_phones.py)
drive it.
"""
from tests.support.phones.check import check
from tests.support.phones.fleet import Fleet
from tests.support.phones.plan import PASSWORD, Plan
from tests.support.phones.report import report_text
from tests.support.phones.server import Server
from tests.support.phones.transport import BenchError, Http, TransportError

__all__ = ["PASSWORD", "BenchError", "Fleet", "Http", "Plan", "Server", "TransportError",
           "check", "report_text"]
