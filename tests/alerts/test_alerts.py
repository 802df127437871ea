"""Manager alerts (issue 16): rules per team, the `alerts` job turning events into alerts once
per (rule, event), the feed and its acknowledgement, and e-mail to a real local SMTP server
(aiosmtpd, started here on a free port)."""
import socket
import time
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller

from fieldsales.alerts.models import Alert
from fieldsales.common import DAY_MS, MINUTE_MS, now_ms


class Inbox:
    """aiosmtpd's handler: keeps every message it is given."""

    def __init__(self):
        self.messages = []
        self.refuse = False

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "451 try again later"
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp(app, monkeypatch):
    """A real SMTP server on localhost, and the app's SMTP settings pointing at it."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", port)
    monkeypatch.setitem(app.config, "ALERTS_MAIL_FROM", "alerts@example.com")
    yield inbox
    controller.stop()


def rules_url(team):
    return f"/api/v1/teams/{team.manager.team_id}/alert-rules"


def put_rules(client, team, rules, who="manager"):
    response = client.put(rules_url(team), json={"rules": rules}, headers=team.headers[who])
    assert response.status_code == 200, response.json
    return response.json


# --- rules --------------------------------------------------------------------------------

def test_a_manager_sets_and_reads_their_teams_rules(client, team):
    assert client.get(rules_url(team), headers=team.headers["manager"]).json["rules"] == []
    put_rules(client, team, [{"event_type": "rep.silent", "threshold": 30},
                             {"event_type": "order.created", "email": False}])
    rules = client.get(rules_url(team), headers=team.headers["admin"]).json["rules"]
    assert [(r["event_type"], r["threshold"], r["email"]) for r in rules] == [
        ("order.created", None, False), ("rep.silent", 30, True)]
    put_rules(client, team, [{"event_type": "rep.silent", "threshold": 45}])  # replaces
    rules = client.get(rules_url(team), headers=team.headers["manager"]).json["rules"]
    assert [(r["event_type"], r["threshold"]) for r in rules] == [("rep.silent", 45)]


@pytest.mark.parametrize("caller, status", [("other_manager", 404), ("rep", 403),
                                            ("procurement", 403)])
def test_nobody_else_reads_or_sets_a_teams_rules(client, team, caller, status):
    headers = team.headers[caller]
    assert client.get(rules_url(team), headers=headers).status_code == status
    assert client.put(rules_url(team), json={"rules": []}, headers=headers).status_code == status


@pytest.mark.parametrize("rules", [
    [{"event_type": "order.teleported"}],
    [{"event_type": "rep.silent"}, {"event_type": "rep.silent"}],
    [{"event_type": "order.created", "threshold": 3}],
    [{"event_type": "rep.silent", "recipients": ["not an address"]}],
    [{"event_type": "rep.silent", "email": "yes"}],
])
def test_bad_rules_are_422(client, team, rules):
    response = client.put(rules_url(team), json={"rules": rules},
                          headers=team.headers["manager"])
    assert response.status_code == 422
    assert "rules" in str(response.json["error"]["details"])


# --- the job ------------------------------------------------------------------------------

def test_events_become_alerts_once_per_rule_and_event_past_the_thresholds(client, team, world):
    team_id, other_team = team.manager.team_id, team.other_manager.team_id
    put_rules(client, team, [{"event_type": "rep.silent", "threshold": 30, "email": False},
                             {"event_type": "feedback.complaint", "threshold": 1,
                              "email": False},
                             {"event_type": "order.created", "email": False}])
    now = now_ms()
    loud = world.event(type="rep.silent", team_id=team_id, occurred_at=now,
                       payload={"last_heard_at": now - 45 * MINUTE_MS})
    world.event(type="rep.silent", team_id=team_id, occurred_at=now,  # below 30 minutes
                payload={"last_heard_at": now - 20 * MINUTE_MS})
    world.event(type="feedback.complaint", team_id=team_id, payload={"rating": 2})  # above 1
    angry = world.event(type="feedback.complaint", team_id=team_id, payload={"rating": 1})
    order = world.event(type="order.created", team_id=team_id)
    world.event(type="order.created", team_id=other_team)  # no rule there
    world.event(type="visit.completed", team_id=team_id)  # not a rule's type

    assert world.run("alerts", now=now_ms())["rows_written"] == 3
    alerts = world.rows(Alert, order_by=Alert.event_id)
    assert [a.event_id for a in alerts] == [loud, angry, order]
    # Run again, and again after a later event: the old ones are not alerted twice (they are
    # within the rescan window, so the unique key is what keeps them once).
    assert world.run("alerts", now=now_ms())["rows_written"] == 0
    later = world.event(type="order.created", team_id=team_id)
    assert world.run("alerts", now=now_ms())["rows_written"] == 1
    assert [a.event_id for a in world.rows(Alert, order_by=Alert.event_id)][-1] == later


def test_an_event_committed_behind_the_cursor_is_still_alerted(client, team, world, app):
    """Outbox ids are taken before commit: a transaction can commit an id lower than one
    the job already read. The rescan window picks it up."""
    from fieldsales.events.models import EventCursor
    from fieldsales.extensions import db
    team_id = team.manager.team_id
    put_rules(client, team, [{"event_type": "order.created", "email": False}])
    first = world.event(type="order.created", team_id=team_id)
    world.event(type="order.created", team_id=team_id)
    world.run("alerts", now=now_ms())
    with app.app_context():  # as if `first` had committed after the run read past it
        db.session.execute(db.delete(Alert).where(Alert.event_id == first))
        db.session.commit()
        assert db.session.get(EventCursor, "alerts").last_event_id > first
    assert world.run("alerts", now=now_ms())["rows_written"] == 1


# --- the feed -----------------------------------------------------------------------------

def test_the_feed_pages_newest_first_and_loses_nothing(client, team, world):
    put_rules(client, team, [{"event_type": "order.created", "email": False}])
    for n in range(5):
        world.event(type="order.created", team_id=team.manager.team_id, subject_id=f"o-{n}")
    world.run("alerts", now=now_ms())
    seen, cursor = [], None
    while True:
        page = client.get("/api/v1/alerts", headers=team.headers["manager"],
                          query_string={"limit": 2, **({"cursor": cursor} if cursor else {})}).json
        seen += [a["subject_id"] for a in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"o-{n}" for n in reversed(range(5))]
    assert client.get("/api/v1/alerts?cursor=abc",
                      headers=team.headers["manager"]).status_code == 422


def test_the_feed_is_scoped_and_alerts_are_acknowledged(client, team, world):
    put_rules(client, team, [{"event_type": "order.created", "email": False}])
    put_rules(client, team, [{"event_type": "order.created", "email": False}])
    other = f"/api/v1/teams/{team.other_manager.team_id}/alert-rules"
    assert client.put(other, json={"rules": [{"event_type": "order.created", "email": False}]},
                      headers=team.headers["other_manager"]).status_code == 200
    world.event(type="order.created", team_id=team.manager.team_id, subject_id="o-1")
    world.event(type="order.created", team_id=team.other_manager.team_id, subject_id="o-2")
    world.run("alerts", now=now_ms())

    mine = client.get("/api/v1/alerts", headers=team.headers["manager"]).json["items"]
    assert [a["subject_id"] for a in mine] == ["o-1"]
    assert len(client.get("/api/v1/alerts", headers=team.headers["admin"]).json["items"]) == 2
    assert client.get("/api/v1/alerts", headers=team.headers["rep"]).status_code == 403
    assert client.get(f"/api/v1/alerts?team_id={team.other_manager.team_id}",
                      headers=team.headers["manager"]).status_code == 404

    theirs = client.get("/api/v1/alerts", headers=team.headers["other_manager"]).json["items"]
    url = f"/api/v1/alerts/{theirs[0]['id']}/acknowledge"
    assert client.post(url, headers=team.headers["manager"]).status_code == 404
    assert client.post("/api/v1/alerts/999999/acknowledge",
                       headers=team.headers["manager"]).status_code == 404
    acked = client.post(f"/api/v1/alerts/{mine[0]['id']}/acknowledge",
                        headers=team.headers["manager"])
    assert acked.status_code == 200 and acked.json["acknowledged_by_id"] == team.manager.id
    again = client.post(f"/api/v1/alerts/{mine[0]['id']}/acknowledge",
                        headers=team.headers["admin"]).json
    assert again["acknowledged_by_id"] == team.manager.id  # the first stays
    assert client.get("/api/v1/alerts?unacknowledged=true",
                      headers=team.headers["manager"]).json["items"] == []


# --- e-mail -------------------------------------------------------------------------------

def wait_for(inbox, count):
    deadline = time.monotonic() + 5
    while len(inbox.messages) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return inbox.messages


def test_the_local_smtp_server_receives_the_alert_to_the_teams_manager(client, team, world,
                                                                       smtp):
    """An order.late rule past 2 days: the event is written once, when the order turns late;
    the alert comes once it has been late 2 days and is still pending."""
    put_rules(client, team, [{"event_type": "order.late", "threshold": 2}])
    customer = world.customer(rep=team.rep)
    product = world.product()
    now = now_ms()
    late = world.order(rep=team.rep, customer=customer, at=now - 10 * DAY_MS,
                       requested_at=now - 3 * DAY_MS, lines=[(product, 1, 5.0)])
    recent = world.order(rep=team.rep, customer=customer, at=now - 10 * DAY_MS,
                         requested_at=now - DAY_MS, lines=[(product, 1, 5.0)])
    for order, requested in ((late, now - 3 * DAY_MS), (recent, now - DAY_MS)):
        world.event(type="order.late", team_id=team.manager.team_id, subject_id=order,
                    occurred_at=requested + MINUTE_MS,
                    payload={"order_id": order, "requested_delivery_at": requested})
    world.run("alerts", now=now)

    (recipients, message), = wait_for(smtp, 1)
    assert recipients == [team.manager.email]
    assert message["To"] == team.manager.email and message["From"] == "alerts@example.com"
    assert "order.late" in message["Subject"] and late in message["Subject"]
    assert f"order_id: {late}" in message.get_payload()
    (alert,) = world.rows(Alert)
    assert alert.mailed_at is not None and alert.mail_error is None
    world.run("alerts", now=now + 60_000)
    assert len(smtp.messages) == 1  # sent once
    # A day later the other order has been late 2 days too: its alert comes then.
    world.run("alerts", now=now + DAY_MS + MINUTE_MS)
    assert recent in wait_for(smtp, 2)[1][1]["Subject"]


def test_a_failed_send_is_recorded_and_retried_next_run(client, team, world, smtp):
    put_rules(client, team, [{"event_type": "plan.missed",
                              "recipients": ["ops@example.com", "boss@example.com"]}])
    world.event(type="plan.missed", team_id=team.manager.team_id)
    smtp.refuse = True
    world.run("alerts", now=now_ms())
    (alert,) = world.rows(Alert)
    assert alert.mailed_at is None and "451" in alert.mail_error and alert.mail_attempts == 1

    smtp.refuse = False
    world.run("alerts", now=now_ms())
    (recipients, _message), = wait_for(smtp, 1)
    assert sorted(recipients) == ["boss@example.com", "ops@example.com"]
    (alert,) = world.rows(Alert)
    assert alert.mailed_at is not None and alert.mail_error is None and alert.mail_attempts == 2


def test_an_unreachable_server_keeps_the_alert_for_the_next_run(client, team, world, app,
                                                                monkeypatch):
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", free_port())  # nobody listens
    put_rules(client, team, [{"event_type": "rep.silent"}])
    world.event(type="rep.silent", team_id=team.manager.team_id)
    run = world.run("alerts", now=now_ms())
    assert run["status"] == "ok"
    (alert,) = world.rows(Alert)
    assert alert.mailed_at is None and alert.mail_error.startswith("connect:")
