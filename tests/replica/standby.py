"""A real hot standby of the test PostgreSQL cluster, for the read replica's tests.

`start_standby(base_url)` checks that the primary can stream (wal_level, max_wal_senders, a
pg_hba rule for replication connections from 127.0.0.1, added and reloaded if missing: a
file edit, so it is done once and is idempotent), takes a base backup with `pg_basebackup -R`
into a temporary folder, starts it with `pg_ctl` on a free port as the `postgres` user, and
waits until it answers as a standby. `Standby.stop()` stops it and removes the folder.
wal_level needs a restart of the primary to change: that is never done here (Debian's
PostgreSQL 15 has `replica` by default).
"""
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import make_url

HBA_LINE = "host replication all 127.0.0.1/32 trust"
# Settings a hot standby must have at least as high as its primary.
AT_LEAST_PRIMARY = ("max_connections", "max_worker_processes", "max_wal_senders",
                    "max_prepared_transactions", "max_locks_per_transaction")


class NoStandby(Exception):
    """Why the standby could not be started here."""


@dataclass
class Standby:
    folder: str
    port: int
    bin: str
    engine: sa.Engine  # superuser on the standby's `postgres` database

    def url_for(self, url: str) -> str:
        """`url` (a primary's, with its search_path) pointed at the standby."""
        return make_url(url).set(host="127.0.0.1", port=self.port).render_as_string(
            hide_password=False)

    def pause(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(sa.text("SELECT pg_wal_replay_pause()"))
            _wait(lambda: connection.execute(sa.text(
                "SELECT pg_get_wal_replay_pause_state()")).scalar() == "paused", "paused")

    def resume(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(sa.text("SELECT pg_wal_replay_resume()"))

    def catch_up(self, primary: sa.Engine) -> None:
        """Wait until the standby has replayed everything the primary wrote so far."""
        with primary.connect() as connection:
            lsn = connection.execute(sa.text("SELECT pg_current_wal_lsn()")).scalar()
        with self.engine.connect() as connection:
            _wait(lambda: connection.execute(sa.text(
                "SELECT pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn)"), {"lsn": lsn}
            ).scalar(), f"replayed {lsn}")

    def stop(self) -> None:
        self.engine.dispose()
        _as_postgres([f"{self.bin}/pg_ctl", "-D", self.folder, "-m", "immediate", "-w",
                      "stop"], check=False)
        shutil.rmtree(self.folder, ignore_errors=True)


def _wait(done, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError(f"the standby was not {what} after {timeout:.0f} s")
        time.sleep(0.05)


def _as_postgres(command: list[str], check: bool = True) -> subprocess.CompletedProcess:
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    result = subprocess.run(command, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise NoStandby(f"{' '.join(command)} failed: {result.stderr.strip()}")
    return result


def _free_port() -> int:
    """From 5433, in a range of its own per xdist worker (gw0, gw1 ...), so two workers
    starting standbys at once never pick the same port."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    start = 5433 + 20 * (int(worker) if worker.isdigit() else 0)
    for port in range(start, start + 20):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise NoStandby("no free port for the standby")


def _allow_replication(primary: sa.Engine) -> None:
    """A pg_hba rule letting 127.0.0.1 stream (trust, as the test cluster's other rules)."""
    with primary.connect() as connection:
        allowed = connection.execute(sa.text(
            "SELECT count(*) FROM pg_hba_file_rules WHERE error IS NULL AND type = 'host' "
            "AND 'replication' = ANY(database) AND auth_method = 'trust' "
            "AND address IN ('127.0.0.1', 'all')")).scalar()
        if allowed:
            return
        hba_file = connection.execute(sa.text("SHOW hba_file")).scalar()
        with open(hba_file) as existing:
            present = HBA_LINE in existing.read().splitlines()
        if not present:
            with open(hba_file, "a") as rules:
                rules.write(f"\n# fieldsales tests: the read replica's standby streams\n"
                            f"{HBA_LINE}\n")
        connection.execute(sa.text("SELECT pg_reload_conf()"))
    time.sleep(0.5)  # the postmaster reloads asynchronously


def start_standby(base_url: str) -> Standby:
    url = make_url(base_url)
    if not url.drivername.startswith("postgresql"):
        raise NoStandby("TEST_DATABASE_URL is not PostgreSQL")
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise NoStandby("no postgres user to run the standby as") from None
    primary = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with primary.connect() as connection:
            show = {name: connection.execute(sa.text(f"SHOW {name}")).scalar()
                    for name in ("wal_level", "server_version_num", *AT_LEAST_PRIMARY)}
        if show["wal_level"] not in ("replica", "logical"):
            raise NoStandby(f"the primary's wal_level is {show['wal_level']}: set it to "
                            "replica (ALTER SYSTEM SET wal_level = replica) and restart it")
        if int(show["max_wal_senders"]) < 1:
            raise NoStandby("the primary's max_wal_senders is 0")
        _allow_replication(primary)
    finally:
        primary.dispose()
    major = int(show["server_version_num"]) // 10000
    bin_dir = f"/usr/lib/postgresql/{major}/bin"
    if not os.path.exists(f"{bin_dir}/pg_ctl"):
        found = shutil.which("pg_ctl")
        if found is None:
            raise NoStandby("no pg_ctl")
        bin_dir = os.path.dirname(found)

    folder = tempfile.mkdtemp(prefix="fieldsales-standby-")
    postgres = pwd.getpwnam("postgres")
    os.chown(folder, postgres.pw_uid, postgres.pw_gid)
    os.chmod(folder, 0o700)
    port = _free_port()
    try:
        _as_postgres([f"{bin_dir}/pg_basebackup", "-h", url.host or "127.0.0.1",
                      "-p", str(url.port or 5432), "-U", url.username or "postgres",
                      "-D", folder, "-R", "-X", "stream", "-c", "fast"])
        settings = {"port": port, "listen_addresses": "'127.0.0.1'",
                    "unix_socket_directories": f"'{folder}'", "hot_standby": "on",
                    "hot_standby_feedback": "on", "fsync": "off",
                    **{name: show[name] for name in AT_LEAST_PRIMARY}}
        # Debian keeps postgresql.conf and pg_hba.conf in /etc: the copy has neither.
        conf = "".join(f"{name} = {value}\n" for name, value in settings.items())
        for name, text in (("postgresql.conf", conf),
                           ("pg_hba.conf", "local all all trust\nhost all all 127.0.0.1/32 "
                                           "trust\n")):
            path = os.path.join(folder, name)
            with open(path, "a") as out:
                out.write(text)
            os.chown(path, postgres.pw_uid, postgres.pw_gid)
        _as_postgres([f"{bin_dir}/pg_ctl", "-D", folder, "-l", f"{folder}/standby.log", "-w",
                      "-t", "60", "start"])
    except BaseException:
        _as_postgres([f"{bin_dir}/pg_ctl", "-D", folder, "-m", "immediate", "stop"],
                     check=False)
        shutil.rmtree(folder, ignore_errors=True)
        raise
    engine = sa.create_engine(url.set(host="127.0.0.1", port=port, database="postgres"),
                              isolation_level="AUTOCOMMIT")
    standby = Standby(folder=folder, port=port, bin=bin_dir, engine=engine)
    try:
        def answers_as_standby() -> bool:
            try:
                with engine.connect() as connection:
                    return bool(connection.execute(sa.text("SELECT pg_is_in_recovery()"))
                                .scalar())
            except sa.exc.OperationalError:
                return False
        _wait(answers_as_standby, "accepting connections")
    except BaseException:
        standby.stop()
        raise
    return standby
