"""Pull rule 2 under real concurrency: nothing committed is ever missed by a chain of pulls.

A real HTTP server (threaded) takes pushes from several phones and REST writes from a manager
at once, while another client chains pulls, each from the previous pull's timestamp. At the
end, the union of what the pulls returned must be exactly what was committed. The pulls surely
overlap the writes, however loaded the machine: a phone waits (bounded) for the puller's next
pull before its 4th, 8th and 12th push, and the puller's 2nd and 3rd pulls wait for a quarter
and a half of the pushes, so at least 3 pulls run among the commits.
"""
import json
import threading
import time
import urllib.error
import urllib.request

import pytest
from werkzeug.serving import make_server

from fieldsales.extensions import db
from fieldsales.tasks.models import Task
from fieldsales.visits.models import Visit
from tests.factories import changes, ping_record, uid, visit_record

PHONES = 3
PUSHES_PER_PHONE = 12
VISITS_PER_PUSH = 4
MANAGER_TASKS = 15
PULLS_WHILE_WRITING = 3
WAIT_FOR_PULL_S = 60


@pytest.fixture
def server(app):
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(10)


def call(base, method, path, headers, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_chained_pulls_miss_nothing_committed_by_concurrent_writers(app, world, server, team):
    rep = {**team.headers["rep"], "Content-Type": "text/plain;charset=UTF-8"}
    failures, timestamps, pulled_visits, pulled_tasks = [], [], set(), set()
    writers_done = threading.Event()
    pulls_during_writes = []
    pushed = []
    pulled = threading.Condition()  # guards and signals pulls_during_writes and pushed

    def phone(n):
        for i in range(PUSHES_PER_PHONE):
            # Spread the puller's first pulls over the writes: before push 4, 8, 12 one more.
            need = (i + 1) * PULLS_WHILE_WRITING // PUSHES_PER_PHONE
            with pulled:
                if not pulled.wait_for(lambda need=need: len(pulls_during_writes) >= need,
                                       WAIT_FOR_PULL_S):
                    failures.append(("no pull in time", n, i))
            visits = [visit_record(world.customer) for _ in range(VISITS_PER_PUSH)]
            status, body = call(server, "POST", "/api/v1/sync?last_pulled_at=null",
                                {**rep, "X-Device-Id": f"phone-{n}"},
                                changes(visits={"created": visits},
                                        location_pings={"created": [ping_record()]}))
            if status != 200 or body["quarantined"]:
                failures.append(("push", status, body))
            with pulled:
                pushed.append(n)
                pulled.notify_all()
            time.sleep(0.01)  # let pulls in between (SQLite's lock is not fair)

    def manager():
        for i in range(MANAGER_TASKS):
            status, body = call(server, "POST", "/api/v1/tasks",
                                {**team.headers["manager"], "Content-Type": "application/json"},
                                {"assigned_rep_id": team.rep.id, "title": f"Task {i}",
                                 "id": uid("t")})
            if status != 201:
                failures.append(("task", status, body))

    def pull(since):
        query = "null" if since is None else since
        status, body = call(server, "GET", f"/api/v1/sync?last_pulled_at={query}", rep)
        if status != 200:
            failures.append(("pull", status, body))
            return since
        changes_ = body["changes"]
        for kind in ("created", "updated"):
            pulled_visits.update(r["id"] for r in changes_["visits"][kind])
            pulled_tasks.update(r["id"] for r in changes_["tasks"][kind])
        timestamps.append(body["timestamp"])
        return body["timestamp"]

    def puller():
        since = None
        while not writers_done.is_set():
            k = len(pulls_during_writes)
            if 0 < k < PULLS_WHILE_WRITING:
                want = k * PHONES * PUSHES_PER_PHONE // (PULLS_WHILE_WRITING + 1)
                with pulled:
                    if not pulled.wait_for(lambda want=want: len(pushed) >= want, WAIT_FOR_PULL_S):
                        failures.append(("no push in time", k))
            since = pull(since)
            with pulled:
                pulls_during_writes.append(since)
                pulled.notify_all()
        pull(since)  # one more after every writer has finished

    writers = [threading.Thread(target=phone, args=(n,)) for n in range(PHONES)]
    writers.append(threading.Thread(target=manager))
    reader = threading.Thread(target=puller)
    reader.start()
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(300)
    writers_done.set()
    reader.join(300)

    assert failures == []
    assert len(pulls_during_writes) >= PULLS_WHILE_WRITING and timestamps == sorted(timestamps)
    with app.app_context():
        committed_visits = set(db.session.scalars(db.select(Visit.id)))
        committed_tasks = set(db.session.scalars(db.select(Task.id)))
    assert len(committed_visits) == PHONES * PUSHES_PER_PHONE * VISITS_PER_PUSH
    assert pulled_visits == committed_visits
    assert pulled_tasks == committed_tasks
