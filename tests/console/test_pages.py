"""What each console page shows, from the same reports and services as the API, and its
forms: bad input is shown next to its field with what was typed, never a 500."""
import json
import re

import pytest

from fieldsales.common import DAY_MS, HOUR_MS, now_ms
from fieldsales.targets.models import Target
from tests.factories import at

MAP_DATA = re.compile(r'<script type="application/json" id="map-data">(.*?)</script>', re.S)


def map_data(page: str) -> dict:
    found = MAP_DATA.search(page)
    assert found, "no map on the page"
    return json.loads(found.group(1))


# --- Today --------------------------------------------------------------------------------
def test_today_puts_each_rep_with_a_position_on_the_team_map(visitor, team, world):
    yesterday_noon = now_ms() - now_ms() % DAY_MS - 12 * HOUR_MS
    world.ping(rep=team.rep, at=yesterday_noon, lat=38.7, lon=-9.2)
    world.ping(rep=team.rep2, at=yesterday_noon + HOUR_MS, lat=38.71, lon=-9.21)
    world.ping(rep=team.other_rep, at=yesterday_noon, lat=40.0, lon=-8.0)
    page = visitor(team.manager).get("/today").text
    markers = map_data(page)["reps"]
    assert sorted((m["latitude"], m["longitude"]) for m in markers) == [(38.7, -9.2),
                                                                        (38.71, -9.21)]
    assert {m["url"] for m in markers} == {f"/reps/{team.rep.id}/day",
                                           f"/reps/{team.rep2.id}/day"}
    assert team.rep.name in page and team.other_rep.name not in page
    assert "Off duty" in page


def test_admins_pick_the_team_and_managers_never_see_another(visitor, team):
    admin = visitor(team.admin)
    other = admin.get(f"/today?team={team.other_manager.team_id}").text
    assert team.other_rep.name in other and team.rep.name not in other
    assert visitor(team.manager).get(f"/today?team={team.other_manager.team_id}"
                                     ).status_code == 404


# --- a rep's day ------------------------------------------------------------------------------
@pytest.fixture
def day(team, world):
    """2024-03-05: a stop of 20 min at a shop with a verified visit, a drive, an order."""
    shop = world.customer(rep=team.rep, name="Shop on the corner", lat=52.0, lon=4.0,
                          radius=80)
    for minute in range(0, 21, 2):
        world.ping(rep=team.rep, at=at("2024-03-05", 9, minute), lat=52.0, lon=4.0)
    for step in range(1, 6):
        world.ping(rep=team.rep, at=at("2024-03-05", 9, 20 + step), lat=52.0 + step * 0.002,
                   lon=4.0)
    world.ping(rep=team.rep, at=at("2024-03-05", 9, 26), lat=53.0, lon=4.0,
               flags="implausible_speed")
    visit = world.visit(rep=team.rep, customer=shop, at=at("2024-03-05", 9, 1), minutes=18)
    product = world.product()
    world.order(rep=team.rep, customer=shop, at=at("2024-03-05", 9, 10), visit=visit,
                lines=[(product, 2, 12.5)])
    return shop


def test_a_reps_day_draws_trail_stops_and_geofences_and_lists_the_timeline(visitor, team,
                                                                          day):
    page = visitor(team.manager).get(f"/reps/{team.rep.id}/day?date=2024-03-05").text
    data = map_data(page)
    assert len(data["stops"]) == 1 and data["stops"][0]["customer"]["name"] == "Shop on the corner"
    assert sum(len(leg["pings"]) for leg in data["trail"]) == 6  # after the stop, one flagged
    assert [p["flagged"] for leg in data["trail"] for p in leg["pings"]].count(True) == 1
    assert data["geofences"] == [{"id": day, "name": "Shop on the corner", "latitude": 52.0,
                                  "longitude": 4.0, "radius_m": 80}]
    assert data["visits"][0]["verified"] is True
    assert "09:01" in page and "verified" in page and "25.00" in page  # visit, order value
    assert 'href="?date=2024-03-04"' in page and 'href="?date=2024-03-06"' in page


