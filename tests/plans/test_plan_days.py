"""The plan job (plans/service.py): every rep's next working days, what stays, what goes,
and `flask jobs run plans`."""
from datetime import UTC, datetime

import pytest

from fieldsales.common import DAY_MS, HOUR_MS
from fieldsales.extensions import db
from fieldsales.jobs.models import JobRun
from fieldsales.plans.models import PlannedVisit
from fieldsales.plans.service import plan_days
from fieldsales.users.models import User
from tests.plans.conftest import NOW, WEEK, near


@pytest.fixture
def plan(app):
    def run(**kwargs):
        with app.app_context():
            summary = plan_days(now=kwargs.pop("now", NOW), **kwargs)
            db.session.commit()
            return summary
    return run


def live(world, rep):
    return sorted(world.rows(PlannedVisit, PlannedVisit.rep_id == rep.id,
                             PlannedVisit.deleted_at.is_(None)),
                  key=lambda row: (row.planned_date, row.sequence))


def by_day(rows):
    days: dict = {}
    for row in sorted(rows, key=lambda r: (r.planned_date, r.sequence)):
        days.setdefault(row.planned_date, []).append(row)
    return days


def lisbon_clock(ms):
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%H:%M")  # Lisbon is UTC in March


def test_plans_fill_the_working_week_in_order_within_hours(office, world, plan):
    team = office
    customers = [world.customer(rep=team.rep2, **near(i)) for i in range(20)]

    summary = plan()

    rows = live(world, team.rep2)
    days = by_day(rows)
    assert sorted(days) == WEEK[:3]  # 8 a day from Monday: 20 customers fill two and a half
    assert [len(day) for day in days.values()] == [8, 8, 4]
    assert {row.customer_id for row in rows} == set(customers)  # each once
    for day in days.values():
        assert [row.sequence for row in day] == list(range(1, len(day) + 1))
        arrivals = [row.planned_arrival_at for row in day]
        assert arrivals == sorted(arrivals)
        assert "09:00" <= lisbon_clock(arrivals[0]) and lisbon_clock(arrivals[-1]) < "17:00"
    assert {row.reason for row in rows} == {"cadence"}
    assert {row.planned_duration_s for row in rows} == {1800}
    assert (summary["planned"], summary["overflow"], summary["unplannable"]) == (20, 0, 0)
    assert summary["planned_m"] <= summary["nearest_neighbour_m"]


def test_a_week_over_capacity_plans_the_most_important_and_reports_overflow(
        office, world, plan):
    team = office
    regulars = [world.customer(rep=team.rep2, **near(i)) for i in range(44)]
    complaint = world.customer(rep=team.rep2, **near(44))
    world.visit(rep=team.rep2, customer=complaint, at=NOW - DAY_MS)
    world.feedback(rep=team.rep2, customer=complaint, at=NOW - HOUR_MS, rating=1)

    summary = plan()

    rows = live(world, team.rep2)
    assert len(rows) == 40 and summary["overflow"] == 5 and summary["planned"] == 40
    (first,) = [row for row in rows if row.customer_id == complaint]
    assert (first.planned_date, first.reason) == (WEEK[0], "complaint")
    assert len({row.customer_id for row in rows} & set(regulars)) == 39


def test_customers_without_coordinates_are_never_planned_and_listed(office, world, plan):
    team = office
    world.customer(rep=team.rep2, **near(1))
    nowhere = world.customer(rep=team.rep2, lat=0.0, lon=0.0)

    summary = plan()

    assert nowhere not in {row.customer_id for row in live(world, team.rep2)}
    assert summary["unplannable"] == 1 and summary["unplannable_customer_ids"] == [nowhere]


def test_opening_hours_are_kept(office, world, plan):
    team = office
    afternoon = world.customer(rep=team.rep2, opens_at="14:00", closes_at="16:00", **near(0))
    for i in range(1, 6):
        world.customer(rep=team.rep2, **near(i))

    plan()

    (row,) = [row for row in live(world, team.rep2) if row.customer_id == afternoon]
    assert "14:00" <= lisbon_clock(row.planned_arrival_at) <= "15:30"


