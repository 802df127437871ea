def test_health(client):
    assert client.get("/healthz").json == {"status": "ok", "database": "ok"}


def test_me(team, client):
    r = client.get("/api/v1/users/me", headers=team.headers["rep"])
    assert r.status_code == 200 and r.json["id"] == team.rep.id


def test_the_api_docs_page_loads_swagger_ui_from_the_app_itself(client):
    """No CDN: without internet, or behind a strict proxy, /api/v1/docs still works."""
    page = client.get("/api/v1/docs")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "https://" not in html and "http://" not in html
    for asset in ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"):
        assert f"/api/v1/docs/{asset}" in html
        served = client.get(f"/api/v1/docs/{asset}")
        assert served.status_code == 200 and len(served.data) > 10_000, asset
    assert client.get("/api/v1/docs/../../config/__init__.py").status_code == 404
