"""Working hours per team: the rule (users/hours.py), setting them, and off-duty pings at push:
acknowledged to the phone, never stored (or stored flagged and shown only to the rep)."""
from datetime import UTC, date, datetime

import pytest

from fieldsales.locations.models import LocationPing
from fieldsales.tasks.models import Task
from fieldsales.users import hours
from fieldsales.users.models import Team
from tests.factories import Phone, changes, ping_record, stored, working_hours

WEEKDAYS = {day: ["08:00", "18:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
OFFICE = {**WEEKDAYS, "sat": None, "sun": None}
BERLIN = {"time_zone": "Europe/Berlin", "days": OFFICE}


def ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp() * 1000)


def berlin_team(**fields) -> Team:
    return Team(name="B", time_zone="Europe/Berlin", working_hours=OFFICE, **fields)


# --- the rule -----------------------------------------------------------------------------

def test_a_team_is_on_duty_within_its_hours_in_its_own_zone(ctx):
    team = berlin_team()
    assert hours.is_on_duty(team, ms("2026-12-02T07:30:00+00:00"))  # 08:30 in Berlin
    assert not hours.is_on_duty(team, ms("2026-12-02T06:30:00+00:00"))  # 07:30 in Berlin
    assert not hours.is_on_duty(team, ms("2026-12-02T22:30:00+00:00"))  # 23:30 in Berlin
    assert not hours.is_on_duty(team, ms("2026-12-05T10:00:00+00:00"))  # a Saturday: off


def test_a_local_day_follows_the_zone_and_lasts_23_hours_when_clocks_go_forward(ctx):
    kolkata = Team(name="K", time_zone="Asia/Kolkata")
    assert hours.local_day(kolkata, ms("2026-12-01T20:00:00+00:00")) == date(2026, 12, 2)
    start, end = hours.day_bounds_ms(berlin_team(), date(2026, 3, 29))
    assert (end - start) == 23 * 3_600_000


def test_a_team_without_hours_takes_the_configured_defaults_and_24_00_ends_the_day(ctx):
    start, end = hours.duty_window_ms(None, date(2026, 12, 2))  # testing config: all day
    assert start == ms("2026-12-02T00:00:00+00:00") and end == ms("2026-12-03T00:00:00+00:00")
    assert hours.is_time_zone("Europe/Berlin") and not hours.is_time_zone("Mars/Olympus")


# --- setting them -------------------------------------------------------------------------

def test_a_manager_sets_their_own_teams_hours(client, team):
    url = f"/api/v1/teams/{team.manager.team_id}/working-hours"
    before = client.get(url, headers=team.headers["manager"])
    assert before.status_code == 200 and before.json["defaults"] is True
    response = client.put(url, json=BERLIN, headers=team.headers["manager"])
    assert response.status_code == 200, response.json
    assert response.json["time_zone"] == "Europe/Berlin"
    assert response.json["days"]["sat"] is None and response.json["defaults"] is False
    assert client.get(url, headers=team.headers["admin"]).json["days"]["mon"] == [
        "08:00", "18:00"]


@pytest.mark.parametrize("caller, status", [("other_manager", 404), ("rep", 403),
                                            ("procurement", 403)])
def test_nobody_else_sets_a_teams_hours(client, team, caller, status):
    url = f"/api/v1/teams/{team.manager.team_id}/working-hours"
    assert client.put(url, json=BERLIN, headers=team.headers[caller]).status_code == status


@pytest.mark.parametrize("body, field", [
    ({**BERLIN, "time_zone": "Mars/Olympus"}, "time_zone"),
    ({**BERLIN, "days": WEEKDAYS}, "days"),  # no weekend: every day must be given
    ({**BERLIN, "days": {**OFFICE, "mon": ["18:00", "08:00"]}}, "days"),
    ({**BERLIN, "days": {**OFFICE, "mon": ["8am", "6pm"]}}, "days"),
])
def test_bad_hours_are_refused_field_by_field(client, team, body, field):
    response = client.put(f"/api/v1/teams/{team.manager.team_id}/working-hours", json=body,
                          headers=team.headers["manager"])
    assert response.status_code == 422
    assert field in str(response.json["error"]["details"])


# --- off-duty pings at push ---------------------------------------------------------------

def yesterday_at(hour: int) -> int:
    """HH:30 UTC yesterday: a time in the past, whatever hour the suite runs at."""
    now = datetime.now(UTC)
    today = now.replace(hour=hour, minute=30, second=0, microsecond=0)
    return int(today.timestamp() * 1000) - 86_400_000


def test_an_off_duty_ping_is_acknowledged_and_not_stored(app, client, team):
    working_hours(app, team.rep.team_id)
    phone = Phone(client, team.headers["rep"])
    phone.pull()
    on_duty, off_duty = ping_record(yesterday_at(10)), ping_record(yesterday_at(23))
    result = phone.push(changes(location_pings={"created": [on_duty, off_duty]}))
    assert result["accepted"]["location_pings"] == 2  # the phone never sends it again
    assert [p["id"] for p in stored(app, LocationPing)] == [on_duty["id"]]
    again = phone.push(changes(location_pings={"created": [off_duty]}))  # a retry
    assert again["accepted"]["location_pings"] == 1 and len(stored(app, LocationPing)) == 1


def test_a_team_that_must_keep_them_stores_them_flagged_and_only_the_rep_sees_them(
        app, client, team):
    working_hours(app, team.rep.team_id, keep_off_duty_positions=True)
    phone = Phone(client, team.headers["rep"])
    phone.pull()
    late = yesterday_at(18)  # 18:30: just off duty
    phone.push(changes(location_pings={"created": [ping_record(late)]}))
    [kept] = stored(app, LocationPing)
    assert kept["flags"] == "off_duty" and kept["flagged"] is True
    on = datetime.fromtimestamp(late / 1000, UTC).date().isoformat()
    url = f"/api/v1/reps/{team.rep.id}/activity"
    own = client.get(url, query_string={"date": on}, headers=team.headers["rep"]).json
    managers = client.get(url, query_string={"date": on}, headers=team.headers["manager"]).json
    assert own["summary"]["pings"] == 1
    assert managers["summary"]["pings"] == 0


def test_where_a_task_was_completed_off_duty_is_shown_to_the_rep_alone(app, client, world,
                                                                      team):
    working_hours(app, team.rep.team_id)  # 08:00-18:00 UTC
    late = world.task(rep=team.rep, completed_at=yesterday_at(23), latitude=52.1,
                      longitude=4.1)
    daytime = world.task(rep=team.rep, completed_at=yesterday_at(10), latitude=52.2,
                         longitude=4.2)

    def where(who, **query):
        listed = client.get("/api/v1/tasks", query_string=query,
                            headers=team.headers[who]).json["items"]
        return {t["id"]: (t["latitude"], t["longitude"]) for t in listed}

    assert where("manager") == {late: (None, None), daytime: (52.2, 4.2)}
    assert where("rep") == {late: (52.1, 4.1), daytime: (52.2, 4.2)}
    one = client.get(f"/api/v1/tasks/{late}", headers=team.headers["admin"]).json
    assert (one["latitude"], one["longitude"], one["completion_note"]) == (None, None, None)
    exported = client.get("/api/v1/tasks", query_string={"format": "csv"},
                          headers=team.headers["manager"]).text
    assert "52.1" not in exported and "52.2" in exported
    assert stored(app, Task, id=late)[0]["latitude"] == 52.1  # only hidden, not changed
