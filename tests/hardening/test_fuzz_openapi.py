"""The OpenAPI document tells the whole truth, checked by schemathesis as each role.

The sweep runs schemathesis's own engine, what `schemathesis run --checks all` runs, over
real HTTP against the app (a server thread on the test's database), once per role and once
signed out: every check (not a server error; status code, content type, headers and body as
documented; documented-valid data accepted or answered with an error the operation declares;
invalid data refused; unsupported methods 405 with `Allow`; `Allow` on OPTIONS as documented;
auth not ignored; in the stateful phase, a created record can be read and a deleted one is
gone), over the examples, coverage (boundaries, unexpected methods, OPTIONS), fuzzing and
stateful phases. In the first three, path ids are those of real records, so no handler hides
behind a 404; the stateful phase runs apart, its path ids from the document's links (the record
a step created). The document declares no catch-all `default` answer, so an error it never
declares fails.

Bounded and reproducible: a fixed seed, deterministic generation, no cache between runs,
FUZZ_MAX_EXAMPLES (default 5) examples per operation in the fuzzing phase; the coverage phase
runs once per operation, as one of the roles it lets in; an operation the role may not call
is only checked for its refusal. About 3,900 requests in all. The sweep is skipped under
`--at` (the document does not depend on the hour; CI runs it on SQLite and on PostgreSQL).
"""
import os
import re
import threading
import time
import zlib

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.serving import WSGIRequestHandler, make_server

from fieldsales.common import ROLES

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", 5))
SEED = 20261202
# A caller the route refuses (401/403 before any parsing) only needs its refusal checked.
REFUSED_EXAMPLES = 2
# The checks of the known-good calls below (sent in-process, one request each).
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance]
# schemathesis's defaults for valid data; the sweep adds each operation's declared 4xx.
POSITIVE_STATUSES = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
# Sign-in is swept signed out only: as a signed-in role it is the same call.
SIGNED_OUT_ONLY = {"POST /api/v1/auth/token"}
# Sign-out revokes the token it is called with: it gets a token of its own, so the role's
# token stays live for the operations after it.
SIGNS_OUT = {"DELETE /api/v1/auth/token"}


@pytest.fixture(scope="module")
def schema(app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):  # thousands of lines, none read
        pass


@pytest.fixture
def served(app):
    """The app over real HTTP on a free port, in a thread of this process (same database)."""
    server = make_server("127.0.0.1", 0, app, threaded=False, request_handler=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}"
    server.shutdown()
    thread.join()


def real_ids(client, team) -> dict:
    """Ids of live records for path parameters; rep2 is the victim of user operations, so the
    caller never revokes or deactivates their own token mid-run."""
    admin = team.headers["admin"]
    ids = {"user_id": team.rep2.id}
    made = [
        ("customer_id", "/api/v1/customers",
         {"name": "Fuzz Outlet", "latitude": 38.7, "longitude": -9.1,
          "assigned_rep_id": team.rep.id}),
        ("product_id", "/api/v1/products",
         {"sku": "FUZZ-1", "name": "Fuzz Soap", "unit_price": 2.5}),
    ]
    for name, url, body in made:
        response = client.post(url, json=body, headers=admin)
        if response.status_code == 201:
            ids[name] = response.json["id"]
    ids["rep_id"] = team.rep.id
    if team.rep.team_id:
        ids["team_id"] = team.rep.team_id
    response = client.post("/api/v1/targets", headers=admin, json={
        "rep_id": team.rep.id, "metric": "visits", "period": "month",
        "period_start": "2026-01-01", "goal": 40})
    if response.status_code == 201:
        ids["target_id"] = response.json["id"]
    if "customer_id" in ids:
        response = client.post("/api/v1/tasks", headers=admin, json={
            "assigned_rep_id": team.rep.id, "customer_id": ids["customer_id"],
            "title": "Fuzz the shelf", "category": "selling"})
        if response.status_code == 201:
            ids["task_id"] = response.json["id"]
    if "customer_id" in ids and "product_id" in ids:
        # An order with a line, and a quarantined record, both from the rep's phone.
        changes = {"orders": {"created": [{"id": "fuzzorder1", "customer_id": ids["customer_id"],
                                           "ordered_at": 1_700_000_000_000}]},
                   "order_lines": {"created": [{"id": "fuzzline1", "order_id": "fuzzorder1",
                                                "product_id": ids["product_id"], "quantity": 3,
                                                "unit_price": 2.5}]},
                   "feedback": {"created": [{"id": "fuzzbad1", "customer_id": ids["customer_id"],
                                             "recorded_at": 1_700_000_000_000, "rating": 9,
                                             "category": "other"}]}}
        response = client.post("/api/v1/sync?last_pulled_at=null", json=changes,
                               headers=team.headers["rep"])
        if response.status_code == 200 and response.json["accepted"].get("orders"):
            ids["order_id"] = "fuzzorder1"
        held = client.get("/api/v1/sync/quarantine", headers=admin)
        if held.status_code == 200 and held.json.get("items"):
            ids["quarantine_id"] = str(held.json["items"][0]["id"])
    return ids


