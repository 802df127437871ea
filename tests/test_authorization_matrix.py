"""Every route times every caller, generated from the app's own URL map.

A route must either be on the public list below or carry `@require(...)` on each of its
methods; a new route without a rule fails this test. For each protected route and method:
no token and a revoked token get 401, roles outside the rule get 403, and roles inside it get
past authorization (whatever the route then answers for made-up ids and an empty body, it is
neither 401 nor 403 from the role check, and never a 5xx).
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


def routes(app):
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        view_class = getattr(view, "view_class", None)
        for method in sorted(rule.methods & set(METHODS)):
            handler = getattr(view_class, method.lower(), None) if view_class else view
            yield rule.rule, method, handler


def concrete(path: str) -> str:
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: f"no-such-{m.group(1)}", path)


def test_every_route_is_public_or_has_a_role_rule(app):
    unguarded = [(path, method) for path, method, handler in routes(app)
                 if (path, method) not in PUBLIC and not hasattr(handler, "required_roles")]
    assert unguarded == []


def test_routes_answer_each_caller_as_their_rule_says(app, client, team):
    revoked = dict(team.headers["rep"])
    client.post(f"/api/v1/users/{team.rep.id}/revoke-tokens", headers=team.headers["admin"])
    fresh = {"admin": team.headers["admin"], "manager": team.headers["manager"],
             "procurement": team.headers["procurement"], "rep": team.headers["rep2"]}
    failures = []
    for path, method, handler in routes(app):
        if (path, method) in PUBLIC:
            continue
        allowed = handler.required_roles or ROLES
        url = concrete(path)
        for caller, headers in [("no token", {}), ("revoked token", revoked)]:
            status = client.open(url, method=method, headers=headers, json={}).status_code
            if status != 401:
                failures.append((method, path, caller, status, 401))
        for role in ROLES:
            response = client.open(url, method=method, headers=fresh[role], json={})
            body = response.json if response.is_json else None
            code = body.get("error", {}).get("code") if isinstance(body, dict) else None
            if role in allowed:
                if response.status_code >= 500 or response.status_code == 401 or code == "forbidden":
                    failures.append((method, path, role, response.status_code, "allowed"))
            elif response.status_code != 403:
                failures.append((method, path, role, response.status_code, 403))
    assert failures == []


@pytest.mark.parametrize("path", ["/healthz", "/api/v1/openapi.json"])
def test_public_routes_need_no_token(client, path):
    assert client.get(path).status_code == 200
