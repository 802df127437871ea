"""A rep's own data (privacy/export.py): everything of theirs, nothing of anyone else's, as a
zip of CSV files or as JSON, streamed."""
import csv
import io
import json
import zipfile

import pytest

from fieldsales.locations.models import PositionView
from fieldsales.plans.models import PlannedVisit
from tests.factories import at

DAY = "2026-11-10"
EXPORT = "/api/v1/users/me/export"
FILES = ("account", "visits", "location_pings", "orders", "order_lines", "feedback", "tasks",
         "planned_visits", "position_views")


def field_day(world, team, rep):
    """What a rep leaves behind in a day; the ids of it, per kind."""
    shop = world.customer(team=team.manager, name="Shop")
    product = world.product(price=4.5)
    order = world.order(rep=rep, customer=shop, at=at(DAY, 9, 45), lines=[(product, 2, 4.5)],
                        notes="=HYPERLINK(\"http://evil\")")
    return {
        "account": {rep.id},
        "visits": {world.visit(rep=rep, customer=shop, at=at(DAY, 9, 30), notes="Fine")},
        "location_pings": {world.ping(rep=rep, at=at(DAY, 9 + n)) for n in range(3)},
        "orders": {order},
        "order_lines": {line for line in order.lines},
        "feedback": {world.feedback(rep=rep, customer=shop, at=at(DAY, 9, 40), rating=5)},
        "tasks": {world.task(rep=rep, completed_at=at(DAY, 11), completion_note="ok")},
        "planned_visits": {world.add(PlannedVisit, rep_id=rep.id, customer_id=shop,
                                     planned_date=DAY, sequence=1)},
    }


@pytest.fixture
def days(world, team):
    mine = field_day(world, team, team.rep)
    field_day(world, team, team.rep2)
    field_day(world, team, team.other_rep)
    world.add(PositionView, rep_id=team.rep.id, viewer_id=team.manager.id, what="activity",
              detail=DAY)
    world.add(PositionView, rep_id=team.rep2.id, viewer_id=team.manager.id, what="activity")
    return mine


def unzip(response) -> dict[str, list[dict]]:
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert sorted(archive.namelist()) == sorted(f"{name}.csv" for name in FILES)
    return {name[:-4]: list(csv.DictReader(io.TextIOWrapper(archive.open(name),
                                                            encoding="utf-8")))
            for name in archive.namelist()}


def test_the_zip_holds_everything_of_the_reps_and_nothing_of_anyone_elses(client, team, days):
    response = client.get(EXPORT, headers=team.headers["rep"])

    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    tables = unzip(response)
    for kind, ids in days.items():
        assert {row["id"] for row in tables[kind]} == ids, kind
    assert tables["account"][0]["email"] == team.rep.email
    assert [(v["what"], v["viewer_id"], v["detail"]) for v in tables["position_views"]] == [
        ("activity", team.manager.id, DAY)]
    # The CSV exports' formula guard holds here too.
    assert tables["orders"][0]["notes"] == "'=HYPERLINK(\"http://evil\")"


def test_the_json_holds_the_same(client, team, days):
    response = client.get(EXPORT, query_string={"format": "json"}, headers=team.headers["rep"])

    assert response.status_code == 200 and response.mimetype == "application/json"
    body = json.loads(response.data)
    assert list(body) == list(FILES)
    for kind, ids in days.items():
        assert {row["id"] for row in body[kind]} == ids, kind
    assert body["order_lines"][0]["unit_price"] == 4.5  # numbers stay numbers
    assert body["position_views"][0]["viewer_id"] == team.manager.id


@pytest.mark.parametrize("format", ["zip", "json"])
def test_the_export_is_streamed_chunk_by_chunk(client, team, days, format):
    response = client.get(EXPORT, query_string={"format": format},
                          headers=team.headers["rep"], buffered=False)

    assert "Content-Length" not in response.headers
    chunks = [chunk for chunk in response.response if chunk]
    assert len(chunks) >= len(FILES)  # at least one per kind, never the whole at once
    response.close()


def test_a_manager_exports_their_own_data_not_their_reps(client, team, days):
    tables = unzip(client.get(EXPORT, headers=team.headers["manager"]))

    assert [row["id"] for row in tables["account"]] == [team.manager.id]
    assert all(not tables[kind] for kind in FILES if kind != "account")


def test_an_unknown_format_is_422(client, team):
    response = client.get(EXPORT, query_string={"format": "xml"}, headers=team.headers["rep"])

    assert response.status_code == 422
    assert "format" in response.json["error"]["details"]