def test_a_stop_at_another_teams_customer_is_drawn_unnamed(visitor, team, world, day):
    world.customer(rep=team.other_rep, name="Their secret client", lat=52.5, lon=4.0,
                   radius=80)
    for minute in range(0, 11, 2):  # the rep stops 10 min at it
        world.ping(rep=team.rep, at=at("2024-03-05", 12, minute), lat=52.5, lon=4.0)
    page = visitor(team.manager).get(f"/reps/{team.rep.id}/day?date=2024-03-05").text
    stops = map_data(page)["stops"]
    assert len(stops) == 2 and stops[1]["customer"] is None
    assert "Their secret client" not in page
    assert [g["name"] for g in map_data(page)["geofences"]] == ["Shop on the corner"]
    admin = visitor(team.admin).get(f"/reps/{team.rep.id}/day?date=2024-03-05").text
    assert map_data(admin)["stops"][1]["customer"]["name"] == "Their secret client"


def test_a_bad_date_is_shown_by_the_date_field_with_what_was_typed(visitor, team):
    response = visitor(team.manager).get(f"/reps/{team.rep.id}/day?date=5th+of+March")
    assert response.status_code == 422
    assert 'id="date-error">Not a valid date.' in response.text
    assert 'value="5th of March"' in response.text


def test_a_rep_sees_only_their_own_day(visitor, team, day):
    rep = visitor(team.rep)
    assert "Shop on the corner" in rep.get(f"/reps/{team.rep.id}/day?date=2024-03-05").text
    assert rep.get(f"/reps/{team.rep2.id}/day").status_code == 404
    assert rep.get("/today").status_code == 403


# --- team ---------------------------------------------------------------------------------
def test_the_team_page_switches_period_and_shows_scores_and_targets(visitor, team, world):
    from tests.reports.test_reports_overview import score_row
    score_row(world, team.rep, "week", "2024-03-04", 80, c_visits=1.0)
    score_row(world, team.rep2, "week", "2024-03-04", 60, c_visits=0.5)
    score_row(world, team.rep, "day", "2024-03-05", 70)
    world.add(Target, rep_id=team.rep.id, team_id=team.manager.team_id, metric="visits",
              goal=4, period="week", period_start=at("2024-03-04"), period_end=at("2024-03-11"))
    manager = visitor(team.manager)
    week = manager.get("/team?period=week&date=2024-03-06").text
    board = re.findall(r'<span class="rank">(\d)</span> <a href="[^"]+">([^<]+)</a>'
                       r' <strong class="score">([\d.]+)', week)
    assert board == [("1", team.rep.name, "80.0"), ("2", team.rep2.name, "60.0")]
    assert "Target attainment" in week and ">visits<" in week
    day = manager.get("/team?period=day&date=2024-03-05").text
    assert re.findall(r'class="score">([\d.]+)', day) == ["70.0"]
    assert 'aria-current="true"\n       href="/team?period=day' in day


def test_a_bad_period_or_date_says_so_and_shows_the_default(visitor, team):
    response = visitor(team.manager).get("/team?period=year&date=someday")
    assert response.status_code == 422
    assert "Period: Must be one of: day, week, month." in response.text
    assert 'id="date-error">Not a valid date.' in response.text


# --- targets --------------------------------------------------------------------------------
GOOD = {"rep_id": "", "metric": "orders", "period": "month", "period_start": "2026-01-01",
        "goal": "40"}


def test_a_manager_creates_edits_and_deletes_a_target_seen_by_the_api(client, visitor, team,
                                                                      world):
    manager = visitor(team.manager)
    created = manager.post("/targets/new", {**GOOD, "rep_id": team.rep.id})
    assert created.status_code == 302 and created.headers["Location"] == "/targets"
    listed = manager.get("/targets").text
    assert "Target created." in listed and team.rep.name in listed
    api = client.get("/api/v1/targets", headers=team.headers["manager"]).json["items"]
    assert [(t["rep_id"], t["metric"], t["goal"]) for t in api] == [(team.rep.id, "orders", 40)]
    edit = f"/targets/{api[0]['id']}/edit"
    assert manager.post(edit, {**GOOD, "goal": "55"}).status_code == 302
    assert client.get("/api/v1/targets", headers=team.headers["manager"]
                      ).json["items"][0]["goal"] == 55
    assert manager.post(f"/targets/{api[0]['id']}/delete", {}, form_on="/targets"
                        ).status_code == 302
    assert client.get("/api/v1/targets", headers=team.headers["manager"]).json["items"] == []