def test_a_locked_visit_stays_and_its_customer_is_not_planned_again(office, world, plan):
    team = office
    pinned_customer = world.customer(rep=team.rep2, **near(0))
    for i in range(1, 4):
        world.customer(rep=team.rep2, **near(i))
    arrival = NOW + 6 * HOUR_MS  # Monday 12:00
    locked = world.add(PlannedVisit, rep_id=team.rep2.id, customer_id=pinned_customer,
                       planned_date=WEEK[0], sequence=1, planned_arrival_at=arrival,
                       planned_duration_s=1800, reason="manual", locked=True,
                       created_by_id=team.manager.id)

    plan()

    rows = live(world, team.rep2)
    kept = next(row for row in rows if row.id == locked)
    assert (kept.planned_date, kept.planned_arrival_at, kept.locked, kept.reason) == (
        WEEK[0], arrival, True, "manual")
    assert [row.customer_id for row in rows].count(pinned_customer) == 1
    monday = by_day(rows)[WEEK[0]]
    assert [row.sequence for row in monday] == [1, 2, 3, 4]
    assert [row.planned_arrival_at for row in monday] == sorted(
        row.planned_arrival_at for row in monday)


def test_done_and_skipped_visits_are_never_moved(office, world, plan):
    team = office
    done_at, skipped_at = world.customer(rep=team.rep2, **near(0)), world.customer(
        rep=team.rep2, **near(1))
    world.customer(rep=team.rep2, **near(2))
    visit = world.visit(rep=team.rep2, customer=done_at, at=NOW - 30 * DAY_MS)
    done = world.add(PlannedVisit, rep_id=team.rep2.id, customer_id=done_at,
                     planned_date=WEEK[1], sequence=2, planned_arrival_at=NOW + DAY_MS,
                     reason="cadence", status="done", visit_id=visit)
    skipped = world.add(PlannedVisit, rep_id=team.rep2.id, customer_id=skipped_at,
                        planned_date=WEEK[0], sequence=1, reason="cadence", status="skipped",
                        skip_reason="closed for a funeral")
    before = {row.id: row for row in world.rows(PlannedVisit)}

    plan()

    for row_id in (done, skipped):
        after = world.get(PlannedVisit, row_id)
        assert (after.planned_date, after.sequence, after.status, after.deleted_at,
                after.changed_seq) == (before[row_id].planned_date, before[row_id].sequence,
                                       before[row_id].status, None, before[row_id].changed_seq)
    others = [row for row in live(world, team.rep2) if row.id not in (done, skipped)]
    assert len(others) == 1 and others[0].sequence == 2  # number 1 of Monday is the skip's


def test_replanning_keeps_unchanged_rows_and_removes_the_rest_softly(office, world, plan):
    team = office
    customers = [world.customer(rep=team.rep2, **near(i)) for i in range(6)]
    plan()
    first = {row.customer_id: row for row in live(world, team.rep2)}
    assert set(first) == set(customers)
    with world.app.app_context():
        from fieldsales.customers.models import Customer
        db.session.get(Customer, customers[0]).deleted_at = NOW
        db.session.commit()

    summary = plan()

    second = {row.customer_id: row for row in live(world, team.rep2)}
    assert set(second) == set(customers[1:])
    assert {c: (r.id, r.planned_date) for c, r in second.items()} == {
        c: (first[c].id, first[c].planned_date) for c in customers[1:]}
    gone = world.get(PlannedVisit, first[customers[0]].id)
    assert gone.deleted_at == NOW and gone.changed_seq > first[customers[0]].changed_seq
    assert summary["removed"] == 1


def test_a_day_under_way_is_not_planned_and_days_off_are_skipped(office, world, plan):
    team = office
    for i in range(12):
        world.customer(rep=team.rep2, **near(i))

    plan(now=NOW + 4 * HOUR_MS, days=3)  # Monday 10:00: Monday has begun

    assert sorted(by_day(live(world, team.rep2))) == WEEK[1:3]
    plan(now=NOW + 4 * DAY_MS + 4 * HOUR_MS, days=2)  # Friday 10:00: next Monday, Tuesday
    assert sorted(by_day(live(world, team.rep2)))[-2:] == ["2026-03-09", "2026-03-10"]


def test_a_rep_starts_from_their_start_point_or_the_centroid(office, world, plan, app):
    team = office
    near_home = world.customer(rep=team.rep2, lat=38.80, lon=-9.14)
    far = world.customer(rep=team.rep2, lat=38.60, lon=-9.14)
    with app.app_context():
        rep = db.session.get(User, team.rep2.id)
        rep.start_latitude, rep.start_longitude = 38.81, -9.14
        db.session.commit()

    plan()

    monday = by_day(live(world, team.rep2))[WEEK[0]]
    assert [row.customer_id for row in monday] == [near_home, far]


