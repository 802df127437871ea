#!/usr/bin/env python3
"""The newcomer's commands, needing nothing but Python 3.11+:

    python3 dev.py run [--port 5000]   # venv + install + migrate + demo data, then serve
    python3 dev.py test [pytest args]  # venv + install, then the whole test suite
    python3 dev.py lock [--upgrade]    # pin every dependency in constraints.txt
    python3 dev.py audit               # pip-audit the installed environment (.ci/run runs it)

Set DATABASE_URL to run on PostgreSQL, TEST_DATABASE_URL to test on it.
"""
import argparse
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".installed"
CONSTRAINTS = ROOT / "constraints.txt"
DEMO_PASSWORD = "demo-password"
DEMO_DAYS = 30  # the demo's field history (HISTORY_DAYS in fieldsales/demo/seed.py)
# `dev.py run`'s server: gunicorn, a few workers of a few threads each. The scheduler is a
# process of its own beside them (`flask jobs scheduler`, as in production), never a worker's.
SERVER_WORKERS = 2
SERVER_THREADS = 4
# Vulnerabilities accepted on purpose, by id, each with the reason (`dev.py audit`).
AUDIT_IGNORED: dict[str, str] = {}
AUDIT_SERVICES = ("pypi", "osv")


def pip() -> list[str]:
    return [str(BIN / "python"), "-m", "pip", "--disable-pip-version-check"]


def ensure_venv() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036  (dev.py runs on any python3; says why)
        sys.exit("fieldsales needs Python 3.11 or newer.")
    if not (BIN / "python").exists():
        print("Creating the virtual environment in .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)


def ensure_environment() -> None:
    """Create the virtual environment, and install the project at the versions constraints.txt
    pins whenever pyproject.toml or constraints.txt changed."""
    ensure_venv()
    wanted = install_stamp()
    if not STAMP.exists() or STAMP.read_text() != wanted:
        print("Installing fieldsales and its dependencies ...", flush=True)
        pinned = ["-c", str(CONSTRAINTS)] if CONSTRAINTS.exists() else []
        subprocess.run([*pip(), "install", "--quiet", "-e", f"{ROOT}[dev]", *pinned],
                       check=True, cwd=ROOT)
        STAMP.write_text(wanted)


def install_stamp() -> str:
    """What the installed environment was made from: a new one means installing again."""
    return hashlib.sha256(b"\0".join(
        path.read_bytes() if path.exists() else b"" for path in (ROOT / "pyproject.toml",
                                                              CONSTRAINTS))).hexdigest()


def flask(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, **kwargs)


# Connects to the configured database and says, in one line, why it cannot.
_DATABASE_PROBE = """
import sys
from sqlalchemy import text
from wsgi import app
from fieldsales.extensions import db
with app.app_context():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as error:
        reason = [line for line in str(getattr(error, "orig", error)).splitlines() if line.strip()]
        url = db.engine.url.render_as_string(hide_password=True)
        print(f"{url} ({' '.join(reason[-1].split()) if reason else type(error).__name__})")
        sys.exit(1)
"""


def check_database(env: dict) -> None:
    """Stop with one sentence, not a traceback, when the database cannot be reached."""
    probe = subprocess.run([str(BIN / "python"), "-c", _DATABASE_PROBE], cwd=ROOT, env=env,
                           capture_output=True, text=True)
    if probe.returncode != 0:
        where = probe.stdout.strip() or (probe.stderr.strip().splitlines() or ["?"])[-1]
        sys.exit(f"Cannot open the database {where}: create it (README, PostgreSQL) or set "
                 "DATABASE_URL to one that exists.")


def seed_demo(env: dict) -> None:
    """Seed the demo company into an empty database; a re-run finds it there and only shows
    the logins, and a database with other users is served as it is (`demo seed --if-empty`).
    A seeding that fails stops here, non-zero, instead of serving an empty database."""
    seeded = flask("demo", "seed", "--if-empty", env=env, capture_output=True, text=True)
    if seeded.returncode != 0:
        sys.exit(f"Seeding the demo company failed:\n{(seeded.stderr or seeded.stdout).strip()}")
    print(seeded.stdout, flush=True)


def run(port: int = 5000) -> None:
    ensure_environment()
    env = {**os.environ, "FIELDSALES_SCHEDULER": "off"}  # no process of this one schedules
    check_database(env)
    flask("db", "upgrade", check=True, env=env)
    seed_demo(env)
    # Score the demo's whole month once now, so every report has something to show, for any
    # week of it, before the scheduler's first run (which rescores the last 7 days).
    flask("jobs", "run", "all", check=True,
          env={**env, "SCORING_PRODUCTIVITY_LOOKBACK_DAYS": str(DEMO_DAYS + 1)})
    print(f"""
fieldsales is starting on http://127.0.0.1:{port}
  console:  http://127.0.0.1:{port}/  (sign in with a demo login above, e.g. manager1)
  health:   curl http://127.0.0.1:{port}/healthz
  API docs: http://127.0.0.1:{port}/api/v1/docs  (OpenAPI: /api/v1/openapi.json)
  sign in:  curl -X POST http://127.0.0.1:{port}/api/v1/auth/token \\
              -H 'Content-Type: application/json' \\
              -d '{{"email": "manager1@demo.fieldsales.dev", "password": "{DEMO_PASSWORD}"}}'
  gunicorn serves the API; one `flask jobs scheduler` process beside it runs the scoring
  jobs. Ctrl-C stops both.
""", flush=True)
    serve(port, env)


def serve(port: int, env: dict) -> None:
    """gunicorn and one scheduler process, as production runs them; when either stops (or on
    Ctrl-C or SIGTERM) the other is stopped too, and the exit code is the server's."""
    scheduler = subprocess.Popen([str(BIN / "flask"), "--app", "wsgi", "jobs", "scheduler"],
                                 cwd=ROOT, env=env)
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(SERVER_WORKERS),
         "--threads", str(SERVER_THREADS), "--access-logfile", "-", "--no-control-socket",
         "wsgi:app"],
        cwd=ROOT, env=env)
    children = (server, scheduler)
    stopping = []

    def stop(*_) -> None:
        stopping.append(True)
        for child in children:
            if child.poll() is None:
                child.terminate()

    previous = signal.signal(signal.SIGTERM, stop)
    failed = None
    try:
        while server.poll() is None:
            if scheduler.poll() is not None and not stopping:  # died under a running server
                print("The scheduler process stopped; stopping the server.", file=sys.stderr)
                failed = scheduler.returncode or 1
                stop()
            try:
                server.wait(timeout=1)
            except subprocess.TimeoutExpired:
                pass
    except KeyboardInterrupt:  # Ctrl-C reaches the children too: let them finish
        pass
    finally:
        stop()
        for child in children:
            child.wait()
        signal.signal(signal.SIGTERM, previous)
    code = failed if failed is not None else server.returncode
    sys.exit(code)