@pytest.mark.parametrize("change, field, message", [
    ({"goal": "lots"}, "goal", "Not a valid number."),
    ({"goal": "-3"}, "goal", "Must be greater than 0."),
    ({"metric": ""}, "metric", "Missing data for required field."),
    ({"period_start": "2026-01-15"}, "period_start",
     "Must be the first day of the month (here 2026-01-01)."),
    ({"period_start": "1.1.2026"}, "period_start", "Not a valid date."),
])
def test_bad_input_is_shown_next_to_its_field_and_what_was_typed_is_kept(
        visitor, team, change, field, message):
    sent = {**GOOD, **change}
    response = visitor(team.manager).post("/targets/new", sent)
    assert response.status_code == 422
    assert f'id="{field}-error">{message}</span>' in response.text
    if sent[field]:
        assert f'value="{sent[field]}"' in response.text
    assert 'value="orders" selected' in response.text or field == "metric"


def test_a_rep_of_another_team_or_a_duplicate_is_refused_on_the_form(visitor, team):
    manager = visitor(team.manager)
    other = manager.post("/targets/new", {**GOOD, "rep_id": team.other_rep.id})
    assert other.status_code == 422 and 'id="rep_id-error">Must be a rep of the target' in (
        other.text)
    assert manager.post("/targets/new", GOOD).status_code == 302
    again = manager.post("/targets/new", GOOD)
    assert again.status_code == 422
    assert "A target on that metric and period already exists" in again.text


def test_targets_export_as_csv_with_what_the_api_exports(client, visitor, team):
    manager = visitor(team.manager)
    manager.post("/targets/new", GOOD)
    csv = manager.get("/targets.csv")
    api = client.get("/api/v1/targets?format=csv", headers=team.headers["manager"])
    assert csv.mimetype == "text/csv"
    assert csv.text.splitlines()[0] == api.text.splitlines()[0]
    assert csv.text.splitlines()[1].split(",")[:6] == api.text.splitlines()[1].split(",")[:6]


def test_targets_filter_by_rep_metric_period_and_day_and_export_what_is_shown(visitor, team,
                                                                              world):
    world.target(rep=team.rep, metric="visits", period="month", start=at("2026-01-01"),
                 end=at("2026-02-01"), goal=40)
    world.target(rep=team.rep2, metric="order_value", period="week", start=at("2026-01-05"),
                 end=at("2026-01-12"), goal=900)
    manager = visitor(team.manager)
    page = manager.get(f"/targets?rep_id={team.rep2.id}").text
    assert 'data-label="Metric">order value<' in page and 'data-label="Metric">visits<' not in page
    assert manager.get("/targets?metric=visits&period=month&active_on=2026-01-20").text.count(
        'data-label="Metric">') == 1
    assert "No targets match these filters." in manager.get(
        "/targets?active_on=2026-03-01").text
    exported = manager.get(f"/targets.csv?rep_id={team.rep2.id}").text.splitlines()
    assert len(exported) == 2 and "order_value" in exported[1]
    bad = manager.get("/targets?metric=smiles")
    assert bad.status_code == 422 and 'id="metric-error"' in bad.text


def test_the_edit_form_names_who_the_target_is_for_and_keeps_a_bad_goal(visitor, team, world):
    target = world.target(rep=team.rep, metric="visits", period="day", start=at("2026-01-05"),
                          end=at("2026-01-06"), goal=5)
    manager = visitor(team.manager)
    form = manager.get(f"/targets/{target}/edit").text
    assert f"For <strong>{team.rep.name}</strong>" in form and 'value="5.0"' in form
    refused = manager.post(f"/targets/{target}/edit", {"metric": "visits", "period": "day",
                                                        "period_start": "2026-01-05",
                                                        "goal": "0"})
    assert refused.status_code == 422 and 'value="0"' in refused.text
    assert 'id="goal-error">Must be greater than 0.' in refused.text
    assert world.get(Target, target).goal == 5



