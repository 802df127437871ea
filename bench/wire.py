"""Bytes on the wire for one rep's field day, plain and compressed, and what compression costs.

    .venv/bin/python bench/wire.py                 # three fresh demo databases, gunicorn on each
    .venv/bin/python bench/wire.py --hours 4 --rep rep3

One rep of the demo company (`flask demo seed`: 30 days of history) lives a field day in fast
forward (the phone simulator of tests/support/phones, one phone): the first pull, then a
WatermelonDB sync (pull, then push) every 10 minutes of phone time with the day's GPS pings
(every 30 s), visits, orders and feedback. The same day runs three times, each on a freshly
seeded database and its own gunicorn (one worker), with the phone sending:

- `plain`: `Accept-Encoding: identity`, pushes uncompressed (the baseline, measured in the same
  run);
- `gzip`: `Accept-Encoding: gzip, deflate, br` (iOS's header; Android's says `gzip`) and pushes
  with `Content-Encoding: gzip` (the stacks under React Native's fetch decode answers by
  themselves; a compressed push needs the app to gzip its body).

Bytes count the HTTP/1.1 request and answer heads and bodies as the client sends and reads them
(no TCP or TLS framing). Server CPU: the worker's user+system time over the day (from /proc),
per sync, beside the plain run's (noisy on a shared machine); and, exactly, the CPU time this
process takes to compress every answer body of the plain run as the server does (gzip at
COMPRESS_LEVEL) and to inflate every push, per sync, with what brotli (COMPRESS_BR_LEVEL) would
take and save instead. Prints a table; exits non-zero if a day had errors.
"""
from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import sys
import tempfile
import time
import zlib
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # runs as a script from anywhere

import brotli  # noqa: E402

from config import Config  # noqa: E402
from fieldsales.demo.seed import DOMAIN  # noqa: E402
from fieldsales.demo.seed import PASSWORD as DEMO_PASSWORD  # noqa: E402
from tests.support.phones import BenchError, Fleet, Http, Plan, Server  # noqa: E402
from tests.support.phones.phone import Phone  # noqa: E402
from tests.support.phones.transport import Reply, TransportError  # noqa: E402
from tests.support.phones.world import Rep  # noqa: E402

MODES = {
    "plain": {"Accept-Encoding": "identity"},
    "gzip": {"Accept-Encoding": "gzip, deflate, br"},
}


