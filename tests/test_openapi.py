"""The OpenAPI document declares every answer an operation gives: its errors (no catch-all
`default`), `text/csv` and XLSX where a list exports, and on OPTIONS the methods it documents.

The schemathesis sweep (tests/hardening/test_fuzz_openapi.py) checks the answers against the
document; these tests check the document itself, route by route, against what the app does.
"""
import re

import pytest

from fieldsales.common import ROLES

ERROR_REF = {"$ref": "#/components/schemas/Error"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module")
def document(app):
    return app.test_client().get("/api/v1/openapi.json").json


def operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method != "parameters":
                yield method, path, operation


def view_of(app, method: str, path: str):
    flask_path = re.sub(r"{([^}]+)}", r"<\1>", path)
    rule = next(rule for rule in app.url_map.iter_rules() if rule.rule == flask_path)
    view = app.view_functions[rule.endpoint]
    return getattr(getattr(view, "view_class", None), method, view)


def test_every_operation_declares_its_error_answers_in_the_one_error_shape(app, document):
    for method, path, operation in operations(document):
        label = f"{method.upper()} {path}"
        responses = operation["responses"]
        errors = {int(code) for code in responses if code[0] in "45"}
        assert "default" not in responses, label
        assert 503 in errors, label  # the database may be unreachable for any of them
        for code in errors:
            response = responses[str(code)]
            if "$ref" in response:  # flask-smorest's 422
                response = document["components"]["responses"][response["$ref"].split("/")[-1]]
            assert response["content"] == {"application/json": {"schema": ERROR_REF}}, \
                (label, code)
            assert response["description"], (label, code)
        roles = getattr(view_of(app, method, path), "required_roles", None)
        assert (401 in errors) == (roles is not None or path == "/api/v1/auth/token"), label
        if roles and set(roles) != set(ROLES):
            assert 403 in errors, label
        if "{" in path:
            assert 404 in errors, label
        if "requestBody" in operation:
            assert {400, 413} <= errors, label
        takes_input = "requestBody" in operation or any(
            parameter["in"] == "query" for parameter in operation.get("parameters", []))
        if takes_input and path != "/api/v1/sync":  # the phones' sync reads its input by hand
            assert 422 in errors, label


def test_lists_declare_the_answer_an_opaque_cursor_gets(document):
    cursors = [(path, parameter) for _method, path, operation in operations(document)
               for parameter in operation.get("parameters", []) if parameter["name"] == "cursor"]
    assert len(cursors) > 10
    for path, cursor in cursors:
        assert "x-refused-with" not in cursor["schema"], path  # read, then left out
    for _method, path, operation in operations(document):
        signed = [parameter for parameter in operation.get("parameters", [])
                  if parameter["name"] == "cursor" and parameter["schema"]["type"] == "string"]
        if signed:  # a Listing's; the operators' logs take an integer id
            assert "invalid_cursor" in operation["responses"]["400"]["description"], path


def test_every_export_is_declared_as_text_csv_and_every_declared_one_exports(app, client, team,
                                                                            document):
    exports, declared = set(), set()
    for method, path, operation in operations(document):
        if method != "get" or "{" in path:
            continue
        if "text/csv" in operation["responses"]["200"].get("content", {}):
            declared.add(path)
        as_csv = client.get(path, query_string={"format": "csv"}, headers=team.headers["admin"])
        by_accept = client.get(path, headers={**team.headers["admin"], "Accept": "text/csv"})
        if as_csv.mimetype == "text/csv" and as_csv.status_code == 200:
            exports.add(path)
            assert by_accept.mimetype == "text/csv", path
    assert len(exports) >= 10, exports
    assert exports == declared


def test_every_csv_export_is_also_declared_and_exported_as_xlsx(app, client, team, document):
    csv_paths, xlsx_paths = set(), set()
    for method, path, operation in operations(document):
        content = operation["responses"].get("200", {}).get("content", {})
        if "text/csv" in content:
            csv_paths.add(path)
        if XLSX in content:
            xlsx_paths.add(path)
            assert content[XLSX]["schema"] == {"type": "string", "format": "binary"}, path
        if method != "get" or "{" in path or XLSX not in content:
            continue
        as_xlsx = client.get(path, query_string={"format": "xlsx"},
                             headers=team.headers["admin"])
        by_accept = client.get(path, headers={**team.headers["admin"], "Accept": XLSX})
        assert as_xlsx.status_code == 200 and as_xlsx.mimetype == XLSX, path
        assert by_accept.mimetype == XLSX, path
        assert as_xlsx.get_data().startswith(b"PK"), path  # a zip: the workbook
    assert len(csv_paths) >= 10
    assert xlsx_paths == csv_paths


def test_options_allows_exactly_the_methods_the_document_gives_the_path(client, document):
    for path, item in document["paths"].items():
        url = re.sub(r"{[^}]+}", "some-id", path)
        response = client.options(url)
        assert response.status_code == 204, path
        allowed = {method.strip().lower() for method in response.headers["Allow"].split(",")}
        documented = set(item) - {"parameters"}
        assert allowed - {"head", "options"} == documented, (path, allowed)