def test_the_job_runs_from_the_cli_and_reports_its_counts(app, office, world):
    team = office
    for i in range(3):
        world.customer(rep=team.rep2, **near(i))
    world.customer(rep=team.rep2, lat=0.0, lon=0.0)

    result = app.test_cli_runner().invoke(args=["jobs", "run", "plans"])

    assert result.exit_code == 0, result.output
    assert result.output.startswith("plans: ok") and "unplannable 1" in result.output
    (run,) = world.rows(JobRun)
    assert run.summary["planned"] == 3 and run.summary["unplannable"] == 1
    assert run.rows_written == 3
    assert len(live(world, team.rep2)) == 3


def test_the_runs_log_shows_the_counts_to_managers_and_the_ids_to_admins(
        client, office, world):
    team = office
    world.customer(rep=team.rep2, **near(1))
    nowhere = world.customer(rep=team.rep2, lat=0.0, lon=0.0)
    assert world.run("plans", now=NOW)["status"] == "ok"

    as_manager = client.get("/api/v1/jobs/runs?job=plans", headers=team.headers["manager"])
    as_admin = client.get("/api/v1/jobs/runs?job=plans", headers=team.headers["admin"])

    (seen,) = as_manager.json["items"]
    assert seen["summary"]["unplannable"] == 1 and seen["summary"]["planned"] == 1
    assert "unplannable_customer_ids" not in seen["summary"]
    assert as_admin.json["items"][0]["summary"]["unplannable_customer_ids"] == [nowhere]


def test_a_visit_due_later_in_the_week_waits_for_its_day(office, world, plan):
    team = office
    later = world.customer(rep=team.rep2, visit_cadence_days=7, **near(0))
    world.visit(rep=team.rep2, customer=later, at=NOW - 4 * DAY_MS)  # due on Thursday 06:00
    world.customer(rep=team.rep2, **near(1))

    plan()

    (row,) = [row for row in live(world, team.rep2) if row.customer_id == later]
    assert row.planned_date == WEEK[3]


def test_a_team_without_working_days_plans_nothing_and_counts_the_overflow(
        app, office, world, plan):
    team = office
    from fieldsales.users.models import Team
    with app.app_context():
        db.session.get(Team, team.rep2.team_id).working_hours = {
            day: None for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
        db.session.commit()
    world.customer(rep=team.rep2, **near(0))

    summary = plan()

    assert live(world, team.rep2) == [] and summary["overflow"] == 1
    assert summary["rep_days"] == 5  # other_rep's only: the other team works every day


def test_the_job_first_marks_the_stops_of_ended_days_missed(office, world):
    team = office
    customer = world.customer(rep=team.rep2, **near(0))
    yesterday = world.add(PlannedVisit, rep_id=team.rep2.id, customer_id=customer,
                          planned_date="2026-03-01", sequence=1, reason="cadence")

    run = world.run("plans", now=NOW)

    assert run["status"] == "ok"
    assert world.get(PlannedVisit, yesterday).status == "missed"
    (job,) = world.rows(JobRun)
    assert job.summary["missed"] == 1 and job.summary["planned"] == 1


def test_a_deactivated_reps_coming_stops_are_withdrawn_not_missed(office, world):
    team = office
    customer = world.customer(rep=team.rep2, **near(0))
    ended, coming = (world.add(PlannedVisit, rep_id=team.rep2.id, customer_id=customer,
                               planned_date=day, sequence=1, reason="cadence")
                     for day in ("2026-03-01", "2026-03-03"))
    kept = world.add(PlannedVisit, rep_id=team.rep.id, customer_id=customer,
                     planned_date="2026-03-03", sequence=1, reason="manual", locked=True)
    with world.app.app_context():
        db.session.get(User, team.rep2.id).active = False
        db.session.commit()

    run = world.run("plans", now=NOW)

    assert run["status"] == "ok"
    assert world.get(PlannedVisit, ended).status == "missed"  # its day ended first
    assert world.get(PlannedVisit, coming).deleted_at is not None  # the phone drops it
    assert world.get(PlannedVisit, kept).deleted_at is None  # an active rep's stays
    (job,) = world.rows(JobRun)
    assert job.summary["withdrawn"] == 1
