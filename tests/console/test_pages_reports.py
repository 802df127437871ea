"""The report pages: Feedback (GET /api/v1/feedback/summary) and Territories
(GET /api/v1/territories/balance), from the same report calls, scoped the same.

Feedback, the two weeks from Monday 2024-03-04 (the manager's team unless noted):
  rep at A: P1 rated 5 (03-04), P2 rated 4 (03-06), price rated 2 (03-12)
  rep at C: delivery rated 1 (03-06), delivery rated 2 (03-12)  -> C complained twice
  rep at B: P2 asks 10, unrated (03-13);  rep2 at B: P2 asks 4, rated 5 (03-15)
  other_rep at O (the other team): P3 asks 100, rated 1 (03-15)
Territories: capacity 1 visit a day over 10 days; the team's cadence 5 days (2 visits a
customer): rep has 8 customers (16 needed, overloaded), rep2 2 (4 needed, underloaded).
"""
import json
import re

import pytest

from fieldsales.extensions import db
from fieldsales.users.models import Team
from tests.factories import at

RANGE = "?from=2024-03-04&to=2024-03-17"


@pytest.fixture
def feedback(world, team):
    a = world.customer(team=team.manager, rep=team.rep, name="Alpha Shop")
    b = world.customer(team=team.manager, rep=team.rep, name="Beta Market")
    c = world.customer(team=team.manager, rep=team.rep, name="Corner Store")
    o = world.customer(team=team.other_manager, rep=team.other_rep, name="Other Place")
    p1, p2, p3 = (world.product(sku=sku, name=name) for sku, name in
                  (("P1", "Widget"), ("P2", "Gadget"), ("P3", "Gizmo")))
    rep, rep2 = team.rep, team.rep2
    world.feedback(rep=rep, customer=a, at=at("2024-03-04", 9), product=p1, rating=5)
    world.feedback(rep=rep, customer=a, at=at("2024-03-06", 9), product=p2, rating=4)
    world.feedback(rep=rep, customer=c, at=at("2024-03-06", 10), category="delivery", rating=1)
    world.feedback(rep=rep, customer=c, at=at("2024-03-12", 9), category="delivery", rating=2)
    world.feedback(rep=rep, customer=a, at=at("2024-03-12", 10), category="price", rating=2)
    world.feedback(rep=rep, customer=b, at=at("2024-03-13", 9), product=p2, requested_quantity=10)
    world.feedback(rep=rep2, customer=b, at=at("2024-03-15", 9), product=p2, requested_quantity=4,
                   rating=5)
    world.feedback(rep=team.other_rep, customer=o, at=at("2024-03-15", 9), product=p3,
                   requested_quantity=100, rating=1)


def section(page: str, element_id: str) -> str:
    """A table or list of the page, from its id to its end."""
    start = page.index(f'id="{element_id}"')
    ends = [end for end in (page.find("</table>", start), page.find("</ol>", start)) if end > 0]
    return page[start:min(ends)]


def rows(page: str, element_id: str) -> list[list[str]]:
    """The cells of a table's body, tags stripped."""
    body = section(page, element_id)
    return [[re.sub(r"<[^>]+>", "", cell).strip()
             for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr)]
            for tr in re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>", 1)[1], re.S)]


def items(page: str, element_id: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", li).strip()
            for li in re.findall(r"<li>(.*?)</li>", section(page, element_id))]


# --- feedback --------------------------------------------------------------------------------
def test_the_manager_sees_their_teams_feedback_of_the_period(visitor, team, feedback):
    response = visitor(team.manager).get("/feedback" + RANGE)
    assert response.status_code == 200
    page = response.text
    assert "<strong>7</strong> feedback, average rating <strong>3.17</strong>" in page
    assert rows(page, "categories") == [["product", "4", "3", "4.67"],
                                        ["delivery", "2", "2", "1.50"],
                                        ["price", "1", "1", "2.00"]]
    assert items(page, "requested") == ["P2 Gadget: 14 asked for in 2 requests"]
    assert items(page, "praised") == ["P2 Gadget: 2 rated 4 or 5 (average 4.50)",
                                      "P1 Widget: 1 rated 4 or 5 (average 5.00)"]
    assert rows(page, "complainers") == [["Corner Store", "2", "1", "Tue 12 Mar 2024"]]
    assert "Other Place" not in page and "P3" not in page  # the other team's


