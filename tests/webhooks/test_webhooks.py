"""Webhooks (issue 16): admins subscribe URLs to event types; the `webhooks` job delivers each
event once per subscription, signed (Standard Webhooks: the receiver here verifies every
signature), retries with back-off, gives up after the window, disables a subscription that
keeps failing, cuts off a receiver that hangs, and never posts to a refused address."""
import pytest

from fieldsales.common import HOUR_MS, now_ms
from fieldsales.webhooks.models import WebhookDelivery, WebhookSubscription

HOOKS = "/api/v1/webhooks"


def deliveries(client, team, subscription):
    response = client.get(f"{HOOKS}/{subscription['id']}/deliveries",
                          headers=team.headers["admin"])
    assert response.status_code == 200, response.json
    return response.json["items"]


# --- subscriptions -------------------------------------------------------------------------

def test_an_admin_subscribes_and_the_secret_is_shown_once(client, team, subscribe):
    made = subscribe(["order.created", "visit.completed"], description="ERP")
    assert made["secret"].startswith("whsec_") and made["active"] is True
    assert made["event_types"] == ["order.created", "visit.completed"]
    shown = client.get(f"{HOOKS}/{made['id']}", headers=team.headers["admin"]).json
    assert shown["secret"] is None and made["secret"].startswith(shown["secret_hint"][:-1])
    listed = client.get(HOOKS, headers=team.headers["admin"]).json["items"]
    assert [(s["id"], s["secret"]) for s in listed] == [(made["id"], None)]
    rotated = client.post(f"{HOOKS}/{made['id']}/rotate-secret", headers=team.headers["admin"])
    assert rotated.json["secret"].startswith("whsec_")
    assert rotated.json["secret"] != made["secret"]


@pytest.mark.parametrize("caller", ["manager", "procurement", "rep"])
def test_only_admins_manage_webhooks(client, team, caller):
    assert client.get(HOOKS, headers=team.headers[caller]).status_code == 403
    assert client.post(HOOKS, headers=team.headers[caller], json={
        "url": "https://93.184.215.14/h", "event_types": ["order.created"]}).status_code == 403


@pytest.mark.parametrize("url, reason", [
    ("ftp://example.com/hook", "http or https"),
    ("javascript:alert(1)", "http or https"),
    ("http://127.0.0.1:9/hook", "127.0.0.1"),
    ("http://localhost/hook", "not a public address"),
    ("http://10.1.2.3/hook", "10.1.2.3"),
    ("http://169.254.169.254/latest/meta-data", "169.254.169.254"),
    ("http://[::1]/hook", "::1"),
    ("http://user:pw@example.com/hook", "Credentials"),
    ("http://example.com:99999/hook", "port"),
    ("https://no-such-host.invalid/hook", "does not resolve"),
])
def test_a_url_that_is_not_http_or_resolves_to_a_refused_address_is_422(client, team, url,
                                                                         reason):
    response = client.post(HOOKS, headers=team.headers["admin"],
                           json={"url": url, "event_types": ["order.created"]})
    assert response.status_code == 422, response.json
    assert reason in response.json["error"]["details"]["url"][0]


def test_the_allowlist_admits_a_private_address(client, team, app, monkeypatch):
    body = {"url": "http://10.1.2.3/hook", "event_types": ["order.created"]}
    monkeypatch.setitem(app.config, "WEBHOOKS_ALLOWED_HOSTS", ["10.0.0.0/8"])
    assert client.post(HOOKS, headers=team.headers["admin"], json=body).status_code == 201


@pytest.mark.parametrize("body, field", [
    ({"url": "https://93.184.215.14/h", "event_types": ["order.eaten"]}, "event_types"),
    ({"url": "https://93.184.215.14/h", "event_types": []}, "event_types"),
    ({"url": "https://93.184.215.14/h"}, "event_types"),
    ({"url": "https://93.184.215.14/h", "event_types": ["order.created"], "team_id": "nope"},
     "team_id"),
    ({"url": "https://93.184.215.14/h", "event_types": ["order.created"], "secret": "x"},
     "secret"),
])
def test_bad_subscriptions_are_422_naming_the_field(client, team, body, field):
    response = client.post(HOOKS, headers=team.headers["admin"], json=body)
    assert response.status_code == 422 and field in response.json["error"]["details"]


def test_an_unknown_subscription_is_404(client, team):
    for method, path in [("get", "/x1"), ("patch", "/x1"), ("delete", "/x1"),
                         ("get", "/x1/deliveries"), ("post", "/x1/deliveries/1/redeliver")]:
        response = getattr(client, method)(HOOKS + path, headers=team.headers["admin"],
                                           json={} if method == "patch" else None)
        assert response.status_code == 404, (method, path)


