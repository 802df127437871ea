"""On the wire (fieldsales/wire.py, issue 17), over real HTTP: gunicorn on a scratch database.

Answers are compressed for a client that accepts it and plain for one that does not, streamed
exports stay streamed, a gzip push is stored as the same push sent plain, a gzip bomb is 413
with the worker's memory kept flat, a broken gzip body is 400, and an unchanged list is 304.
"""
import gzip
import http.client
import json
import tempfile
import zlib
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support.phones import Server

ADMIN, PASSWORD = "admin@wire.example.com", "wire-password-1"
LIMIT = 2 * 1024 * 1024  # the test server's MAX_CONTENT_LENGTH
PUSH_TABLES = ("customers", "products", "tasks", "visits", "location_pings", "feedback",
               "orders", "order_lines")


class Client:
    """One user's HTTP calls: the raw answer, headers and bytes as they came on the wire."""

    def __init__(self, server: Server, token: str | None = None):
        self.server, self.token = server, token

    def send(self, method: str, path: str, body: bytes | None = None,
             headers: dict | None = None) -> http.client.HTTPResponse:
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=60)
        all_headers = {**({"Authorization": f"Bearer {self.token}"} if self.token else {}),
                       **(headers or {})}
        conn.request(method, path, body=body, headers=all_headers)
        response = conn.getresponse()
        response.raw_body = response.read()  # type: ignore[attr-defined]
        conn.close()
        return response

    def json(self, method: str, path: str, payload=None, expect: int = 200):
        response = self.send(method, path, None if payload is None else json.dumps(payload)
                             .encode(), {"Content-Type": "application/json"})
        assert response.status == expect, response.raw_body
        return json.loads(response.raw_body)


@pytest.fixture(scope="module")
def server():
    with tempfile.TemporaryDirectory(prefix="fieldsales-wire-") as folder:
        # SQLite outside pytest's folders, as tests/hardening/test_fault_phones.py explains.
        server = Server(f"sqlite:///{folder}/wire.db", workers=1,
                        log_path=Path(folder) / "server.log")
        server.env["MAX_CONTENT_LENGTH"] = str(LIMIT)
        server.prepare(admin_email=ADMIN, admin_password=PASSWORD)
        server.start()
        try:
            yield server
        finally:
            server.stop()


def sign_in(server: Server, email: str) -> Client:
    token = Client(server).json("POST", "/api/v1/auth/token",
                                {"email": email, "password": PASSWORD})["access_token"]
    return Client(server, token)


@pytest.fixture(scope="module")
def world(server):
    """An admin, a manager and two reps of the manager's team, products and customers."""
    admin = sign_in(server, ADMIN)
    manager = admin.json("POST", "/api/v1/users", {
        "email": "manager@wire.example.com", "password": PASSWORD, "name": "Max",
        "role": "manager"}, expect=201)
    reps = [admin.json("POST", "/api/v1/users", {
        "email": f"rep{n}@wire.example.com", "password": PASSWORD, "name": f"Rep {n}",
        "role": "rep", "manager_id": manager["id"]}, expect=201) for n in range(2)]
    for n in range(30):
        admin.json("POST", "/api/v1/products", {
            "sku": f"W-{n:03d}", "name": f"Wire product {n}", "unit": "case",
            "unit_price": 2.5 + n, "stock_on_hand": 100, "lead_time_days": 3}, expect=201)
    customers = [admin.json("POST", "/api/v1/customers", {
        "name": f"Outlet {n}", "address": f"Rua {n}, Lisboa", "latitude": 38.7 + n / 1000,
        "longitude": -9.1, "geofence_radius_m": 150, "segment": "grocery", "kind": "account",
        "assigned_rep_id": reps[n % 2]["id"]}, expect=201) for n in range(40)]
    return {"admin": admin, "manager": sign_in(server, "manager@wire.example.com"),
            "reps": [sign_in(server, rep["email"]) for rep in reps],
            "rep_ids": [rep["id"] for rep in reps], "customers": customers}


def gunzip(data: bytes) -> bytes:
    return gzip.decompress(data)


def gzip_stream(chunks, size: int) -> bytes:
    """`size` zero bytes gzipped, made a MiB at a time: a bomb of a few hundred KiB."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = chunks * (1024 * 1024)
    out = [packer.compress(block) for _ in range(size // len(block))]
    return b"".join([*out, packer.flush()])


def peak_rss_kib(pid: int) -> int:
    """The process's high-water resident memory (VmHWM), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


# --- compressed answers --------------------------------------------------------------------

