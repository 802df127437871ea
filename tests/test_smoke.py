def test_health(client):
    assert client.get("/healthz").json == {"status": "ok", "database": "ok"}


def test_me(team, client):
    r = client.get("/api/v1/users/me", headers=team.headers["rep"])
    assert r.status_code == 200 and r.json["id"] == team.rep.id
