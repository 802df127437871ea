"""Duplicate customers and merging, on a handful of customers placed by hand.

The manager's team:
- A "Joe's Market" and B "Joes Market Ltd" 111 m apart: alike names nearby -> a pair;
- C "Joe's Market" 1.1 km north of A: too far, no pair;
- D "Corner Bakery" 14 m from A: names unlike, no pair;
- E "Totally Different" far away but with A's phone written differently -> a pair;
- G "@Bean Cafe" and H "Bean Café" 2 m apart across a grid-cell border -> a pair;
- a removed "Joe's Market" next to A never pairs.
The other team has X "Joe's Market" 22 m from A: only admins see the pairs A-X and B-X.
"""
import csv
import io

import pytest

from fieldsales.customers.models import Customer
from fieldsales.orders.models import Order
from fieldsales.visits.models import Visit
from tests.factories import at


@pytest.fixture
def dupes(world, team):
    m, rep = team.manager, team.rep
    ids = {
        "A": world.customer(team=m, rep=rep, name="Joe's Market", lat=51.5, lon=-0.1,
                            phone="+44 20 7946 0001", kind="prospect"),
        "B": world.customer(team=m, rep=team.rep2, name="Joes Market Ltd", lat=51.501, lon=-0.1,
                            address="1 High St", kind="account"),
        "C": world.customer(team=m, rep=rep, name="Joe's Market", lat=51.51, lon=-0.1),
        "D": world.customer(team=m, rep=rep, name="Corner Bakery", lat=51.5001, lon=-0.1001),
        "E": world.customer(team=m, rep=rep, name="Totally Different", lat=52.0, lon=0.0,
                            phone="+44 (20) 7946-0001"),
        "G": world.customer(team=m, rep=rep, name="@Bean Cafe", lat=51.50199, lon=-0.05),
        "H": world.customer(team=m, rep=rep, name="Bean Café", lat=51.50201, lon=-0.05),
        "X": world.customer(team=team.other_manager, rep=team.other_rep, name="Joe's Market",
                            lat=51.5002, lon=-0.1),
    }
    world.customer(team=m, rep=rep, name="Joe's Market", lat=51.50001, lon=-0.1, deleted_at=1)
    for hour in (9, 11):
        world.visit(rep=rep, customer=ids["A"], at=at("2024-03-04", hour))
    world.order(rep=rep, customer=ids["A"], at=at("2024-03-04", 9), lines=[])
    ids["b_visit"] = world.visit(rep=team.rep2, customer=ids["B"], at=at("2024-03-05", 9))
    ids["b_order"] = world.order(rep=team.rep2, customer=ids["B"], at=at("2024-03-05", 9),
                                 lines=[])
    ids["b_task"] = world.task(rep=team.rep2, customer=ids["B"], status="open")
    ids["b_feedback"] = world.feedback(rep=team.rep2, customer=ids["B"], at=at("2024-03-05", 9),
                                       rating=2)
    return ids