def test_a_client_that_accepts_gzip_gets_gzip_and_one_that_does_not_the_same_bytes_plain(world):
    admin = world["admin"]
    plain = admin.send("GET", "/api/v1/products?limit=100")
    gzipped = admin.send("GET", "/api/v1/products?limit=100", headers={"Accept-Encoding": "gzip"})
    assert plain.status == gzipped.status == 200
    assert plain.getheader("Content-Encoding") is None
    assert json.loads(plain.raw_body)["items"]
    assert gzipped.getheader("Content-Encoding") == "gzip"
    assert gunzip(gzipped.raw_body) == plain.raw_body
    assert len(gzipped.raw_body) < len(plain.raw_body) / 3
    assert int(gzipped.getheader("Content-Length")) == len(gzipped.raw_body)
    for response in (plain, gzipped):
        assert "Accept-Encoding" in response.getheader("Vary")
    # `identity` only, or gzip refused, is plain too.
    for accept in ("identity", "gzip;q=0"):
        refused = admin.send("GET", "/api/v1/products?limit=100",
                             headers={"Accept-Encoding": accept})
        assert refused.getheader("Content-Encoding") is None
        assert refused.raw_body == plain.raw_body


def test_a_client_that_prefers_brotli_gets_gzip(world):
    admin = world["admin"]
    plain = admin.send("GET", "/api/v1/customers?limit=100")
    offered = admin.send("GET", "/api/v1/customers?limit=100",
                         headers={"Accept-Encoding": "br;q=1, gzip;q=0.5"})
    assert offered.getheader("Content-Encoding") == "gzip"  # brotli is off (config)
    assert gunzip(offered.raw_body) == plain.raw_body
    only_br = admin.send("GET", "/api/v1/customers?limit=100", headers={"Accept-Encoding": "br"})
    assert only_br.getheader("Content-Encoding") is None and only_br.raw_body == plain.raw_body


def test_the_sync_pull_is_compressed_as_the_contract_says_it_and_carries_no_etag(world):
    rep = world["reps"][0]
    path = "/api/v1/sync?last_pulled_at=null&schema_version=1&migration=null"
    pulled = rep.send("GET", path, headers={"Accept-Encoding": "gzip", "If-None-Match": "*"})
    assert pulled.status == 200 and pulled.getheader("Content-Encoding") == "gzip"
    assert pulled.getheader("ETag") is None
    body = json.loads(gunzip(pulled.raw_body))
    assert set(body) == {"changes", "timestamp"}
    assert len(body["changes"]["customers"]["created"]) == 20
    assert len(body["changes"]["products"]["created"]) == 30


def test_small_answers_and_errors_are_not_compressed_but_say_vary(world):
    admin = world["admin"]
    small = admin.send("GET", "/api/v1/users/me", headers={"Accept-Encoding": "gzip"})
    assert small.status == 200 and small.getheader("Content-Encoding") is None
    assert "Accept-Encoding" in small.getheader("Vary")
    missing = admin.send("GET", "/api/v1/customers/nope", headers={"Accept-Encoding": "gzip"})
    assert missing.status == 404 and missing.getheader("Content-Encoding") is None
    assert json.loads(missing.raw_body)["error"]["code"] == "not_found"


def test_a_csv_export_stays_streamed_compressed_or_not(world):
    admin = world["admin"]
    path = "/api/v1/customers?format=csv"
    plain = admin.send("GET", path)
    gzipped = admin.send("GET", path, headers={"Accept-Encoding": "gzip"})
    for response in (plain, gzipped):
        assert response.status == 200 and response.getheader("Content-Type").startswith("text/csv")
        # Sent as it is made: chunked, its length unknown when the first bytes left.
        assert response.getheader("Transfer-Encoding") == "chunked"
        assert response.getheader("Content-Length") is None
    assert gzipped.getheader("Content-Encoding") == "gzip"
    assert gunzip(gzipped.raw_body) == plain.raw_body
    assert plain.raw_body.count(b"\r\n") == 41  # the header line and every customer


def test_a_csv_export_is_a_streamed_response_in_the_app(client, make_user, login):
    response = client.get("/api/v1/customers?format=csv", headers=login(make_user("admin")),
                          buffered=False)
    assert response.status_code == 200 and response.is_streamed
    assert response.get_data(as_text=True).startswith("id,")


# --- compressed pushes ---------------------------------------------------------------------