def test(args: list[str]) -> None:
    ensure_environment()
    result = subprocess.run([str(BIN / "python"), "-m", "pytest", *args], cwd=ROOT)
    sys.exit(result.returncode)


def lock(upgrade: bool = False) -> None:
    """Resolve pyproject.toml's dependencies (with the dev extra) and write every package's
    exact version to constraints.txt. Pins already there are kept unless `upgrade`, so adding
    a dependency moves nothing else; a pin that no longer fits needs `--upgrade`."""
    ensure_venv()
    kept = ["-c", str(CONSTRAINTS)] if CONSTRAINTS.exists() and not upgrade else []
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        resolved = subprocess.run(
            [*pip(), "install", "--quiet", "--dry-run", "--ignore-installed", "--report",
             str(report), "-e", f"{ROOT}[dev]", *kept], cwd=ROOT)
        if resolved.returncode != 0:
            sys.exit("Resolving the dependencies failed (above)"
                     + ("; if an old pin is in the way: python3 dev.py lock --upgrade"
                        if kept else "."))
        installs = json.loads(report.read_text())["install"]
    pins = sorted((re.sub(r"[-_.]+", "-", item["metadata"]["name"]).lower(),
                   item["metadata"]["version"])
                  for item in installs if "dir_info" not in item.get("download_info", {}))
    CONSTRAINTS.write_text(
        "# The exact versions `python3 dev.py` and CI install:\n"
        "#   pip install -e '.[dev]' -c constraints.txt\n"
        "# Written by `python3 dev.py lock` from pyproject.toml; do not edit by hand. After\n"
        "# adding or changing a dependency in pyproject.toml, run `python3 dev.py lock` (keeps\n"
        "# the other pins) or `python3 dev.py lock --upgrade` (everything to its newest).\n"
        f"# Resolved with Python {sys.version_info.major}.{sys.version_info.minor} on "
        f"{sys.platform}. Versions only, no hashes:\n"
        "# pip's hash checking refuses the editable install of the project itself.\n"
        + "".join(f"{name}=={version}\n" for name, version in pins))
    print(f"constraints.txt: {len(pins)} packages pinned.")


