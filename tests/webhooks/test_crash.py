"""Exactly once under `kill -9` (issue 16): a worker killed between the change and its commit
leaves neither the change nor its event; one killed after the commit and before the delivery
leaves the event, once, and the next run delivers it; a webhooks job (the runner, as `flask
jobs run webhooks` calls it) killed while a receiver is answering leaves the delivery
pending, and the next run sends it again with the same `webhook-id`, so the receiver acts on
it once."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from fieldsales.common import now_ms
from fieldsales.events.models import Event
from fieldsales.extensions import db
from fieldsales.orders.models import Order
from fieldsales.webhooks.models import WebhookDelivery
from tests.factories import changes, order_record, uid

ROOT = Path(__file__).resolve().parents[2]

# Every child starts at the test's instant (the suite may run at another time: conftest --at),
# so the tokens and times it meets are as fresh to it as to the test.
AT_THE_TESTS_TIME = """
import datetime, os, time_machine
time_machine.travel(datetime.datetime.fromtimestamp(int(os.environ["TEST_NOW_MS"]) / 1000,
                                                    datetime.UTC), tick=True).start()
"""

# A worker that pushes one order through the real endpoint, then dies by SIGKILL: before its
# transaction commits ("before_commit", once the order's event is written in it) or after.
PUSH_AND_DIE = AT_THE_TESTS_TIME + """
import json, os, signal, sys
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session
from fieldsales import create_app
from fieldsales.common import now_ms
from fieldsales.events.models import Event

when, token, body = sys.argv[1], sys.argv[2], sys.argv[3]
app = create_app()

def die_once_written(session):
    if session.scalar(select(func.count()).select_from(Event)):
        os.kill(os.getpid(), signal.SIGKILL)

if when == "before_commit":
    event.listen(Session, "before_commit", die_once_written)
with app.app_context():
    response = app.test_client().post(
        "/api/v1/sync?last_pulled_at=null", data=body,
        headers={"Authorization": token, "X-Device-Id": "p1",
                 "Content-Type": "text/plain;charset=UTF-8"})
    print(response.status_code, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


# The webhooks job, as `flask jobs run webhooks` runs it.
RUN_WEBHOOKS = AT_THE_TESTS_TIME + """
from fieldsales import create_app
from fieldsales.jobs.runner import run_job
app = create_app()
with app.app_context():
    print(run_job("webhooks"), flush=True)
"""


def child_env(app, **settings):
    return {**os.environ, "FIELDSALES_CONFIG": "testing", "TEST_NOW_MS": str(now_ms()),
            "DATABASE_URL": str(app.config["SQLALCHEMY_DATABASE_URI"]),
            **{name: str(value) for name, value in settings.items()}}


def count(app, model, *where):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def order_push(world, team):
    customer = world.customer(id=uid("c"), rep=team.rep, name="Kiosk", lat=52.52, lon=13.405)
    order = order_record(customer.id)
    return order["id"], json.dumps(changes(orders={"created": [order]}))


def push_and_die(app, team, body, when):
    done = subprocess.run([sys.executable, "-c", PUSH_AND_DIE, when, team.headers["rep"][
        "Authorization"], body], cwd=ROOT, env=child_env(app), capture_output=True, text=True,
        timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr
    return done.stdout.strip()


def test_killed_before_the_commit_leaves_neither_the_change_nor_its_event(app, team, order_push):
    order_id, body = order_push
    assert push_and_die(app, team, body, "before_commit") == ""  # died inside the request
    assert count(app, Order) == 0 and count(app, Event) == 0


def test_killed_after_the_commit_the_event_is_there_once_and_delivered_once(
        app, team, world, receiver, subscribe, order_push):
    subscribe(["order.created"])
    order_id, body = order_push
    assert push_and_die(app, team, body, "after_commit") == "200"
    assert count(app, Event, Event.type == "order.created", Event.subject_id == order_id) == 1
    world.run("webhooks", now=now_ms())
    assert [r["body"]["data"]["subject_id"] for r in receiver.received] == [order_id]
    assert receiver.handled == {receiver.received[0]["id"]}


def test_a_webhooks_job_killed_mid_delivery_sends_it_again_and_the_receiver_acts_once(
        app, team, world, receiver, subscribe, order_push):
    subscribe(["order.created"])
    order_id, body = order_push
    push_and_die(app, team, body, "after_commit")
    receiver.mode = "hang"
    job = subprocess.Popen(
        [sys.executable, "-c", RUN_WEBHOOKS], cwd=ROOT,
        env=child_env(app, WEBHOOKS_ALLOWED_HOSTS='["127.0.0.1"]',
                      SCORING_JOB_LOCK_TTL_SECONDS=2, SCORING_JOB_LOCK_HEARTBEAT_SECONDS=0.5),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert receiver.arrived.wait(60), "the job never posted"
        job.send_signal(signal.SIGKILL)  # while the receiver holds its request
        job.wait(30)
    finally:
        if job.poll() is None:
            job.kill()
    [pending] = world.rows(WebhookDelivery)
    assert (pending.status, pending.attempts) == ("pending", 0)  # its outcome never came

    receiver.mode = "ok"
    receiver.release.set()
    time.sleep(2.5)  # SQLite: the dead job's lock lease runs out (PostgreSQL frees it at once)
    world.run("webhooks", now=now_ms())
    ids = [r["id"] for r in receiver.received]
    assert len(ids) == 2 and ids[0] == ids[1]  # the same message again: at least once
    assert receiver.handled == {ids[0]}  # acted on once
    [delivered] = world.rows(WebhookDelivery)
    assert (delivered.status, delivered.attempts) == ("succeeded", 1)
    assert count(app, Event, Event.type == "order.created", Event.subject_id == order_id) == 1
