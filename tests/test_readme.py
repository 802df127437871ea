"""The README's commands, run as written, so the README cannot drift from the code: both
set-ups by hand on scratch databases, and every block of the API tour against
`python3 dev.py run` on a free port (gunicorn, with its scheduler process beside it).

The blocks are read out of README.md itself; only the port and the path of `.venv/bin` are
swapped for this run's."""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import dev

README = (dev.ROOT / "README.md").read_text()
BIN = Path(sys.executable).parent
# A command of the README that takes longer than this is a bug of its own.
STEP_TIMEOUT_S = 300
WAIT_S = 240


def section(title: str) -> str:
    """The text of the README's `## <title>` section, its `###` subsections included."""
    start = README.index(f"\n## {title}")
    end = README.find("\n## ", start + 1)
    return README[start:end if end > 0 else None]


def sh_blocks(text: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", text, re.S)


def bash(script: str, *, env: dict, cwd: Path) -> subprocess.CompletedProcess:
    """The script as a user pastes it into bash, stopping at the first command that fails."""
    return subprocess.run(["bash", "-euo", "pipefail", "-c", script], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=STEP_TIMEOUT_S)


def by_hand(block: str) -> str:
    return block.replace(".venv/bin/", f"{BIN}/")


@pytest.fixture
def env():
    return {**os.environ, "FIELDSALES_SCHEDULER": "off", "FIELDSALES_CONFIG": "development"}


# Both tests' commands run in processes of their own, on the real clock whatever --at says:
# a session --at would repeat them for nothing (conftest skips real_clock tests there).
@pytest.mark.real_clock
def test_the_set_up_by_hand_works_as_written_either_way(env, make_database):
    demo, own = sh_blocks(section("Set-up by hand"))
    assert "demo seed" in demo and "users create" in own and "demo seed" not in own

    seeded = bash(by_hand(demo), env={**env, "DATABASE_URL": make_database("readme_demo")},
                  cwd=dev.ROOT)
    assert seeded.returncode == 0, seeded.stderr[-2000:]
    assert "Demo company seeded" in seeded.stdout

    created = bash(by_hand(own), env={**env, "DATABASE_URL": make_database("readme_own")},
                   cwd=dev.ROOT)
    assert created.returncode == 0, created.stderr[-2000:]
    assert created.stdout.count("Created ") == 3


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str, token: str | None = None) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as r:
        return json.loads(r.read())


def sign_in(base: str, email: str) -> str:
    body = json.dumps({"email": email, "password": dev.DEMO_PASSWORD}).encode()
    request = urllib.request.Request(f"{base}/api/v1/auth/token", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())["access_token"]


def wait_for(condition, what: str, server: subprocess.Popen, log: Path):
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"dev.py run exited ({server.returncode}) before {what}:\n"
                        + log.read_text()[-3000:])
        try:
            if found := condition():
                return found
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"no {what} within {WAIT_S} s:\n" + log.read_text()[-3000:])


ACCESS_LINE = re.compile(r'"(GET|POST|PATCH|DELETE) (\S+) HTTP/[\d.]+" (\d{3}) ')
# The tour's one refusal on purpose: procurement never sees a rep's day.
EXPECTED_REFUSALS = {("GET", r"/api/v1/reps/[^/?]+/activity", "403")}


@pytest.mark.real_clock
@pytest.mark.skipif(Path(sys.prefix).resolve() != dev.VENV.resolve(),
                    reason="drives `python3 dev.py run`, which uses .venv: run via dev.py test")
def test_the_api_tour_runs_against_dev_py_run_with_one_scheduler(make_database, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "run.log"
    env = {**os.environ, "DATABASE_URL": make_database("readme_tour"),
           "FIELDSALES_CONFIG": "development", "PYTHONUNBUFFERED": "1",
           "SCORING_FIRST_RUN_DELAY_SECONDS": "0"}  # the scheduler's first runs come at once
    with log.open("w") as out:
        server = subprocess.Popen([sys.executable, "dev.py", "run", "--port", str(port)],
                                  cwd=dev.ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: get(f"{base}/healthz")["status"] == "ok", "answer on /healthz",
                 server, log)
        tour = "\n".join(sh_blocks(section("A tour of the API")))
        assert "127.0.0.1:5000" in tour and "<" not in re.sub(r"< \w+\.json", "", tour)
        ran = bash(tour.replace("127.0.0.1:5000", f"127.0.0.1:{port}"), env=os.environ,
                   cwd=tmp_path)
        assert ran.returncode == 0, ran.stderr[-3000:]

        # One scheduler: each job's first scheduled run is recorded once, by one process.
        admin = sign_in(base, "admin@demo.fieldsales.dev")
        jobs = {"productivity", "demand", "backlog", "retention", "plans"}

        def scheduled_runs():
            runs = [run for run in get(f"{base}/api/v1/jobs/runs?limit=100", admin)["items"]
                    if run["trigger"] == "scheduler" and run["status"] != "running"]
            return runs if {run["job"] for run in runs} == jobs else None

        runs = wait_for(scheduled_runs, "scheduled run of every job", server, log)
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=120)
    assert sorted(run["job"] for run in runs) == sorted(jobs)
    assert len({run["pid"] for run in runs}) == 1
    assert code == 0

    requests = ACCESS_LINE.findall(log.read_text())
    paths = {path.split("?")[0] for _, path, _ in requests}
    for called in ("/api/v1/targets", "/api/v1/sync", "/api/v1/jobs/runs"):
        assert called in paths
    assert any(path.endswith("/merge") for path in paths)
    assert any(path.endswith("/deliveries") for path in paths)
    refused = [(method, path, status) for method, path, status in requests
               if int(status) >= 400 and not any(
                   method == m and re.fullmatch(p, path.split("?")[0]) and status == s
                   for m, p, s in EXPECTED_REFUSALS)]
    assert refused == []


def test_every_command_names_its_flask_and_every_body_its_content_type():
    """Outside .venv, plain `flask` is not on the PATH; a body without a Content-Type goes as
    a form (curl's default)."""
    assert re.findall(r"(?<![/\w])flask --app", README) == []  # in the blocks and the prose
    commands = re.sub(r"\\\n\s*", " ", "\n".join(sh_blocks(README))).splitlines()
    assert not [line for line in commands if re.search(r"\bcurl\b.* -d ['\"]\{", line)
                and "Content-Type: application/json" not in line]