def field_push(*, customer_id: str, at: int, tag: str) -> dict:
    """A morning of one rep: pings, a visit and an order, with text that is not ASCII."""
    body: dict = {t: {"created": [], "updated": [], "deleted": []} for t in PUSH_TABLES}
    body["location_pings"]["created"] = [{
        "id": f"{tag}p{n}", "recorded_at": at - (40 - n) * 30_000, "latitude": 38.7 + n / 1e5,
        "longitude": -9.1, "accuracy_m": 8.5, "speed_mps": 1.2, "battery_pct": 80.0}
        for n in range(40)]
    body["visits"]["created"] = [{
        "id": f"{tag}v", "customer_id": customer_id, "check_in_at": at - 600_000,
        "check_in_latitude": 38.7, "check_in_longitude": -9.1, "check_in_accuracy_m": 10.0,
        "check_out_at": at - 60_000, "check_out_latitude": 38.7, "check_out_longitude": -9.1,
        "outcome": "order", "notes": "Gerente ausente, voltar 5ª feira — 店主说下周再订",
        "_status": "created", "_changed": ""}]
    body["orders"]["created"] = [{
        "id": f"{tag}o", "customer_id": customer_id, "visit_id": f"{tag}v",
        "ordered_at": at - 120_000, "requested_delivery_at": at + 86_400_000,
        "notes": "Paid cash — receipt №42"}]
    return body


def rows_of(server: Server, rep_id: str) -> dict:
    engine = sa.create_engine(server.database_url)
    try:
        with engine.connect() as conn:
            return {table: sorted(tuple(row) for row in conn.execute(
                sa.text(f"SELECT * FROM {table} WHERE rep_id = :rep ORDER BY id"),  # noqa: S608
                {"rep": rep_id}))
                for table in ("location_pings", "visits", "orders")}
    finally:
        engine.dispose()


def test_a_gzip_push_is_stored_exactly_as_the_same_push_sent_plain(server, world):
    rep, rep_id = world["reps"][0], world["rep_ids"][0]
    pulled = rep.json("GET", "/api/v1/sync?last_pulled_at=null")
    customer = pulled["changes"]["customers"]["created"][0]["id"]
    body = json.dumps(field_push(customer_id=customer, at=pulled["timestamp"],
                                 tag="gz")).encode()
    path = f"/api/v1/sync?last_pulled_at={pulled['timestamp']}"
    sent = rep.send("POST", path, gzip.compress(body),
                    {"Content-Encoding": "gzip", "Content-Type": "text/plain;charset=UTF-8"})
    assert sent.status == 200, sent.raw_body
    answer = json.loads(sent.raw_body)
    assert answer == {"accepted": {**dict.fromkeys(PUSH_TABLES, 0), "location_pings": 40,
                                   "visits": 1, "orders": 1}, "quarantined": []}
    stored = rows_of(server, rep_id)
    assert len(stored["location_pings"]) == 40
    # The same bytes sent plain are, record for record, an identical repeat of what is stored:
    # accepted and not written again (push: "a record that only repeats what is stored").
    again = rep.send("POST", path, body, {"Content-Type": "text/plain;charset=UTF-8"})
    assert again.status == 200 and json.loads(again.raw_body) == answer
    assert rows_of(server, rep_id) == stored
    visit = next(v for v in rep.json("GET", f"{path}")["changes"]["visits"]["created"]
                 if v["id"] == "gzv")
    assert visit["notes"] == "Gerente ausente, voltar 5ª feira — 店主说下周再订"


def test_a_gzip_bomb_is_413_and_the_worker_never_holds_it(server, world):
    bomb = gzip_stream(b"\0", 512 * 1024 * 1024)  # 512 MiB of zeros in about 0.5 MiB
    assert len(bomb) < LIMIT
    worker = server.worker_pids()[0]
    before = peak_rss_kib(worker)
    for client, path in ((world["reps"][1], "/api/v1/sync?last_pulled_at=null"),
                         (world["admin"], "/api/v1/products")):
        refused = client.send("POST", path, bomb, {"Content-Encoding": "gzip",
                                                   "Content-Type": "application/json"})
        assert refused.status == 413, refused.raw_body
        error = json.loads(refused.raw_body)["error"]
        assert error["code"] == "payload_too_large" and str(LIMIT) in error["message"]
    assert server.worker_pids() == [worker]  # the same worker answered, alive
    # Its peak memory grew by less than a few limits' worth, never by the bomb's 512 MiB.
    assert peak_rss_kib(worker) - before < 8 * LIMIT // 1024


def test_a_body_just_within_the_limit_once_inflated_is_read_whole(world):
    rep = world["reps"][1]
    pulled = rep.json("GET", "/api/v1/sync?last_pulled_at=null")
    body = json.dumps({"location_pings": {"created": [], "updated": [], "deleted": []},
                       "_pad": "x" * (LIMIT - 200)}).encode()
    assert LIMIT - 200 < len(body) <= LIMIT
    sent = rep.send("POST", f"/api/v1/sync?last_pulled_at={pulled['timestamp']}",
                    gzip.compress(body), {"Content-Encoding": "gzip"})
    assert sent.status == 400, sent.raw_body  # read whole: `_pad` is no table
    assert "_pad" in json.loads(sent.raw_body)["error"]["message"]