def test_the_weekly_rating_trend_is_an_inline_svg_line_with_a_dot_per_week(visitor, team,
                                                                            feedback):
    page = visitor(team.manager).get("/feedback" + RANGE).text
    # Week of 04 Mar: 5, 4, 1 -> 3.33; week of 11 Mar: 2, 2, 5 -> 3.00.
    assert rows(page, "weeks") == [["Mon 04 Mar 2024", "3", "3.33"],
                                   ["Mon 11 Mar 2024", "3", "3.00"]]
    chart = page[page.index('<svg class="chart rating-chart"'):page.index("</svg>")]
    assert re.findall(r"<title>(Week of [^<]+)</title>", chart) == [
        "Week of 04 Mar: 3.33 from 3 rated", "Week of 11 Mar: 3.00 from 3 rated"]
    heights = [float(y) for y in re.findall(r'<circle class="dot" cx="[^"]+" cy="([^"]+)"',
                                            chart)]
    assert heights[0] < heights[1]  # the higher average is drawn higher (smaller y)


def test_a_rep_sees_only_their_own_feedback(visitor, team, feedback):
    page = visitor(team.rep2).get("/feedback" + RANGE).text
    assert "<strong>1</strong> feedback" in page
    assert items(page, "requested") == ["P2 Gadget: 4 asked for in 1 request"]
    assert "Corner Store" not in page


def test_the_page_shows_what_the_api_answers(visitor, client, team, feedback):
    api = client.get("/api/v1/feedback/summary" + RANGE,
                     headers=team.headers["procurement"]).json
    page = visitor(team.procurement).get("/feedback" + RANGE).text
    assert f"<strong>{api['total']}</strong> feedback" in page
    assert [r[0] for r in rows(page, "categories")] == [c["category"]
                                                         for c in api["by_category"]]
    assert [r[0] for r in rows(page, "complainers")] == [
        c["name"] for c in api["repeated_complaints"]]


@pytest.mark.parametrize("query, message", [
    ("?from=yesterday", "Not a valid date."),
    ("?from=2024-03-17&to=2024-03-04", "Must not be after `to`."),
    ("?from=2020-01-01&to=2024-03-04", "At most two years before `to`."),  # the report's
])
def test_a_bad_period_is_shown_by_its_field_never_a_500(visitor, team, feedback, query,
                                                        message):
    response = visitor(team.manager).get("/feedback" + query)
    assert response.status_code == 422
    assert f'<span class="error" id="from-error">{message}</span>' in response.text
    assert 'aria-describedby="from-error"' in response.text
    assert "<h2>By category</h2>" in response.text  # the page, with the default period


def test_the_filters_narrow_to_a_rep_or_a_team_as_the_api_does(visitor, client, team,
                                                               feedback):
    manager = visitor(team.manager)
    page = manager.get("/feedback").text
    assert 'name="rep_id"' in page and 'name="team_id"' not in page  # a manager's own team
    assert f'value="{team.rep2.id}"' in page and f'value="{team.other_rep.id}"' not in page
    page = manager.get(f"/feedback{RANGE}&rep_id={team.rep2.id}").text
    api = client.get(f"/api/v1/feedback/summary{RANGE}&rep_id={team.rep2.id}",
                     headers=team.headers["manager"]).json
    assert f"<strong>{api['total']}</strong> feedback" in page and api["total"] == 1
    assert items(page, "requested") == ["P2 Gadget: 4 asked for in 1 request"]
    procurement = visitor(team.procurement)
    page = procurement.get("/feedback").text
    assert 'name="team_id"' in page and 'name="rep_id"' in page
    page = procurement.get(f"/feedback{RANGE}&team_id={team.other_manager.team_id}").text
    assert "<strong>1</strong> feedback" in page
    assert items(page, "requested") == ["P3 Gizmo: 100 asked for in 1 request"]
    assert "Corner Store" not in page
    assert 'name="rep_id"' not in visitor(team.rep).get("/feedback").text  # their own only


def test_the_quick_periods_end_today_and_keep_the_rep(visitor, team, feedback):
    from datetime import timedelta

    from fieldsales.targets.periods import utc_today
    today = utc_today()
    page = visitor(team.manager).get(f"/feedback?rep_id={team.rep.id}").text
    week = (f'href="/feedback?from={(today - timedelta(days=6)).isoformat()}'
            f'&amp;to={today.isoformat()}&amp;rep_id={team.rep.id}"')
    assert week in page
    assert re.search(r'aria-current="true" href="[^"]+">Last 30 days', page)


@pytest.mark.parametrize("query, field, status", [
    ("?rep_id=", None, 200),  # "Every rep"
    ("?rep_id=bad%20id!", "rep_id", 422),
    ("?team_id=bad%20id!", "team_id", 422),
])
def test_a_bad_filter_is_shown_by_its_field(visitor, team, feedback, query, field, status):
    response = visitor(team.admin).get("/feedback" + query)
    assert response.status_code == status
    if field:
        assert f'id="{field}-error"' in response.text


