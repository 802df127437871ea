"""Every route times every caller, generated from the app's own URL map.

Who may call what is written out below, by hand: a route must be on the public list or in
`EXPECTED`, and its `@require(...)` must say the same, so a new route, or a changed rule, fails
this test until someone decides who may call it. For each protected route and method: no
token and a revoked token get 401, roles outside the rule get 403, and roles inside it get
past authorization (whatever the route then answers for made-up ids and an empty body, it is
neither 401 nor 403 from the role check, and never a 5xx). Rows and records are scoped
further inside the routes (a manager's team, a rep's own); the report, sync and CRUD tests
check that.
"""
import re

import pytest

from fieldsales.common import ROLES

PUBLIC = {
    ("/healthz", "GET"),
    ("/api/v1/auth/token", "POST"),
    ("/api/v1/openapi.json", "GET"),
    ("/api/v1/docs", "GET"),
    ("/api/v1/docs/<path:filename>", "GET"),
    ("/static/<path:filename>", "GET"),
}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# (rule, method): the roles that may call it ("any": every signed-in user).
EXPECTED = {
    ("/api/v1/auth/token", "DELETE"): "any",
    ("/api/v1/backlog", "GET"): "admin manager procurement rep",
    ("/api/v1/backlog/summary", "GET"): "admin manager procurement rep",
    ("/api/v1/customers", "GET"): "any",
    ("/api/v1/customers", "POST"): "admin manager",
    ("/api/v1/customers/<customer_id>", "DELETE"): "admin manager",
    ("/api/v1/customers/<customer_id>", "GET"): "any",
    ("/api/v1/customers/<customer_id>", "PATCH"): "admin manager",
    ("/api/v1/customers/<customer_id>/merge", "POST"): "admin manager",
    ("/api/v1/customers/duplicates", "GET"): "admin manager",
    ("/api/v1/demand", "GET"): "admin manager procurement",
    ("/api/v1/imports/customers", "POST"): "admin manager",
    ("/api/v1/imports/deliveries", "POST"): "admin procurement",
    ("/api/v1/imports/products", "POST"): "admin procurement",
    ("/api/v1/demand/<product_id>/weeks", "GET"): "admin manager procurement",
    ("/api/v1/feedback/summary", "GET"): "admin manager procurement rep",
    ("/api/v1/jobs/runs", "GET"): "admin manager procurement",
    ("/api/v1/orders", "GET"): "any",
    ("/api/v1/orders/<order_id>", "GET"): "any",
    ("/api/v1/orders/<order_id>/cancel", "POST"): "admin manager procurement",
    ("/api/v1/orders/<order_id>/deliveries", "POST"): "admin procurement",
    ("/api/v1/planned-visits", "GET"): "admin manager rep",
    ("/api/v1/planned-visits", "POST"): "admin manager",
    ("/api/v1/planned-visits/<planned_visit_id>", "DELETE"): "admin manager",
    ("/api/v1/planned-visits/<planned_visit_id>", "GET"): "admin manager rep",
    ("/api/v1/planned-visits/<planned_visit_id>", "PATCH"): "admin manager",
    ("/api/v1/products", "GET"): "any",
    ("/api/v1/products", "POST"): "admin procurement",
    ("/api/v1/products/<product_id>", "DELETE"): "admin procurement",
    ("/api/v1/products/<product_id>", "GET"): "any",
    ("/api/v1/products/<product_id>", "PATCH"): "admin procurement",
    ("/api/v1/reps/<rep_id>/activity", "GET"): "admin manager rep",
    ("/api/v1/sync", "GET"): "rep",
    ("/api/v1/sync", "POST"): "rep",
    ("/api/v1/sync/log", "GET"): "admin manager",
    ("/api/v1/sync/quarantine", "GET"): "admin",
    ("/api/v1/sync/quarantine/<quarantine_id>", "GET"): "admin",
    ("/api/v1/sync/quarantine/<quarantine_id>/discard", "POST"): "admin",
    ("/api/v1/sync/quarantine/<quarantine_id>/replay", "POST"): "admin",
    ("/api/v1/targets", "GET"): "admin manager rep",
    ("/api/v1/targets", "POST"): "admin manager",
    ("/api/v1/targets/<target_id>", "DELETE"): "admin manager",
    ("/api/v1/targets/<target_id>", "GET"): "admin manager rep",
    ("/api/v1/targets/<target_id>", "PATCH"): "admin manager",
    ("/api/v1/tasks", "GET"): "admin manager rep",
    ("/api/v1/tasks", "POST"): "admin manager",
    ("/api/v1/tasks/<task_id>", "DELETE"): "admin manager",
    ("/api/v1/tasks/<task_id>", "GET"): "admin manager rep",
    ("/api/v1/tasks/<task_id>", "PATCH"): "admin manager rep",
    ("/api/v1/teams", "GET"): "admin manager",
    ("/api/v1/teams/<team_id>/overview", "GET"): "admin manager",
    ("/api/v1/teams/<team_id>/today", "GET"): "admin manager",
    ("/api/v1/teams/<team_id>/working-hours", "GET"): "admin manager",
    ("/api/v1/teams/<team_id>/working-hours", "PUT"): "admin manager",
    ("/api/v1/teams/<team_id>/alert-rules", "GET"): "admin manager",
    ("/api/v1/teams/<team_id>/alert-rules", "PUT"): "admin manager",
    ("/api/v1/alerts", "GET"): "admin manager",
    ("/api/v1/alerts/<alert_id>/acknowledge", "POST"): "admin manager",
    ("/api/v1/territories/balance", "GET"): "admin manager",
    ("/api/v1/users", "GET"): "admin manager",
    ("/api/v1/users", "POST"): "admin",
    ("/api/v1/users/<user_id>", "DELETE"): "admin",
    ("/api/v1/users/<user_id>", "GET"): "admin manager",
    ("/api/v1/users/<user_id>", "PATCH"): "admin",
    ("/api/v1/users/<user_id>/revoke-tokens", "POST"): "admin manager",
    ("/api/v1/users/me", "GET"): "any",
    ("/api/v1/users/me/export", "GET"): "any",
    ("/api/v1/users/me/position-views", "GET"): "any",
    ("/api/v1/webhooks", "GET"): "admin",
    ("/api/v1/webhooks", "POST"): "admin",
    ("/api/v1/webhooks/<subscription_id>", "DELETE"): "admin",
    ("/api/v1/webhooks/<subscription_id>", "GET"): "admin",
    ("/api/v1/webhooks/<subscription_id>", "PATCH"): "admin",
    ("/api/v1/webhooks/<subscription_id>/deliveries", "GET"): "admin",
    ("/api/v1/webhooks/<subscription_id>/deliveries/<delivery_id>/redeliver", "POST"): "admin",
    ("/api/v1/webhooks/<subscription_id>/rotate-secret", "POST"): "admin",
}