def audit_verdict(report: dict, service: str) -> tuple[str, int | None]:
    """One line on pip-audit's JSON report, and the exit code: 1 when a vulnerability was
    found (not in AUDIT_IGNORED), 0 when none, None when the feed answered for no package
    (pip-audit skips a package the feed does not know: all skipped means no feed)."""
    dependencies = report.get("dependencies", [])
    audited = [dep for dep in dependencies if "skip_reason" not in dep]
    found = [(dep["name"], dep["version"], vuln["id"], vuln.get("fix_versions", []))
             for dep in audited for vuln in dep.get("vulns", [])
             if vuln["id"] not in AUDIT_IGNORED]
    if found:
        listed = "; ".join(f"{name} {version}: {vuln_id} (fixed in {', '.join(fixes) or '-'})"
                           for name, version, vuln_id, fixes in found)
        return (f"pip-audit ({service}): {len(found)} known vulnerabilities: {listed}. Run "
                "python3 dev.py lock --upgrade, or accept one in dev.py AUDIT_IGNORED.", 1)
    if dependencies and not audited:
        return f"{service}: knew none of the {len(dependencies)} packages", None
    return (f"pip-audit ({service}): no known vulnerabilities in {len(audited)} packages"
            + (f" ({len(dependencies) - len(audited)} not audited)"
               if len(audited) < len(dependencies) else "") + ".", 0)


def audit() -> None:
    """pip-audit the installed environment: exit 1 on a known vulnerability; when no
    vulnerability feed can be reached, say so in one line and exit 0."""
    reasons = []
    for service in AUDIT_SERVICES:
        with tempfile.TemporaryDirectory() as scratch:
            output = Path(scratch) / "audit.json"
            done = subprocess.run(
                [str(BIN / "pip-audit"), "--skip-editable", "--progress-spinner", "off",
                 "--vulnerability-service", service, "--timeout", "10", "--format", "json",
                 "--output", str(output)], cwd=ROOT, capture_output=True, text=True)
            if not output.exists() or not output.read_text().strip():
                said = [line for line in done.stderr.splitlines() if line.strip()]
                reasons.append(f"{service}: {said[-1].strip()[:120] if said else done.returncode}")
                continue
            line, code = audit_verdict(json.loads(output.read_text()), service)
        if code is None:
            reasons.append(line)
            continue
        print(line, flush=True)
        sys.exit(code)
    print(f"pip-audit: no vulnerability feed could be reached, so nothing was audited "
          f"({'; '.join(reasons)}).", flush=True)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python3 dev.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="serve the demo company")
    run_parser.add_argument("--port", type=int, help="default 5000")
    run_parser.add_argument("bare_port", nargs="?", type=int, metavar="PORT",
                            help="the same as --port")
    commands.add_parser("test", help="run the test suite (arguments go to pytest)")
    lock_parser = commands.add_parser("lock", help="pin the dependencies in constraints.txt")
    lock_parser.add_argument("--upgrade", action="store_true",
                             help="re-resolve every pin, not only new dependencies")
    commands.add_parser("audit", help="pip-audit the installed environment")
    args = parser.parse_args(argv)
    if args.command == "run":
        args.port = args.port or args.bare_port or 5000
    return args


def main(argv: list[str]) -> None:
    if argv[:1] == ["test"]:  # everything after `test` goes to pytest as it is
        test(argv[1:])
    args = parse(argv)
    if args.command == "run":
        run(args.port)
    elif args.command == "lock":
        lock(upgrade=args.upgrade)
    elif args.command == "audit":
        ensure_environment()
        audit()


if __name__ == "__main__":
    main(sys.argv[1:])