def test_another_teams_rep_or_team_is_a_404_page_as_in_the_api(visitor, client, team,
                                                             feedback):
    for query in (f"?rep_id={team.other_rep.id}", f"?team_id={team.other_manager.team_id}"):
        response = visitor(team.manager).get("/feedback" + query)
        assert response.status_code == 404 and response.mimetype == "text/html"
        assert client.get("/api/v1/feedback/summary" + query,
                          headers=team.headers["manager"]).status_code == 404


# --- territories -----------------------------------------------------------------------------
@pytest.fixture
def territories(app, world, team, monkeypatch):
    monkeypatch.setitem(app.config, "REP_VISITS_PER_DAY", 1)
    monkeypatch.setitem(app.config, "TERRITORY_WORKING_DAYS", 10)
    with app.app_context():
        db.session.get(Team, team.manager.team_id).visit_cadence_days = 5
        db.session.commit()
    for n in range(8):
        world.customer(team=team.manager, rep=team.rep, name=f"Rep's {n}", lat=51.5, lon=-0.1)
    for n in range(2):
        world.customer(team=team.manager, rep=team.rep2, name=f"Rep2's {n}", lat=51.6,
                       lon=-0.1)
    world.customer(team=team.other_manager, rep=team.other_rep, name="Theirs", lat=40.0,
                   lon=3.0)


def map_data(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="map-data">(.*?)</script>', page,
                      re.S)
    assert found, "no map on the page"
    return json.loads(found.group(1))


def rep_card(page: str, rep) -> str:
    """One rep's part of the page: up to the next rep's, or the end of the page."""
    start = page.index(f'id="rep-{rep.id}"')
    following = page.find('<li class="territory', start)
    return page[start:following if following > 0 else len(page)]


def test_the_manager_sees_load_bars_and_who_could_take_over(visitor, team, territories):
    response = visitor(team.manager).get("/territories")
    assert response.status_code == 200
    page = response.text
    order = re.findall(r'<li class="territory flag-(\w+)" id="rep-([^"]+)"', page)
    assert order == [("overloaded", team.rep.id), ("underloaded", team.rep2.id)]
    busy, free = rep_card(page, team.rep), rep_card(page, team.rep2)
    assert 'aria-label="Load 160%"' in busy and '<rect class="bar over"' in busy
    assert "16 visits needed of 10 possible" in busy
    assert re.search(rf"{team.rep2.name}: 6 spare visits, 11\.1\d* km away", busy)
    assert 'aria-label="Load 40%"' in free and "Could take over" not in free
    # Bars on a 0-200% scale: 160% fills 80% of the width, 40% a fifth.
    assert 'width="256.0"' in busy and 'width="64.0"' in free


def test_the_map_has_each_reps_customers_in_their_colour(visitor, team, territories):
    page = visitor(team.manager).get("/territories").text
    customers = map_data(page)["customers"]
    by_rep = {}
    for c in customers:
        by_rep.setdefault(c["rep_name"], set()).add(c["colour"])
    assert sorted(c["name"] for c in customers) == sorted(
        [f"Rep's {n}" for n in range(8)] + ["Rep2's 0", "Rep2's 1"])  # not the other team's
    assert by_rep == {team.rep.name: {0}, team.rep2.name: {1}}
    assert 'class="swatch rep-0"' in rep_card(page, team.rep)
    assert "console.js" in page


def test_the_admin_picks_a_team_and_filters_by_load(visitor, team, territories):
    admin = visitor(team.admin)
    page = admin.get(f"/territories?team_id={team.other_manager.team_id}").text
    assert re.findall(r'id="rep-([^"]+)"', page) == [team.other_rep.id]
    assert [c["name"] for c in map_data(page)["customers"]] == ["Theirs"]
    page = admin.get("/territories?flag=overloaded").text
    assert re.findall(r'id="rep-([^"]+)"', page) == [team.rep.id]


def test_a_bad_load_filter_is_shown_by_its_field(visitor, team, territories):
    response = visitor(team.manager).get("/territories?flag=crowded")
    assert response.status_code == 422
    assert '<span class="error" id="flag-error">Must be one of: overloaded, balanced, ' \
           'underloaded.</span>' in response.text
    assert re.findall(r'id="rep-([^"]+)"', response.text) == [team.rep.id, team.rep2.id]


def test_a_manager_asking_for_another_team_gets_a_404_page(visitor, team, territories):
    response = visitor(team.manager).get(f"/territories?team_id={team.other_manager.team_id}")
    assert response.status_code == 404 and "No such team." in response.text


def test_the_menu_offers_each_report_to_whom_its_api_serves(visitor, team):
    def menu(user) -> str:
        page = visitor(user).get("/customers").text
        return page[page.index('<nav aria-label="Main"'):page.index("</nav>")]

    for user in (team.admin, team.manager):
        assert ">Feedback<" in menu(user) and ">Territories<" in menu(user)
    for user in (team.procurement, team.rep):
        assert ">Feedback<" in menu(user) and ">Territories<" not in menu(user)