def operation_config(app, document: dict, role: str | None, login) -> list[dict]:
    """Per operation: documented-valid data may be answered with an error the operation
    declares (a cursor this list never gave out, a date range that ends before it starts).
    The coverage phase (boundaries, unexpected methods, OPTIONS) runs once per operation, as
    one of the roles it lets in (spread over them, so the roles' runs cost alike); the others
    fuzz it. A refused operation gets a few examples only; sign-in and sign-out as above."""
    configs = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            label = f"{method.upper()} {path}"
            if role is not None and label in SIGNED_OUT_ONLY:
                configs.append({"include-name": label, "enabled": False})
                continue
            declared = sorted(code for code in operation["responses"] if code.startswith("4"))
            config: dict = {"include-name": label, "checks": {"positive_data_acceptance": {
                "expected-statuses": POSITIVE_STATUSES + declared}}}
            roles = allowed_roles(app, method, path)
            callers = [None] if roles is None else [name for name in ROLES if name in roles]
            if role not in callers:
                config["phases"] = {"coverage": {"enabled": False}}
                config["generation"] = {"max-examples": REFUSED_EXAMPLES, "mode": "positive"}
            elif callers[zlib.crc32(label.encode()) % len(callers)] != role:
                config["phases"] = {"coverage": {"enabled": False}}
            if label in SIGNS_OUT and role is not None:
                config["headers"] = login(role)
            configs.append(config)
    return configs


def allowed_roles(app, method: str, path: str) -> tuple[str, ...] | None:
    """The roles the route's `@require` lets in (all roles if it names none); None if public."""
    path = re.sub(r"{([^}]+)}", r"<\1>", path)
    for rule in app.url_map.iter_rules():
        if re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"<\1>", rule.rule) == path:
            view = app.view_functions[rule.endpoint]
            handler = getattr(getattr(view, "view_class", None), method.lower(), view)
            roles = getattr(handler, "required_roles", None)
            return None if roles is None else (roles or ROLES)
    return None


# Plain answers, whose conformance is what is checked here (tests/test_wire.py covers
# compression; schemathesis over WSGI asks for gzip but never decodes it).
PLAIN = {"Accept-Encoding": "identity"}


def sweep(app, url: str, *, headers: dict, ids: dict, role: str | None,
          login) -> tuple[list[str], dict[str, int]]:
    """Run the engine over every operation: the failures and errors, as readable reports,
    and the requests sent per operation.

    Two runs of the engine. The examples, coverage and fuzzing phases send each operation
    with the real records' ids in its path. The stateful phase runs on its own, without them:
    it chains calls by the document's links (the id a POST answers is the one the next GET,
    PATCH or DELETE reads), and schemathesis lays fixed parameters over every step, so with
    them a GET after a POST would read the fixed record, not the created one (a fixed record
    a DELETE removed earlier then reads as a created record not found)."""
    document = app.test_client().get("/api/v1/openapi.json").json
    operations = operation_config(app, document, role, login)
    failures: dict[tuple, str] = {}  # one example per operation, check and status
    sent: dict[str, int] = {}
    runs = [(["examples", "coverage", "fuzzing"], ids), (["stateful"], {})]
    for phases, path_ids in runs:
        config = SchemathesisConfig.from_dict({
            "seed": SEED,
            "cache": {"enabled": False},  # every run sends the same cases, whatever ran before
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True,
                           "database": "none"},
            "checks": {"enabled": True},
            "phases": {name: {"enabled": name in phases}
                       for name in ("examples", "coverage", "fuzzing", "stateful")},
            "headers": {**headers, **PLAIN},
            "continue-on-failure": True,
            "parameters": {f"path.{name}": value for name, value in path_ids.items()},
            "operations": operations,
        })
        schema = schemathesis.openapi.from_url(f"{url}/api/v1/openapi.json", config=config)
        collect(from_schema(schema).execute(), failures=failures, sent=sent)
    return [failures[key] for key in sorted(failures, key=str)], sent


def collect(run, *, failures: dict[tuple, str], sent: dict[str, int]) -> None:
    """Gather one engine run's failures and errors (one example per operation, check and
    status) and its requests per operation."""
    for event in run:
        if isinstance(event, events.ScenarioFinished):
            sent[event.label] = sent.get(event.label, 0) + len(event.recorder.interactions)
            for case_id, checks in event.recorder.checks.items():
                interaction = event.recorder.interactions.get(case_id)
                status = interaction.response.status_code if interaction and \
                    interaction.response else None
                for check in checks:
                    if check.status == Status.FAILURE and check.failure_info is not None:
                        failure = check.failure_info.failure
                        failures.setdefault(
                            (event.label, check.name, status),
                            f"--- {event.label}: {check.name} ({status}, {event.phase.value}): "
                            f"{failure.title}\n{failure.message}\n"
                            f"{check.failure_info.code_sample}")
        elif isinstance(event, (events.NonFatalError, events.FatalError)):
            failures.setdefault((getattr(event, "label", "the run"), "error", None),
                                f"--- {getattr(event, 'label', 'the run')}: error\n"
                                f"{event.info.format()}")


