"""Territory balance, with capacity set small so a handful of customers tells the story.

Capacity: 1 visit a day over 10 working days = 10 visits per rep. The team's cadence is every
5 days, so a customer needs 10 / 5 = 2 visits (one with its own cadence of 10 days needs 1).
- rep: 8 customers (6 accounts, 2 prospects; one on a 10-day cadence) near (51.5, -0.1):
  7 x 2 + 1 = 15 needed, load 1.5 -> overloaded;
- rep2: 2 customers near (51.6, -0.1), 11.1 km north: 4 needed, load 0.4 -> underloaded;
- rep3: 5 customers: 10 needed, load 1.0 -> balanced, no spare visits;
- rep4: no customers: load 0, no centroid;
- rep5: 1 customer at (51.5, 0.0), 6.9 km east: load 0.2.
Takeover candidates for rep: rep5 (6.9 km), rep2 (11.1 km), rep4 (no centroid).
Revenue (90 days): rep 2 x 50 = 100 (an order 100 days old and a cancelled one do not count);
rep2 30, from an order the rep took at rep2's customer.
"""
import pytest

from fieldsales.common import DAY_MS, now_ms
from fieldsales.extensions import db
from fieldsales.users.models import Team


@pytest.fixture
def small_capacity(app, monkeypatch):
    monkeypatch.setitem(app.config, "REP_VISITS_PER_DAY", 1)
    monkeypatch.setitem(app.config, "TERRITORY_WORKING_DAYS", 10)


@pytest.fixture
def territories(app, world, team, make_user, login, small_capacity):
    with app.app_context():
        db.session.get(Team, team.manager.team_id).visit_cadence_days = 5
        db.session.commit()
    m = team.manager
    reps = {"rep": team.rep, "rep2": team.rep2}
    for name in ("rep3", "rep4", "rep5"):
        reps[name] = make_user("rep", manager=m, name=name)
    customers = [world.customer(team=m, rep=team.rep, name=f"R{i}", lat=51.5, lon=-0.1,
                                kind="account" if i < 6 else "prospect",
                                visit_cadence_days=10 if i == 0 else None) for i in range(8)]
    world.customer(team=m, rep=team.rep, name="Gone", lat=51.5, lon=-0.1, deleted_at=1)
    theirs = [world.customer(team=m, rep=team.rep2, lat=51.6, lon=-0.1) for _ in range(2)]
    for _ in range(5):
        world.customer(team=m, rep=reps["rep3"], lat=51.55, lon=-0.2)
    world.customer(team=m, rep=reps["rep5"], lat=51.5, lon=0.0)
    world.customer(team=team.other_manager, rep=team.other_rep, lat=51.5, lon=-0.1)
    product = world.product(sku="P")
    now = now_ms()
    world.order(rep=team.rep, customer=customers[0], at=now - 20 * DAY_MS,
                lines=[(product, 2, 50)])
    world.order(rep=team.rep, customer=customers[1], at=now - 100 * DAY_MS,
                lines=[(product, 10, 50)])
    world.order(rep=team.rep, customer=customers[1], at=now - DAY_MS,
                lines=[(product, 20, 50)], status="cancelled")
    world.order(rep=team.rep, customer=theirs[0], at=now - DAY_MS, lines=[(product, 3, 10)])
    reps["headers"] = login(team.manager)
    return reps


def balance(client, headers, query=""):
    response = client.get(f"/api/v1/territories/balance?{query}", headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def test_each_rep_load_and_flag(client, team, territories):
    rows = {row["rep_name"]: row for row in balance(client, team.headers["manager"])["items"]}
    rep, rep2 = rows[team.rep.name], rows[team.rep2.name]
    assert (rep["customers"], rep["accounts"], rep["prospects"]) == (8, 6, 2)
    assert rep["visits_needed"] == 15 and rep["visits_possible"] == 10
    assert rep["load"] == 1.5 and rep["flag"] == "overloaded"
    assert rep["revenue_90d"] == 100 and rep2["revenue_90d"] == 30
    assert (rep2["visits_needed"], rep2["load"], rep2["flag"]) == (4, 0.4, "underloaded")
    assert (rows["rep3"]["load"], rows["rep3"]["flag"]) == (1.0, "balanced")
    assert rows["rep4"]["customers"] == 0 and rows["rep4"]["centroid"] is None
    assert rows["rep5"]["flag"] == "underloaded"
    assert set(rows) == {team.rep.name, team.rep2.name, "rep3", "rep4", "rep5"}


def test_overloaded_reps_get_the_nearest_teammates_with_spare_visits(client, team, territories):
    rows = {row["rep_name"]: row for row in balance(client, team.headers["manager"])["items"]}
    candidates = rows[team.rep.name]["takeover_candidates"]
    assert [c["rep_name"] for c in candidates] == ["rep5", team.rep2.name, "rep4"]
    assert candidates[0]["distance_km"] == pytest.approx(6.9, abs=0.2)
    assert candidates[1]["distance_km"] == pytest.approx(11.1, abs=0.2)
    assert candidates[2]["distance_km"] is None
    assert [c["spare_visits"] for c in candidates] == [8, 6, 10]
    assert all(row["takeover_candidates"] == [] for name, row in rows.items()
               if name != team.rep.name)


def test_sorted_most_loaded_first_filterable_and_exportable(client, team, territories):
    items = balance(client, team.headers["manager"])["items"]
    assert [row["load"] for row in items] == sorted((row["load"] for row in items), reverse=True)
    over = balance(client, team.headers["manager"], "flag=overloaded")["items"]
    assert [row["rep_id"] for row in over] == [team.rep.id]
    csv_text = client.get("/api/v1/territories/balance?format=csv",
                          headers=team.headers["manager"]).get_data(as_text=True)
    lines = csv_text.strip().split("\r\n")
    assert lines[0].split(",")[:3] == ["rep_id", "rep_name", "team_id"]
    assert "centroid.latitude" in lines[0]
    assert [line.split(",")[0] for line in lines[1:]] == [row["rep_id"] for row in items]


def test_scope(client, team, territories):
    admin = balance(client, team.headers["admin"])["items"]
    assert team.other_rep.id in {row["rep_id"] for row in admin}
    theirs = balance(client, team.headers["admin"], f"team_id={team.other_manager.team_id}")
    assert [row["rep_id"] for row in theirs["items"]] == [team.other_rep.id]
    assert client.get(f"/api/v1/territories/balance?team_id={team.other_manager.team_id}",
                      headers=team.headers["manager"]).status_code == 404
    for role in ("rep", "procurement"):
        assert client.get("/api/v1/territories/balance",
                          headers=team.headers[role]).status_code == 403