# --- delivery -----------------------------------------------------------------------------

def test_an_event_is_delivered_once_signed_to_each_subscription_that_wants_it(
        client, team, world, receiver, subscribe):
    team_id = team.manager.team_id
    world.event(type="order.created", team_id=team_id, subject_id="before")  # before: not sent
    subscription = subscribe(["order.created"], team_id=team_id)
    event = world.event(type="order.created", team_id=team_id, subject_id="o-1",
                        payload={"order_id": "o-1", "total": 12.5})
    world.event(type="order.created", team_id=team.other_manager.team_id, subject_id="theirs")
    world.event(type="visit.completed", team_id=team_id, subject_id="v-1")

    run = world.run("webhooks", now=now_ms())
    assert run["status"] == "ok" and run["rows_written"] == 1
    assert [(r["id"], r["verified"]) for r in receiver.received] == [(f"evt_{event}", True)]
    body = receiver.received[0]["body"]
    assert body["type"] == "order.created" and body["timestamp"].endswith("Z")
    assert body["data"] == {"order_id": "o-1", "total": 12.5, "event_id": event,
                            "subject_id": "o-1", "team_id": team_id,
                            "occurred_at": body["data"]["occurred_at"]}
    assert {"webhook-id", "webhook-timestamp", "webhook-signature"} <= set(
        receiver.received[0]["headers"])

    world.run("webhooks", now=now_ms())  # nothing new: nothing sent again
    assert len(receiver.received) == 1
    [logged] = deliveries(client, team, subscription)
    assert (logged["event_id"], logged["status"], logged["attempts"], logged["response_code"]) \
        == (event, "succeeded", 1, 200)
    assert logged["duration_ms"] >= 0 and logged["next_attempt_at"] is None


def test_a_signature_made_with_another_secret_does_not_verify(world, receiver, subscribe,
                                                              team):
    subscribe(["order.created"])
    receiver.secret = "whsec_" + "QUJD" * 8  # the receiver holds a wrong secret
    world.event(type="order.created", team_id=team.manager.team_id)
    world.run("webhooks", now=now_ms())
    assert [r["verified"] for r in receiver.received] == [False]


