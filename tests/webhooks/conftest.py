import pytest

from tests.webhooks.receiver import Receiver


@pytest.fixture
def receiver(app, monkeypatch):
    """A local receiver, allowlisted (the SSRF guard refuses 127.0.0.1 otherwise)."""
    monkeypatch.setitem(app.config, "WEBHOOKS_ALLOWED_HOSTS", ["127.0.0.1"])
    with Receiver() as receiver:
        yield receiver


@pytest.fixture
def subscribe(client, team, receiver):
    """Subscribe the receiver (as the admin) and give it the secret; the answer's JSON."""
    def do(event_types=("order.created",), **fields):
        response = client.post("/api/v1/webhooks", headers=team.headers["admin"], json={
            "url": receiver.url, "event_types": list(event_types), **fields})
        assert response.status_code == 201, response.json
        receiver.secret = response.json["secret"]
        return response.json
    return do