@pytest.mark.openapi_sweep
@pytest.mark.parametrize("role", [*ROLES, None], ids=[*ROLES, "signed_out"])
def test_every_operation_answers_as_documented(app, client, team, login, served, role):
    ids = real_ids(client, team)
    # Every path id of the document has a real record behind it, so no handler hides behind 404.
    assert {"user_id", "customer_id", "product_id", "task_id", "target_id", "order_id",
            "quarantine_id", "rep_id", "team_id"} <= ids.keys(), ids
    headers = {} if role is None else dict(team.headers[role])
    started = time.perf_counter()
    failures, sent = sweep(app, served, headers=headers, ids=ids, role=role,
                           login=lambda name: login(getattr(team, name)))
    print(f"sweep as {role or 'signed out'}: {sum(sent.values())} requests, "
          f"{time.perf_counter() - started:.1f} s")
    document = app.test_client().get("/api/v1/openapi.json").json
    swept = {f"{method.upper()} {path}" for path, item in document["paths"].items()
             for method in item if method != "parameters"}
    if role is not None:
        swept -= SIGNED_OUT_ONLY
    assert swept <= {label for label, count in sent.items() if count}  # each one was sent
    if failures:
        pytest.fail(f"{len(failures)} failures\n" + "\n\n".join(failures[:60]), pytrace=False)


def test_valid_requests_succeed_and_answer_as_documented(schema, client, team):
    """Random bodies seldom carry ids that exist, so the fuzz above rarely reaches the success
    path of an operation that needs them: these known-good calls do, each checked against the
    document as the fuzz checks its cases."""
    ids = real_ids(client, team)
    twin = client.post("/api/v1/customers", headers=team.headers["admin"], json={
        "name": "Fuzz Outlet.", "latitude": 38.7, "longitude": -9.1,
        "assigned_rep_id": team.rep.id}).json["id"]
    feedback = client.get(f"/api/v1/sync/quarantine/{ids['quarantine_id']}",
                          headers=team.headers["admin"]).json["payload"]
    cases = [
        ("procurement", "PATCH", "/api/v1/products/{product_id}", {}, {"stock_on_hand": 100}),
        ("manager", "POST", "/api/v1/tasks", {}, {
            "assigned_rep_id": team.rep.id, "customer_id": ids["customer_id"],
            "title": "Count the facings", "category": "selling"}),
        ("rep", "PATCH", "/api/v1/tasks/{task_id}", {}, {"status": "done"}),
        ("admin", "POST", "/api/v1/targets", {}, {
            "rep_id": team.rep.id, "metric": "orders", "period": "month",
            "period_start": "2026-02-01", "goal": 12}),
        ("manager", "PATCH", "/api/v1/targets/{target_id}", {}, {"goal": 45}),
        ("procurement", "POST", "/api/v1/orders/{order_id}/deliveries", {}, {
            "lines": [{"order_line_id": "fuzzline1", "quantity": 1}]}),
        ("manager", "POST", "/api/v1/orders/{order_id}/cancel", {}, None),
        ("admin", "POST", "/api/v1/sync/quarantine/{quarantine_id}/replay", {},
         {"record": {**feedback, "rating": 5}}),
        ("admin", "POST", "/api/v1/customers/{customer_id}/merge",
         {"customer_id": twin}, {"into_id": ids["customer_id"]}),
        ("rep", "POST", "/api/v1/sync", {}, {"location_pings": {"created": [{
            "id": "fuzzping1", "recorded_at": 1_700_000_000_000, "latitude": 38.7,
            "longitude": -9.1, "accuracy_m": 5}], "updated": [], "deleted": []}}),
        ("admin", "POST", "/api/v1/users", {}, {
            "email": "fuzz.newcomer@example.com", "password": "a long enough password",
            "name": "Newcomer", "role": "rep", "manager_id": team.manager.id}),
        ("manager", "POST", "/api/v1/users/{user_id}/revoke-tokens", {}, None),
    ]
    failures = []
    for role, method, path, given_ids, body in cases:
        operation = schema[path][method]
        names = {parameter.name for parameter in operation.path_parameters}
        case = operation.Case(path_parameters={name: given_ids.get(name, ids.get(name))
                                               for name in names},
                              query={"last_pulled_at": "null"} if path == "/api/v1/sync" else None,
                              **({} if body is None else {"body": body,
                                                          "media_type": "application/json"}))
        try:
            response = case.call_and_validate(headers={**team.headers[role], **PLAIN},
                                              checks=CHECKS)
        except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001  (reported below)
            failures.append(f"--- {method} {path} as {role}\n{str(error)[:2000]}")
            continue
        if not 200 <= response.status_code < 300:
            failures.append(f"--- {method} {path} as {role}: {response.status_code} "
                            f"{response.text[:300]}")
    if failures:
        pytest.fail("\n\n".join(failures), pytrace=False)
