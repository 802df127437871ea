"""The webhooks pages (admins): subscribe a URL through the same service as POST /webhooks
(the SSRF guard's refusal next to the field, what was typed kept), the secret shown once,
the delivery log after the webhooks job, redelivery, disabling and removal."""
from fieldsales.common import now_ms
from fieldsales.webhooks.models import WebhookSubscription
from tests.webhooks.receiver import Receiver


def test_an_admin_subscribes_sees_the_secret_once_and_reads_the_delivery_log(
        visitor, team, world, app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOKS_ALLOWED_HOSTS", ["127.0.0.1"])
    admin = visitor(team.admin)
    with Receiver() as receiver:
        made = admin.post("/webhooks", {"url": receiver.url, "description": "ERP",
                                        "event_types": ["order.created", "order.delivered"]})
        assert made.status_code == 200, made.text
        [subscription] = world.rows(WebhookSubscription)
        assert subscription.secret in made.text and "shown this once" in made.text
        listed = admin.get("/webhooks").text
        assert receiver.url in listed and subscription.secret not in listed

        receiver.secret = subscription.secret
        event = world.event(type="order.created", team_id=team.manager.team_id)
        world.run("webhooks", now=now_ms())
        log = admin.get(f"/webhooks/{subscription.id}").text
        assert f"evt_{event}" in log and "succeeded" in log and "200 in" in log

        delivery = log.split("/deliveries/")[1].split("/redeliver")[0]
        failed_only = admin.get(f"/webhooks/{subscription.id}?status=failed")
        assert failed_only.status_code == 200 and "No deliveries failed yet." in failed_only.text
        again = admin.post(f"/webhooks/{subscription.id}/deliveries/{delivery}/redeliver",
                           form_on=f"/webhooks/{subscription.id}", follow_redirects=True)
        assert "goes out again" in again.text and "pending" in again.text
        world.run("webhooks", now=now_ms())
        assert [r["id"] for r in receiver.received] == [f"evt_{event}"] * 2
        assert all(r["verified"] for r in receiver.received)

    off = admin.post(f"/webhooks/{subscription.id}/active", {"active": "false"},
                     form_on=f"/webhooks/{subscription.id}", follow_redirects=True)
    assert "Subscription disabled." in off.text and "Disabled by an admin." in off.text
    gone = admin.post(f"/webhooks/{subscription.id}/delete", form_on=f"/webhooks/{subscription.id}",
                      follow_redirects=True)
    assert "Subscription removed" in gone.text and world.rows(WebhookSubscription) == []


def test_a_refused_url_is_shown_next_to_the_field_and_what_was_typed_is_kept(visitor, team):
    admin = visitor(team.admin)
    response = admin.post("/webhooks", {"url": "http://127.0.0.1:9/hook",
                                        "event_types": ["visit.completed"]})
    assert response.status_code == 422
    assert 'id="url-error"' in response.text and "not a public address" in response.text
    assert 'value="http://127.0.0.1:9/hook"' in response.text
    assert 'value="visit.completed" checked' in response.text
    none_chosen = admin.post("/webhooks", {"url": "https://93.184.215.14/h"})
    assert none_chosen.status_code == 422 and 'id="event_types-error"' in none_chosen.text
