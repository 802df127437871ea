"""A planned visit is missed when its day has ended, in its team's zone, without a visit
(plans/status.py `mark_missed`, run by the plans job); phones learn of it."""
from datetime import date, timedelta

from fieldsales.common import now_ms
from fieldsales.extensions import db
from fieldsales.plans import status
from fieldsales.plans.models import PlannedVisit
from fieldsales.users.models import Team
from tests.factories import Phone, at, local_day, stored, uid
from tests.factories import ids as pulled_ids

NOW = at("2026-03-10", 12)  # noon UTC on a Tuesday


def _mark(app, now=NOW) -> int:
    with app.app_context():
        missed = status.mark_missed(now=now)
        db.session.commit()
        return missed


def _statuses(app) -> dict:
    return {row["id"]: row["status"] for row in stored(app, PlannedVisit)}


def test_planned_stops_of_days_that_ended_become_missed_and_nothing_else_changes(
        app, world, team):
    customer = world.customer(id=uid("c"), rep=team.rep)
    made = {}
    for key, day, state in (("yesterday", "2026-03-09", "planned"),
                            ("last_week", "2026-03-02", "planned"),
                            ("today", "2026-03-10", "planned"),
                            ("tomorrow", "2026-03-11", "planned"),
                            ("skipped", "2026-03-09", "skipped"),
                            ("done", "2026-03-09", "done")):
        made[key] = world.planned_visit(id=uid("pv"), rep=team.rep, customer=customer, day=day,
                                        status=state)
    removed = world.planned_visit(id=uid("pv"), rep=team.rep, customer=customer,
                                  day="2026-03-09", deleted_at=NOW)
    assert _mark(app) == 2
    assert _statuses(app) == {made["yesterday"]: "missed", made["last_week"]: "missed",
                              made["today"]: "planned", made["tomorrow"]: "planned",
                              made["skipped"]: "skipped", made["done"]: "done",
                              removed: "planned"}
    assert _mark(app) == 0  # again: nothing more


def test_the_day_ends_in_the_teams_time_zone(app, world, team):
    with app.app_context():
        db.session.get(Team, team.rep.team_id).time_zone = "Pacific/Kiritimati"  # UTC+14
        db.session.commit()
    ahead = world.planned_visit(id=uid("pv"), rep=team.rep,
                                customer=world.customer(id=uid("c"), rep=team.rep),
                                day="2026-03-10")
    behind = world.planned_visit(id=uid("pv"), rep=team.other_rep,
                                 customer=world.customer(id=uid("c"), rep=team.other_rep),
                                 day="2026-03-10")
    # 10:30 UTC on the 10th is 00:30 on the 11th in Kiritimati: the 10th ended there only.
    assert _mark(app, now=at("2026-03-10", 10, 30)) == 1
    assert _statuses(app) == {ahead: "missed", behind: "planned"}
    assert _mark(app, now=at("2026-03-11", 0, 0)) == 1
    assert _statuses(app)[behind] == "missed"


def test_a_missed_stop_reaches_the_reps_next_version_2_pull(app, client, world, team):
    customer = world.customer(id=uid("c"), rep=team.rep)
    phone = Phone(client, team.headers["rep"])
    today = date.fromisoformat(local_day(now_ms()))
    planned = world.planned_visit(id=uid("pv"), rep=team.rep, customer=customer,
                                  day=(today - timedelta(days=1)).isoformat())
    assert pulled_ids(phone.pull(schema_version=2), "planned_visits", "created") == {planned}
    assert _mark(app, now=now_ms()) == 1
    updated = phone.pull(schema_version=2)["changes"]["planned_visits"]["updated"]
    assert [(p["id"], p["status"]) for p in updated] == [(planned, "missed")]