def pairs(client, headers, query=""):
    response = client.get(f"/api/v1/customers/duplicates?{query}", headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def as_names(items, ids):
    names = {v: k for k, v in ids.items()}
    return {frozenset((names[p["customer"]["id"]], names[p["duplicate"]["id"]])): p
            for p in items}


def test_pairs_are_same_phones_or_alike_names_nearby(client, team, dupes):
    found = as_names(pairs(client, team.headers["manager"])["items"], dupes)
    assert set(found) == {frozenset("AB"), frozenset("AE"), frozenset("GH")}
    ab, ae, gh = found[frozenset("AB")], found[frozenset("AE")], found[frozenset("GH")]
    assert ab["reasons"] == ["similar_name_nearby"] and ab["name_similarity"] == 1.0
    assert ab["distance_m"] == pytest.approx(111.3, abs=1)
    assert ae["reasons"] == ["same_phone"] and ae["distance_m"] > 50_000
    assert gh["reasons"] == ["similar_name_nearby"] and gh["distance_m"] < 5
    # A has two visits and an order, B one of each: keep A.
    assert ab["suggested_into_id"] == dupes["A"]
    sides = {ab["customer"]["id"]: ab["customer"], ab["duplicate"]["id"]: ab["duplicate"]}
    assert sides[dupes["A"]]["activity"] == 3 and sides[dupes["B"]]["activity"] == 2


def test_sorting_filtering_and_paging_the_pairs(client, team, dupes):
    by_similarity = pairs(client, team.headers["manager"])["items"]
    assert [p["name_similarity"] for p in by_similarity][-1] < 0.5  # A-E last
    nearest_first = pairs(client, team.headers["manager"], "sort=distance_m")["items"]
    assert list(as_names(nearest_first, dupes)) == [frozenset("GH"), frozenset("AB"),
                                                    frozenset("AE")]
    phones = pairs(client, team.headers["manager"], "reason=same_phone")["items"]
    assert list(as_names(phones, dupes)) == [frozenset("AE")]
    walked, cursor = [], ""
    while True:
        page = pairs(client, team.headers["manager"], f"limit=1&sort=distance_m{cursor}")
        walked += [p["id"] for p in page["items"]]
        if not page["next_cursor"]:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert walked == [p["id"] for p in nearest_first]


def test_csv_equals_the_json_list_and_defuses_formulas(client, team, dupes):
    items = pairs(client, team.headers["manager"], "sort=distance_m")["items"]
    response = client.get("/api/v1/customers/duplicates?sort=distance_m&format=csv",
                          headers=team.headers["manager"])
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [row["id"] for row in rows] == [p["id"] for p in items]
    assert [float(row["distance_m"]) for row in rows] == [p["distance_m"] for p in items]
    assert [row["customer.name"] for row in rows] == [
        "'" + p["customer"]["name"] if p["customer"]["name"].startswith("@")
        else p["customer"]["name"] for p in items]
    assert "'@Bean Cafe" in {rows[0]["customer.name"], rows[0]["duplicate.name"]}
    assert rows[0]["reasons"] == '["similar_name_nearby"]'


def test_scope_admins_see_across_teams_others_are_refused(client, team, dupes):
    admin = as_names(pairs(client, team.headers["admin"])["items"], dupes)
    assert {frozenset("AX"), frozenset("BX")} <= set(admin)
    only_theirs = pairs(client, team.headers["admin"], f"team_id={team.other_manager.team_id}")
    assert only_theirs["items"] == []
    assert pairs(client, team.headers["other_manager"])["items"] == []
    assert client.get(f"/api/v1/customers/duplicates?team_id={team.other_manager.team_id}",
                      headers=team.headers["manager"]).status_code == 404
    for role in ("rep", "procurement"):
        assert client.get("/api/v1/customers/duplicates",
                          headers=team.headers[role]).status_code == 403


def test_merge_moves_everything_and_leaves_a_stamped_tombstone(client, team, world, dupes):
    before = world.get(Customer, dupes["B"]).changed_seq
    response = client.post(f"/api/v1/customers/{dupes['B']}/merge", json={"into_id": dupes["A"]},
                           headers=team.headers["manager"])
    assert response.status_code == 200, response.json
    assert response.json["moved"] == {"visits": 1, "orders": 1, "tasks": 1, "feedback": 1}
    assert response.json["kept"]["kind"] == "account"  # B was an account
    merged = world.get(Customer, dupes["B"])
    assert merged.deleted_at is not None and merged.merged_into_id == dupes["A"]
    assert merged.changed_seq > before
    kept = world.get(Customer, dupes["A"])
    assert kept.address == "1 High St" and kept.phone == "+44 20 7946 0001"
    visit, order = world.get(Visit, dupes["b_visit"]), world.get(Order, dupes["b_order"])
    assert visit.customer_id == order.customer_id == dupes["A"]
    # One transaction, one stamp: phones pull the moved rows with the tombstone.
    assert visit.changed_seq == order.changed_seq == merged.changed_seq
    # The tombstone is gone from lists and from the duplicates.
    found = as_names(pairs(client, team.headers["manager"])["items"], dupes)
    assert frozenset("AB") not in found
    again = client.post(f"/api/v1/customers/{dupes['B']}/merge", json={"into_id": dupes["A"]},
                        headers=team.headers["manager"])
    assert again.status_code == 404


def test_merge_is_refused_outside_the_callers_team_and_into_itself(client, team, dupes):
    def merge(role, source, into):
        return client.post(f"/api/v1/customers/{dupes[source]}/merge",
                           json={"into_id": dupes[into]}, headers=team.headers[role])

    assert merge("other_manager", "B", "A").status_code == 404
    assert merge("manager", "B", "X").status_code == 422
    assert merge("manager", "X", "A").status_code == 404
    assert merge("manager", "A", "A").status_code == 422
    assert merge("rep", "B", "A").status_code == 403
    assert merge("procurement", "B", "A").status_code == 403
    assert client.post(f"/api/v1/customers/{dupes['B']}/merge", json={},
                       headers=team.headers["manager"]).status_code == 422
    assert merge("admin", "X", "A").status_code == 200


def test_phones_pull_the_merge_as_a_deletion_and_the_moved_rows(client, team, world, dupes):
    from fieldsales.common import now_ms
    recent = world.visit(rep=team.rep2, customer=dupes["B"], at=now_ms() - 3_600_000)

    def pull(since):
        response = client.get("/api/v1/sync", query_string={"last_pulled_at": since},
                              headers={**team.headers["rep2"], "X-Device-Id": "phone-2"})
        assert response.status_code == 200, response.json
        return response.json

    first = pull("null")
    assert dupes["B"] in {c["id"] for c in first["changes"]["customers"]["created"]}
    merged = client.post(f"/api/v1/customers/{dupes['B']}/merge", json={"into_id": dupes["A"]},
                         headers=team.headers["manager"])
    assert merged.status_code == 200
    after = pull(first["timestamp"])["changes"]
    assert dupes["B"] in after["customers"]["deleted"]
    moved = {v["id"]: v for kind in ("created", "updated") for v in after["visits"][kind]}
    assert moved[recent]["customer_id"] == dupes["A"]