def routes(app):
    """The API's routes; the console's pages have their own matrix (tests/console)."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("console."):
            continue
        view = app.view_functions[rule.endpoint]
        view_class = getattr(view, "view_class", None)
        for method in sorted(rule.methods & set(METHODS)):
            handler = getattr(view_class, method.lower(), None) if view_class else view
            yield rule.rule, method, handler


def concrete(path: str) -> str:
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: f"no-such-{m.group(1)}", path)


def expected_roles(path: str, method: str) -> set[str]:
    rule = EXPECTED[(path, method)]
    return set(ROLES) if rule == "any" else set(rule.split())


def test_every_route_is_public_or_has_the_role_rule_written_here(app):
    found = {(path, method): handler for path, method, handler in routes(app)
             if (path, method) not in PUBLIC}
    assert sorted(set(found) - set(EXPECTED)) == [], "a route nobody decided the roles of"
    assert sorted(set(EXPECTED) - set(found)) == [], "a rule for a route that is gone"
    unguarded = [key for key, handler in found.items() if not hasattr(handler, "required_roles")]
    assert unguarded == []
    differing = [(key, sorted(handler.required_roles or ROLES), EXPECTED[key])
                 for key, handler in found.items()
                 if set(handler.required_roles or ROLES) != expected_roles(*key)]
    assert differing == []


SIGN_OUT = ("/api/v1/auth/token", "DELETE")  # revokes the caller's token: each gets a fresh one


def test_routes_answer_each_caller_as_their_rule_says(app, client, team, login):
    revoked = dict(team.headers["rep"])
    client.post(f"/api/v1/users/{team.rep.id}/revoke-tokens", headers=team.headers["admin"])
    fresh = {"admin": team.headers["admin"], "manager": team.headers["manager"],
             "procurement": team.headers["procurement"], "rep": team.headers["rep2"]}
    failures = []
    for path, method, _handler in routes(app):
        if (path, method) in PUBLIC:
            continue
        allowed = expected_roles(path, method)
        url = concrete(path)
        for caller, headers in [("no token", {}), ("revoked token", revoked)]:
            status = client.open(url, method=method, headers=headers, json={}).status_code
            if status != 401:
                failures.append((method, path, caller, status, 401))
        for role in ROLES:
            headers = fresh[role]
            if (path, method) == SIGN_OUT:
                headers = login(team.rep2 if role == "rep" else getattr(team, role))
            response = client.open(url, method=method, headers=headers, json={})
            body = response.json if response.is_json else None
            code = body.get("error", {}).get("code") if isinstance(body, dict) else None
            if role in allowed:
                status = response.status_code
                if status >= 500 or status == 401 or code == "forbidden":
                    failures.append((method, path, role, response.status_code, "allowed"))
            elif response.status_code != 403:
                failures.append((method, path, role, response.status_code, 403))
    assert failures == []


@pytest.mark.parametrize("path", ["/healthz", "/api/v1/openapi.json"])
def test_public_routes_need_no_token(client, path):
    assert client.get(path).status_code == 200