class WireHttp(Http):
    """The phone's connection, counting what crosses the wire and decoding what comes back."""

    def __init__(self, base_url: str, timeout: float, mode: str):
        super().__init__(base_url, timeout)
        self.mode = mode
        self.sent = Counter()  # bytes by kind of call
        self.received = Counter()
        self.calls = Counter()
        self.plain_answers: list[bytes] = []  # answer bodies, decoded
        self.plain_pushes: list[bytes] = []

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None) -> Reply:
        kind = ("first pull" if not self.calls["pull"] else "pull") if method == "GET" \
            else "push"
        headers = {**(headers or {}), **MODES[self.mode]}
        wire_body = body
        if body is not None:
            self.plain_pushes.append(body)
            if self.mode != "plain":
                wire_body = gzip.compress(body, 6)
                headers["Content-Encoding"] = "gzip"
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        start = time.perf_counter()
        try:
            self.conn.request(method, self.prefix + path, body=wire_body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as error:
            self.close()
            raise TransportError(f"{type(error).__name__}: {error}") from None
        ms = (time.perf_counter() - start) * 1000
        head = {"Host": f"{self.host}:{self.port}", **headers}
        if wire_body is not None:
            head["Content-Length"] = str(len(wire_body))
        self.sent[kind] += (len(f"{method} {path} HTTP/1.1\r\n")
                            + sum(len(f"{k}: {v}\r\n") for k, v in head.items()) + 2
                            + len(wire_body or b""))
        self.received[kind] += (len(f"HTTP/1.1 {response.status} {response.reason}\r\n")
                                + sum(len(f"{k}: {v}\r\n") for k, v in response.getheaders())
                                + 2 + len(data))
        self.calls["pull" if kind == "first pull" else kind] += 1
        coding = response.getheader("Content-Encoding")
        if coding == "gzip":
            data = gzip.decompress(data)
        elif coding == "br":
            data = brotli.decompress(data)
        elif coding:
            raise BenchError(f"unexpected Content-Encoding {coding}")
        self.plain_answers.append(data)
        return Reply(response.status, data, ms)


def worker_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_day(mode: str, args, folder: Path) -> dict:
    """A fresh demo database, gunicorn on it, one rep's day; the figures."""
    server = Server(f"sqlite:///{folder}/wire-{mode}.db", workers=1,
                    log_path=folder / f"server-{mode}.log")
    server._run([sys.executable, "-c",
                 "from fieldsales import create_app; from fieldsales.extensions import db\n"
                 "app = create_app()\nwith app.app_context(): db.create_all()"])
    server._run([str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "demo", "seed"])
    server.start()
    try:
        plan = Plan(phones=1, two_phone_share=0, hours=args.hours, ping_every_s=30,
                    sync_every_min=10, visits_per_day=8, offline_gaps=0, abandon_share=0,
                    duplicate_share=0, bad_share=0, admin_edits_per_s=0, seed=args.seed,
                    max_wall_s=600)
        fleet = Fleet(server.base_url, plan, admin_email=f"admin@{DOMAIN}",
                      admin_password=DEMO_PASSWORD)
        login = Http(server.base_url, 30)
        email = f"{args.rep}@{DOMAIN}"
        token = login.request("POST", "/api/v1/auth/token", json.dumps(
            {"email": email, "password": DEMO_PASSWORD}).encode(),
            {"Content-Type": "application/json"}).json["access_token"]
        me = login.request("GET", "/api/v1/users/me",
                           headers={"Authorization": f"Bearer {token}"}).json
        login.close()
        phone = Phone(fleet, Rep(id=me["id"], email=email, phones=1, base=(38.72, -9.14)), 0,
                      token)
        phone.headers.pop("Content-Type", None)
        wire = phone.http = WireHttp(server.base_url, plan.timeout_s, mode)
        worker = server.worker_pids()[0]
        cpu = worker_cpu_s(worker)
        phone.live()
        cpu = worker_cpu_s(worker) - cpu
    finally:
        server.stop()
    errors = sum(phone.stats[k] for k in ("server_errors", "client_errors", "gave_up",
                                          "anomalies", "crashed"))
    return {"wire": wire, "syncs": phone.stats["pulls"], "pushes": phone.stats["pushes"],
            "records": phone.stats["records_accepted"], "cpu_s": cpu, "errors": errors,
            "samples": phone.samples}


def compression_cost(wire: WireHttp) -> dict:
    """Seconds this process takes to compress every answer and inflate every push of a day."""
    def timed(work, items) -> float:
        start = time.process_time()
        for item in items:
            work(item)
        return time.process_time() - start

    answers = [a for a in wire.plain_answers if len(a) >= Config.COMPRESS_MIN_SIZE]
    pushes = [gzip.compress(p, 6) for p in wire.plain_pushes]
    return {
        "gzip": timed(lambda a: gzip.compress(a, Config.COMPRESS_LEVEL), answers),
        "br": timed(lambda a: brotli.compress(a, quality=Config.COMPRESS_BR_LEVEL), answers),
        "inflate": timed(lambda p: zlib.decompress(p, 16 + zlib.MAX_WBITS), pushes),
        "first": timed(lambda a: gzip.compress(a, Config.COMPRESS_LEVEL),
                       wire.plain_answers[:1] * 20) / 20,
        "gzip_bytes": sum(len(gzip.compress(a, Config.COMPRESS_LEVEL)) for a in answers),
        "br_bytes": sum(len(brotli.compress(a, quality=Config.COMPRESS_BR_LEVEL))
                        for a in answers),
    }


def kib(n: float) -> str:
    return f"{n / 1024:,.1f}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hours", type=float, default=8.0, help="the field day (phone time)")
    parser.add_argument("--rep", default="rep1", help="the demo rep (rep1 ... rep12)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    days = {}
    with tempfile.TemporaryDirectory(prefix="fieldsales-wire-") as folder:
        for mode in MODES:
            days[mode] = one_day(mode, args, Path(folder))
            print(f"{mode}: {days[mode]['syncs']} syncs, {days[mode]['pushes']} pushes, "
                  f"{days[mode]['records']} records, errors {days[mode]['errors']}", flush=True)
    plain = days["plain"]
    syncs = plain["syncs"]
    print(f"\nOne field day of {args.rep}: {args.hours:g} h, a sync every 10 min "
          f"({syncs} pulls, {plain['pushes']} pushes, {plain['records']} records pushed)\n")
    print("| wire | first pull KiB | later pulls KiB | pushes KiB | day KiB | per sync KiB "
          "| vs plain | worker CPU ms/sync |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    plain_total = sum(plain["wire"].sent.values()) + sum(plain["wire"].received.values())
    for mode, day in days.items():
        wire = day["wire"]
        total = sum(wire.sent.values()) + sum(wire.received.values())
        first = wire.sent["first pull"] + wire.received["first pull"]
        pulls = wire.sent["pull"] + wire.received["pull"]
        pushes = wire.sent["push"] + wire.received["push"]
        print(f"| {mode} | {kib(first)} | {kib(pulls)} | {kib(pushes)} | {kib(total)} "
              f"| {kib(total / day['syncs'])} "
              f"| {'baseline' if mode == 'plain' else f'{plain_total / total:.1f}x smaller'} "
              f"| {1000 * day['cpu_s'] / day['syncs']:.1f} |")
    cost = compression_cost(plain["wire"])
    print(f"\nCompression alone, per sync (this process, the plain day's bodies): gzip "
          f"level {Config.COMPRESS_LEVEL} of the answers {1000 * cost['gzip'] / syncs:.2f} ms "
          f"CPU (the first pull alone {1000 * cost['first']:.2f} ms), inflating the gzip "
          f"pushes {1000 * cost['inflate'] / syncs:.2f} ms. Brotli "
          f"quality {Config.COMPRESS_BR_LEVEL} instead: {1000 * cost['br'] / syncs:.2f} ms, "
          f"answers {kib(cost['br_bytes'])} KiB instead of {kib(cost['gzip_bytes'])} KiB "
          f"({100 * (1 - cost['br_bytes'] / cost['gzip_bytes']):.1f}% fewer).")
    failed = [mode for mode, day in days.items() if day["errors"]]
    for mode in failed:
        print(f"{mode} had errors: {days[mode]['samples']}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
