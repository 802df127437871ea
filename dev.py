#!/usr/bin/env python3
"""The newcomer's two commands, needing nothing but Python 3.11+:

    python3 dev.py run     # venv + install + migrate + demo data, then serve on :5000
    python3 dev.py test    # venv + install, then the whole test suite (extra args go to pytest)

Set DATABASE_URL to run on PostgreSQL, TEST_DATABASE_URL to test on it.
"""
import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".installed"
DEMO_PASSWORD = "demo-password"
DEMO_DAYS = 30  # the demo's field history (HISTORY_DAYS in fieldsales/demo/seed.py)


def ensure_environment() -> None:
    """Create the virtual environment and install the project when pyproject.toml changed."""
    if sys.version_info < (3, 11):  # noqa: UP036  (dev.py runs on any python3; says why)
        sys.exit("fieldsales needs Python 3.11 or newer.")
    if not (BIN / "python").exists():
        print("Creating the virtual environment in .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text() != wanted:
        print("Installing fieldsales and its dependencies ...", flush=True)
        pip = [str(BIN / "python"), "-m", "pip", "install", "--quiet",
               "--disable-pip-version-check"]
        subprocess.run([*pip, "-e", f"{ROOT}[dev]"], check=True, cwd=ROOT)
        STAMP.write_text(wanted)


def flask(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, **kwargs)


def seed_demo(env: dict) -> None:
    """Seed the demo company into an empty database; a re-run finds it there and only shows
    the logins, and a database with other users is served as it is (`demo seed --if-empty`).
    A seeding that fails stops here, non-zero, instead of serving an empty database."""
    seeded = flask("demo", "seed", "--if-empty", env=env, capture_output=True, text=True)
    if seeded.returncode != 0:
        sys.exit(f"Seeding the demo company failed:\n{(seeded.stderr or seeded.stdout).strip()}")
    print(seeded.stdout, flush=True)


def run(port: str = "5000") -> None:
    ensure_environment()
    env = {**os.environ, "FIELDSALES_SCHEDULER": "off"}  # set-up steps never schedule jobs
    flask("db", "upgrade", check=True, env=env)
    seed_demo(env)
    # Score the demo's whole month once now, so every report has something to show, for any
    # week of it, before the scheduler's first run (which rescores the last 7 days).
    flask("jobs", "run", "all", check=True,
          env={**env, "SCORING_PRODUCTIVITY_LOOKBACK_DAYS": str(DEMO_DAYS + 1)})
    print(f"""
fieldsales is starting on http://127.0.0.1:{port}
  health:   curl http://127.0.0.1:{port}/healthz
  API docs: http://127.0.0.1:{port}/api/v1/docs  (OpenAPI: /api/v1/openapi.json)
  sign in:  curl -X POST http://127.0.0.1:{port}/api/v1/auth/token \\
              -H 'Content-Type: application/json' \\
              -d '{{"email": "manager1@demo.fieldsales.dev", "password": "{DEMO_PASSWORD}"}}'
  The scheduler runs the scoring jobs in this process. Ctrl-C stops the server.
""", flush=True)
    # One process serves and schedules (production runs `flask jobs scheduler` on its own).
    os.execve(str(BIN / "flask"), [str(BIN / "flask"), "--app", "wsgi", "run",
                                   "--host", "127.0.0.1", "--port", port, "--no-reload"],
              {**os.environ, "FIELDSALES_SCHEDULER": "in-process"})


def test(args: list[str]) -> None:
    ensure_environment()
    result = subprocess.run([str(BIN / "python"), "-m", "pytest", *args], cwd=ROOT)
    sys.exit(result.returncode)


if __name__ == "__main__":
    command, rest = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("", [])
    if command == "run":
        run(*rest[:1])
    elif command == "test":
        test(rest)
    else:
        sys.exit(__doc__)