def test_a_failed_attempt_is_retried_with_back_off_and_then_succeeds(
        client, team, world, receiver, subscribe, app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOKS_RETRY_FIRST_SECONDS", 60)
    subscription = subscribe(["order.created"])
    event = world.event(type="order.created", team_id=team.manager.team_id)
    receiver.mode = "fail"
    now = now_ms()
    world.run("webhooks", now=now)
    [first] = deliveries(client, team, subscription)
    assert (first["status"], first["attempts"], first["response_code"], first["error"]) == (
        "pending", 1, 500, "HTTP 500")
    wait = first["next_attempt_at"] - first["last_attempt_at"]
    assert 45_000 <= wait <= 75_000  # 60 s, jittered by a quarter either way

    world.run("webhooks", now=now + 30_000)  # not due yet
    assert len(receiver.received) == 1
    world.run("webhooks", now=now + 80_000)  # due, fails again: the wait doubles
    [second] = deliveries(client, team, subscription)
    assert second["attempts"] == 2
    assert 90_000 <= second["next_attempt_at"] - second["last_attempt_at"] <= 150_000

    receiver.mode = "ok"
    world.run("webhooks", now=now + 300_000)
    [third] = deliveries(client, team, subscription)
    assert (third["status"], third["attempts"], third["response_code"]) == ("succeeded", 3, 200)
    assert [r["id"] for r in receiver.received] == [f"evt_{event}"] * 3  # one id throughout
    assert receiver.handled == {f"evt_{event}"}
    shown = client.get(f"{HOOKS}/{subscription['id']}", headers=team.headers["admin"]).json
    assert shown["failures_in_a_row"] == 0


def test_a_delivery_still_failing_after_the_retry_window_has_failed(
        client, team, world, receiver, subscribe):
    subscription = subscribe(["order.created"])
    world.event(type="order.created", team_id=team.manager.team_id)
    receiver.mode = "fail"
    now = now_ms()
    world.run("webhooks", now=now)
    world.run("webhooks", now=now + 25 * HOUR_MS)  # past the 24 h window: the last try
    [logged] = deliveries(client, team, subscription)
    assert (logged["status"], logged["attempts"], logged["next_attempt_at"]) == ("failed", 2, None)
    world.run("webhooks", now=now + 26 * HOUR_MS)
    assert len(receiver.received) == 2
    failed = client.get(f"{HOOKS}/{subscription['id']}/deliveries?status=failed",
                        headers=team.headers["admin"]).json["items"]
    assert len(failed) == 1


def test_a_subscription_that_keeps_failing_is_disabled_with_the_reason_and_can_be_enabled(
        client, team, world, receiver, subscribe, app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOKS_DISABLE_AFTER_FAILURES", 2)
    subscription = subscribe(["order.created"])
    for n in range(3):
        world.event(type="order.created", team_id=team.manager.team_id, subject_id=f"o{n}")
    receiver.mode = "fail"
    world.run("webhooks", now=now_ms())
    assert len(receiver.received) == 2  # the third is not tried: disabled after two
    shown = client.get(f"{HOOKS}/{subscription['id']}", headers=team.headers["admin"]).json
    assert shown["active"] is False
    assert shown["disabled_reason"].startswith("Disabled after 2 failed attempts in a row")
    assert "HTTP 500" in shown["disabled_reason"]
    world.event(type="order.created", team_id=team.manager.team_id, subject_id="later")
    world.run("webhooks", now=now_ms() + HOUR_MS)
    assert len(receiver.received) == 2  # nothing goes to a disabled subscription

    receiver.mode = "ok"
    enabled = client.patch(f"{HOOKS}/{subscription['id']}", headers=team.headers["admin"],
                           json={"active": True})
    assert enabled.json["active"] is True and enabled.json["disabled_reason"] is None
    world.run("webhooks", now=now_ms() + 2 * HOUR_MS)
    # The three waiting go out; the one that occurred while it was disabled was not fanned out.
    assert sorted(r["body"]["data"]["subject_id"] for r in receiver.received[2:]) == [
        "o0", "o1", "o2"]


def test_a_receiver_that_hangs_is_cut_off_by_the_timeout(client, team, world, receiver,
                                                         subscribe, app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOKS_TIMEOUT_SECONDS", 0.5)
    subscription = subscribe(["order.created"])
    world.event(type="order.created", team_id=team.manager.team_id)
    receiver.mode = "hang"
    world.run("webhooks", now=now_ms())
    [logged] = deliveries(client, team, subscription)
    assert logged["status"] == "pending" and logged["response_code"] is None
    assert logged["error"] == "No answer within 0.5 s (timed out)."
    assert 400 <= logged["duration_ms"] < 5_000


def test_an_address_refused_at_delivery_time_is_not_posted_to(client, team, world, receiver,
                                                               subscribe, app, monkeypatch):
    subscription = subscribe(["order.created"])
    monkeypatch.setitem(app.config, "WEBHOOKS_ALLOWED_HOSTS", [])  # no longer allowed
    world.event(type="order.created", team_id=team.manager.team_id)
    world.run("webhooks", now=now_ms())
    assert receiver.received == []
    [logged] = deliveries(client, team, subscription)
    assert logged["error"].startswith("Refused: The host '127.0.0.1' resolves to 127.0.0.1")


def test_a_delivery_is_redelivered_on_demand(client, team, world, receiver, subscribe):
    subscription = subscribe(["order.created"])
    event = world.event(type="order.created", team_id=team.manager.team_id)
    world.run("webhooks", now=now_ms())
    [logged] = deliveries(client, team, subscription)
    again = client.post(f"{HOOKS}/{subscription['id']}/deliveries/{logged['id']}/redeliver",
                        headers=team.headers["admin"])
    assert again.status_code == 202 and again.json["status"] == "pending"
    world.run("webhooks", now=now_ms())
    assert [r["id"] for r in receiver.received] == [f"evt_{event}"] * 2
    assert deliveries(client, team, subscription)[0]["attempts"] == 2

    client.patch(f"{HOOKS}/{subscription['id']}", headers=team.headers["admin"],
                 json={"active": False})
    refused = client.post(f"{HOOKS}/{subscription['id']}/deliveries/{logged['id']}/redeliver",
                          headers=team.headers["admin"])
    assert refused.status_code == 409 and refused.json["error"]["code"] == "subscription_disabled"


def test_deleting_a_subscription_removes_its_log(client, team, world, receiver, subscribe):
    subscription = subscribe(["order.created"])
    world.event(type="order.created", team_id=team.manager.team_id)
    world.run("webhooks", now=now_ms())
    gone = client.delete(f"{HOOKS}/{subscription['id']}", headers=team.headers["admin"])
    assert gone.status_code == 204
    assert world.rows(WebhookSubscription) == [] and world.rows(WebhookDelivery) == []
