"""Every failure answers in the one JSON shape {"error": {"code", "message", "details"}}."""
import pytest

from fieldsales import create_app
from tests.factories import config_for


def assert_error(response, status, code=None):
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"
    error = response.json["error"]
    assert set(error) == {"code", "message", "details"}
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], dict)
    if code:
        assert error["code"] == code
    return error


def test_400_malformed_json(client):
    response = client.post("/api/v1/auth/token", data="{not json",
                           content_type="application/json")
    assert_error(response, 400)


@pytest.mark.parametrize("send", [
    {},  # no body at all
    {"data": "name=Renamed", "content_type": "application/x-www-form-urlencoded"},
    {"data": '{"name": "Renamed"}', "content_type": "text/plain"},
], ids=["absent", "form", "json_as_text"])
def test_400_a_required_json_body_that_is_absent_or_not_json_changes_nothing(client, team,
                                                                            send):
    """webargs reads such a body as `{}`: a PATCH answered 200 and silently changed nothing."""
    admin = team.headers["admin"]
    error = assert_error(client.patch(f"/api/v1/users/{team.rep.id}", headers=admin, **send),
                         400, "bad_request")
    assert "Content-Type: application/json" in error["message"]
    assert client.get(f"/api/v1/users/{team.rep.id}", headers=admin).json["name"] == team.rep.name


@pytest.mark.parametrize("active", [0, 1, "yes", "true"])
def test_422_a_body_boolean_is_true_or_false_only(client, team, active):
    response = client.patch(f"/api/v1/users/{team.rep.id}", json={"active": active},
                            headers=team.headers["admin"])
    assert "active" in assert_error(response, 422, "validation_error")["details"]


def test_401_no_token(client):
    assert_error(client.get("/api/v1/users/me"), 401, "unauthorized")


def test_403_role_not_allowed(client, team):
    assert_error(client.post("/api/v1/users", json={}, headers=team.headers["rep"]), 403,
                 "forbidden")


def test_404_unknown_route_and_unknown_row(client, team):
    assert_error(client.get("/no/such/page"), 404, "not_found")
    assert_error(client.get("/api/v1/users/nobody", headers=team.headers["admin"]), 404)


def test_405_wrong_method_lists_the_allowed_ones(client):
    error = assert_error(client.delete("/healthz"), 405, "method_not_allowed")
    assert error
    assert "GET" in client.delete("/healthz").headers["Allow"]


@pytest.mark.parametrize("path, allowed", [
    ("/api/v1/customers", "GET, HEAD, OPTIONS, POST"),
    ("/api/v1/auth/token", "DELETE, OPTIONS, POST"),
    ("/healthz", "GET, HEAD, OPTIONS"),
])
def test_options_answers_204_with_allow_and_no_html(client, path, allowed):
    response = client.options(path)
    assert response.status_code == 204
    assert response.headers["Allow"] == allowed
    assert "Content-Type" not in response.headers and response.data == b""


def test_409_duplicate(client, team):
    body = {"email": team.rep.email, "password": "long enough", "name": "Dup", "role": "rep"}
    assert_error(client.post("/api/v1/users", json=body, headers=team.headers["admin"]), 409,
                 "duplicate_email")


def test_413_body_over_the_limit(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    response = client.post("/api/v1/auth/token", data="x" * 4096, content_type="application/json")
    assert_error(response, 413, "payload_too_large")


def test_422_validation_names_the_field_and_the_problem(client, team):
    body = {"email": "not-an-email", "password": "short", "name": "X", "role": "wizard",
            "surprise": 1}
    error = assert_error(client.post("/api/v1/users", json=body, headers=team.headers["admin"]),
                         422, "validation_error")
    fields = error["details"]
    assert {"email", "password", "role", "surprise"} <= set(fields)
    assert "email" in error["message"]


def test_429_is_json_with_retry_after(client, make_user, app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_PER_EMAIL_ADDRESS", 1)
    rep = make_user("rep")
    client.post("/api/v1/auth/token", json={"email": rep.email, "password": "bad"})
    response = client.post("/api/v1/auth/token", json={"email": rep.email, "password": "bad"})
    assert_error(response, 429, "too_many_requests")
    assert response.headers["Retry-After"]


def test_500_from_a_broken_route_is_json_and_hides_the_cause(make_database):
    app = create_app(config_for(make_database("broken"), PROPAGATE_EXCEPTIONS=False))

    @app.route("/broken")
    def broken():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/broken")
    error = assert_error(response, 500, "internal_error")
    assert "secret" not in response.get_data(as_text=True)
    assert error


@pytest.mark.parametrize("path", ["/api/v1/openapi.json", "/healthz"])
def test_documents_are_served(client, path):
    assert client.get(path).status_code == 200


def test_openapi_describes_the_error_shape_and_bearer_auth(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert "error" in spec["components"]["schemas"]["Error"]["properties"]


def test_healthz_answers_503_json_when_the_database_is_down():
    app = create_app(config_for("postgresql+psycopg://postgres@127.0.0.1:1/none",
                                SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"connect_timeout": 2}}))
    assert_error(app.test_client().get("/healthz"), 503, "database_unavailable")


def test_api_routes_answer_503_json_when_the_database_is_down():
    """Not a 500: nothing is wrong with the request, and a retry later will work."""
    app = create_app(config_for("postgresql+psycopg://postgres@127.0.0.1:1/none",
                                SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"connect_timeout": 2}}))
    client = app.test_client()
    assert_error(client.get("/api/v1/users/me", headers={"Authorization": "Bearer abc"}), 503,
                 "database_unavailable")
    assert_error(client.post("/api/v1/auth/token",
                             json={"email": "a@example.com", "password": "secret"}),
                 503, "database_unavailable")
