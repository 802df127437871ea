"""`python3 dev.py run`'s set-up: seed the demo once, show the logins on every run, and stop
(non-zero) when seeding fails instead of serving an empty database."""
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import dev


@pytest.fixture(autouse=True)
def _this_virtualenv(monkeypatch):
    """dev.py drives `.venv`; the tests drive the virtualenv they run in, whichever it is."""
    monkeypatch.setattr(dev, "BIN", Path(sys.executable).parent)


@pytest.fixture
def env(make_database):
    env = {**os.environ, "FIELDSALES_SCHEDULER": "off", "FIELDSALES_CONFIG": "testing",
           "DATABASE_URL": make_database("dev")}
    dev.flask("db", "upgrade", check=True, env=env, capture_output=True)
    return env


def test_a_re_run_finds_the_demo_and_prints_its_logins_without_complaint(env, capsys):
    dev.seed_demo(env)
    first = capsys.readouterr().out
    assert "Demo company seeded" in first and "manager1@demo.fieldsales.dev" in first
    dev.seed_demo(env)
    again = capsys.readouterr().out
    assert "already in the database" in again and "not seeding" not in again
    assert "manager1@demo.fieldsales.dev" in again and dev.DEMO_PASSWORD in again


def test_a_database_with_other_users_is_left_alone_and_said_so(env, capsys):
    created = dev.flask("users", "create", "--email", "own@example.com", "--password",
                        "long enough", "--name", "Own", "--role", "admin", env=env,
                        capture_output=True, text=True)
    assert created.returncode == 0, created.stderr
    dev.seed_demo(env)
    assert "has users but not the demo company" in capsys.readouterr().out


def test_a_seeding_that_fails_stops_with_a_non_zero_exit(env, monkeypatch):
    monkeypatch.setattr(dev, "flask", lambda *args, **kwargs: dev.subprocess.run(
        [str(dev.BIN / "flask"), "--app", "wsgi", "demo", "no-such-command"], cwd=dev.ROOT,
        env=env, capture_output=True, text=True))
    with pytest.raises(SystemExit) as stopped:
        dev.seed_demo(env)
    assert stopped.value.code not in (None, 0)
    assert "Seeding the demo company failed" in str(stopped.value.code)


def test_an_unreachable_database_stops_with_a_non_zero_exit(env):
    broken = {**env, "DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/none"}
    with pytest.raises(SystemExit) as stopped:
        dev.seed_demo(broken)
    assert stopped.value.code not in (None, 0)


def test_run_takes_the_port_as_an_option_or_bare_and_5000_by_default():
    assert dev.parse(["run", "--port", "5001"]).port == 5001
    assert dev.parse(["run", "5002"]).port == 5002
    assert dev.parse(["run"]).port == 5000
    with pytest.raises(SystemExit):
        dev.parse(["run", "--port", "five"])


def missing_database_url() -> str:
    """A database that does not exist: on the test PostgreSQL server when there is one (the
    README's case: the server answers, the database is not created), else no server at all."""
    server = os.environ.get("TEST_DATABASE_URL", "")
    if server.startswith("postgresql"):
        return server.rsplit("/", 1)[0] + "/fieldsales_never_created"
    return "postgresql+psycopg://postgres@127.0.0.1:1/fieldsales"


def test_a_database_that_cannot_be_opened_stops_run_with_one_sentence(env):
    with pytest.raises(SystemExit) as stopped:
        dev.check_database({**env, "DATABASE_URL": missing_database_url()})
    said = str(stopped.value.code)
    assert said.startswith("Cannot open the database postgresql+psycopg://postgres@127.0.0.1:")
    assert "\n" not in said and "Traceback" not in said
    if os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"):
        assert 'database "fieldsales_never_created" does not exist' in said


@pytest.mark.skipif(Path(sys.prefix).resolve() != dev.VENV.resolve(),
                    reason="runs `python3 dev.py run`, which uses .venv: run via dev.py test")