def test_a_managers_look_at_a_reps_day_is_logged_for_the_rep_as_through_the_api(
        client, world, team, visitor):
    world.ping(rep=team.rep, at=at("2026-11-10", 9))

    page = visitor(team.manager).get(f"/reps/{team.rep.id}/day", query_string={
        "date": "2026-11-10"})

    assert page.status_code == 200
    logged = client.get("/api/v1/users/me/position-views", headers=team.headers["rep"]).json
    assert [(v["what"], v["viewer"]["id"], v["detail"]) for v in logged["items"]] == [
        ("activity", team.manager.id, "2026-11-10")]


def test_a_manager_sets_their_teams_working_hours_in_the_console(client, team, visitor):
    manager = visitor(team.manager)
    form = {"time_zone": "Europe/Berlin", "keep_off_duty_positions": "true",
            **{f"{day}_start": "08:00" for day in ("mon", "tue", "wed", "thu", "fri")},
            **{f"{day}_end": "17:30" for day in ("mon", "tue", "wed", "thu", "fri")},
            "sat_off": "true", "sun_off": "true"}

    saved = manager.post("/hours", form)

    assert saved.status_code == 302
    api = client.get(f"/api/v1/teams/{team.manager.team_id}/working-hours",
                     headers=team.headers["manager"]).json
    assert api["time_zone"] == "Europe/Berlin" and api["keep_off_duty_positions"] is True
    assert api["days"]["mon"] == ["08:00", "17:30"] and api["days"]["sat"] is None
    page = manager.get("/hours").text
    assert 'value="Europe/Berlin"' in page and 'id="sun_off" name="sun_off" value="true" checked' \
        in " ".join(page.split())


def test_bad_working_hours_are_shown_next_to_their_field_and_nothing_is_saved(client, team,
                                                                              visitor):
    manager = visitor(team.manager)
    form = {"time_zone": "Mars/Olympus", **{f"{day}_start": "08:00" for day in
                                            ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
            **{f"{day}_end": "18:00" for day in ("tue", "wed", "thu", "fri", "sat", "sun")},
            "mon_end": "7pm"}

    refused = manager.post("/hours", form)

    assert refused.status_code == 422
    assert 'id="time_zone-error"' in refused.text and 'id="mon_start-error"' in refused.text
    assert 'value="7pm"' in refused.text  # what was typed stays
    api = client.get(f"/api/v1/teams/{team.manager.team_id}/working-hours",
                     headers=team.headers["manager"]).json
    assert api["defaults"] is True


# --- the menu -------------------------------------------------------------------------------
def test_a_long_menu_folds_into_groups_for_phones_and_a_short_one_does_not(visitor, team):
    page = visitor(team.admin).get("/admin/users").text
    folded = page[page.index('<details class="menu">'):page.index("</details>")]
    assert re.findall(r"<h2 [^>]*>([^<]+)</h2>", folded) == [
        "Field", "Customers", "Stock", "Reports", "Admin"]
    admin_group = folded[folded.index(">Admin</h2>"):]
    assert re.findall(r'<a href="[^"]+"[^>]*>([^<]+)</a>', admin_group) == [
        "Imports", "Jobs", "Quarantine", "Sync log", "Users", "Webhooks"]
    assert '<span class="here">· Users</span>' in folded
    assert 'href="/admin/users" aria-current="page"' in folded
    # The laptop's row holds the same links.
    bar = page[page.index('<nav aria-label="Main" class="bar folds">'):]
    bar = bar[:bar.index("</nav>")]
    assert re.findall(r">([^<]+)</a>", bar) == re.findall(r'<a href="[^"]+"[^>]*>([^<]+)</a>',
                                                           folded)
    # A form posted back to its page (POST /imports, no file): still that page's.
    refused = visitor(team.admin).post("/imports", {"kind": "products"}).text
    assert '<span class="here">· Imports</span>' in refused
    rep_page = visitor(team.rep).get("/me").text
    assert '<details class="menu">' not in rep_page  # three links: no need to fold
    assert '<nav aria-label="Main" class="bar">' in rep_page