@pytest.mark.parametrize(("body", "message"), [
    (b"this is not gzip at all", "not valid gzip"),
    (gzip.compress(b'{"visits": {}}', mtime=0)[:-6], "not complete gzip"),
    (gzip.compress(b"{}", mtime=0) + b"trailing junk", "after its gzip stream"),
], ids=["not-gzip", "cut-short", "trailing-bytes"])
def test_a_body_that_does_not_decompress_is_400(world, body, message):
    rep = world["reps"][1]
    refused = rep.send("POST", "/api/v1/sync?last_pulled_at=null", body,
                       {"Content-Encoding": "gzip"})
    assert refused.status == 400, refused.raw_body
    error = json.loads(refused.raw_body)["error"]
    assert error["code"] == "bad_request" and message in error["message"]


def test_an_empty_body_labelled_gzip_is_an_empty_body(world):
    rep = world["reps"][1]
    refused = rep.send("POST", "/api/v1/sync?last_pulled_at=null", b"",
                       {"Content-Encoding": "gzip"})
    assert refused.status == 400
    assert "not valid JSON" in json.loads(refused.raw_body)["error"]["message"]


def test_a_content_coding_other_than_gzip_is_415(world):
    refused = world["reps"][1].send("POST", "/api/v1/sync?last_pulled_at=null",
                                    b"\x8b\x00\x80{}\x03", {"Content-Encoding": "br"})
    assert refused.status == 415
    assert json.loads(refused.raw_body)["error"]["code"] == "unsupported_media_type"


def test_a_gzip_rest_post_is_read_as_json(world):
    admin = world["admin"]
    body = json.dumps({"sku": "W-GZ", "name": "Gzipped product", "unit": "case",
                       "unit_price": 4.5, "stock_on_hand": 10, "lead_time_days": 2}).encode()
    created = admin.send("POST", "/api/v1/products", gzip.compress(body),
                         {"Content-Encoding": "gzip", "Content-Type": "application/json"})
    assert created.status == 201, created.raw_body
    assert json.loads(created.raw_body)["name"] == "Gzipped product"


# --- conditional GETs ----------------------------------------------------------------------

def test_an_unchanged_list_is_304_and_a_changed_one_200_with_a_new_etag(world):
    manager, admin = world["manager"], world["admin"]
    path = "/api/v1/customers?limit=5&sort=name"
    first = manager.send("GET", path, headers={"Accept-Encoding": "gzip"})
    etag = first.getheader("ETag")
    assert first.status == 200 and etag.startswith('W/"')
    # The same validator for the plain and the gzip bytes: one representation.
    assert manager.send("GET", path).getheader("ETag") == etag
    for accept in ("gzip", "identity"):
        unchanged = manager.send("GET", path, headers={"If-None-Match": etag,
                                                       "Accept-Encoding": accept})
        assert unchanged.status == 304 and unchanged.raw_body == b""
        assert unchanged.getheader("ETag") == etag
        assert "Accept-Encoding" in unchanged.getheader("Vary")
    customer = json.loads(gunzip(first.raw_body))["items"][0]
    admin.json("PATCH", f"/api/v1/customers/{customer['id']}", {"phone": "+351 210 000 000"})
    changed = manager.send("GET", path, headers={"If-None-Match": etag})
    assert changed.status == 200 and changed.getheader("ETag") != etag
    assert json.loads(changed.raw_body)["items"][0]["phone"] == "+351 210 000 000"


def test_two_viewers_who_see_different_rows_get_different_etags(world):
    path = "/api/v1/customers?limit=100"
    mine = world["reps"][0].send("GET", path)
    theirs = world["reps"][1].send("GET", path, headers={"If-None-Match": mine.getheader("ETag")})
    assert theirs.status == 200
    assert json.loads(mine.raw_body) != json.loads(theirs.raw_body)
    assert theirs.getheader("ETag") != mine.getheader("ETag")


def test_reports_carry_an_etag_too(world):
    manager = world["manager"]
    report = manager.send("GET", "/api/v1/backlog")
    assert report.status == 200, report.raw_body
    again = manager.send("GET", "/api/v1/backlog",
                         headers={"If-None-Match": report.getheader("ETag")})
    assert again.status == 304


def test_writes_and_errors_carry_no_etag(world):
    admin = world["admin"]
    created = admin.send("POST", "/api/v1/products", json.dumps({
        "sku": "W-NOETAG", "name": "No etag", "unit": "case", "unit_price": 1.0,
        "stock_on_hand": 1, "lead_time_days": 1}).encode(), {"Content-Type": "application/json"})
    assert created.status == 201 and created.getheader("ETag") is None
    assert admin.send("GET", "/api/v1/customers/nope").getheader("ETag") is None