def test_run_on_a_database_that_cannot_be_opened_prints_one_line_not_a_traceback(env):
    ran = subprocess.run([sys.executable, "dev.py", "run", "--port", "1"], cwd=dev.ROOT,
                         env={**env, "DATABASE_URL": missing_database_url()},
                         capture_output=True, text=True, timeout=120)
    assert ran.returncode == 1, ran.stderr[-2000:]
    assert ran.stderr.startswith("Cannot open the database "), ran.stderr[-2000:]
    assert ran.stderr.count("\n") == 1
    assert ran.stdout == ""


def test_a_database_that_opens_passes_the_check(env):
    dev.check_database(env)


def test_a_changed_constraints_file_means_installing_again(monkeypatch, tmp_path):
    lock = tmp_path / "constraints.txt"
    lock.write_text(dev.CONSTRAINTS.read_text())
    monkeypatch.setattr(dev, "CONSTRAINTS", lock)
    before = dev.install_stamp()
    lock.write_text(lock.read_text() + "flask-compress==1.17\n")
    assert dev.install_stamp() != before


def test_constraints_pin_every_dependency_of_pyproject_at_the_installed_version():
    """The lock is complete (a dependency added to pyproject.toml without `python3 dev.py lock`
    fails here) and the environment was installed from it."""
    import tomllib
    from importlib import metadata

    project = tomllib.loads((dev.ROOT / "pyproject.toml").read_text())["project"]
    named = {re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9._-]+", requirement)[0]).lower()
             for requirement in [*project["dependencies"],
                                 *project["optional-dependencies"]["dev"]]}
    pins = dict(line.split("==") for line in dev.CONSTRAINTS.read_text().splitlines()
                if line and not line.startswith("#"))
    assert named - set(pins) == set(), "run: python3 dev.py lock"
    for name in named:
        assert metadata.version(name) == pins[name], name


def audited(*dependencies: dict) -> dict:
    """pip-audit's JSON report (--format json) over these dependencies."""
    return {"dependencies": list(dependencies), "fixes": []}


def test_audit_fails_on_a_known_vulnerability_and_names_it():
    line, code = dev.audit_verdict(audited(
        {"name": "flask", "version": "0.12", "vulns": [
            {"id": "PYSEC-2018-66", "fix_versions": ["0.12.3"], "aliases": []}]},
        {"name": "click", "version": "8.1.0", "vulns": []}), "pypi")
    assert code == 1
    assert "flask 0.12: PYSEC-2018-66 (fixed in 0.12.3)" in line and "\n" not in line


def test_audit_passes_a_clean_environment_and_counts_what_it_could_not_audit():
    line, code = dev.audit_verdict(audited(
        {"name": "flask", "version": "3.1.0", "vulns": []},
        {"name": "private-pkg", "version": "1.0", "skip_reason": "Dependency not found"}),
        "pypi")
    assert code == 0
    assert line == "pip-audit (pypi): no known vulnerabilities in 1 packages (1 not audited)."


def test_a_feed_that_knows_no_package_counts_as_no_feed():
    """A mirror without PyPI's vulnerability data answers 404 for every package: pip-audit
    skips them all and reports no vulnerability; that is no audit, not a clean one."""
    line, code = dev.audit_verdict(audited(
        {"name": "flask", "version": "3.1.0", "skip_reason": "Dependency not found on PyPI"},
        {"name": "click", "version": "8.1.0", "skip_reason": "Dependency not found on PyPI"}),
        "pypi")
    assert code is None and "knew none of the 2 packages" in line


def test_with_no_feed_reachable_the_audit_says_so_in_one_line_and_passes(monkeypatch,
                                                                          capsys):
    # Every request of pip-audit goes to a proxy where nothing listens.
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    dev.audit()  # returns: no SystemExit, so exit 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    assert out[0].startswith("pip-audit: no vulnerability feed could be reached, so nothing "
                             "was audited (pypi: ")


def test_a_server_that_cannot_start_stops_its_scheduler_and_run_fails(env):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(SystemExit) as stopped:
            # gunicorn finds the port in use; serve returns only once both children exited.
            dev.serve(taken.getsockname()[1], env)
    assert stopped.value.code not in (None, 0)
