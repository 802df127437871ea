"""gunicorn on a database, started, killed and restarted as the runs need."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fieldsales.users.hours import WEEKDAYS
from tests.support.phones.transport import BenchError, Http, TransportError

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent  # the virtualenv running us (under dev.py: .venv)


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
        self.log_path = (log_path
                         or Path(tempfile.mkdtemp(prefix="fieldsales-bench-")) / "server.log")
        self.env = {**os.environ, "DATABASE_URL": database_url, "FIELDSALES_CONFIG": "production",
                    "FIELDSALES_SCHEDULER": scheduler, "SECRET_KEY": "bench-not-secret",
                    "PYTHONUNBUFFERED": "1"}
        # The simulated phones' day runs at whatever hour the run starts: on duty all day, so
        # no ping is set aside as off duty (fieldsales/sync/push/duty.py).
        self.env["WORKING_HOURS"] = json.dumps({day: ["00:00", "24:00"] for day in WEEKDAYS})
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
