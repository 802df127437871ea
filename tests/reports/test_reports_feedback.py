"""Feedback summary over the two weeks from Monday 2024-03-04, counted by hand.

In range for the manager's team (rep unless noted):
 1. 03-04 product P1 rated 5 at A       6. 03-12 price rated 2 at A
 2. 03-05 product P1 rated 4 at B       7. 03-13 product P2 asks 10, unrated, at B
 3. 03-06 product P2 rated 4 at A       8. 03-14 product P3 asks 5, rated 3, at A
 4. 03-06 delivery rated 1 at C         9. rep2 03-15 product P2 asks 4, rated 5, at B
 5. 03-12 delivery rated 2 at C
Out of the manager's view: other_rep's P3 asking 100 rated 1; rep's 03-18 complaint (after
the range); a removed complaint.
"""
import pytest

from tests.factories import at

RANGE = "from=2024-03-04&to=2024-03-17"


@pytest.fixture
def feedback_world(world, team):
    a = world.customer(team=team.manager, rep=team.rep, name="A")
    b = world.customer(team=team.manager, rep=team.rep, name="B")
    c = world.customer(team=team.manager, rep=team.rep, name="C")
    o = world.customer(team=team.other_manager, rep=team.other_rep, name="O")
    p1, p2, p3 = (world.product(sku=sku) for sku in ("P1", "P2", "P3"))
    rep, rep2 = team.rep, team.rep2
    world.feedback(rep=rep, customer=a, at=at("2024-03-04", 9), product=p1, rating=5)
    world.feedback(rep=rep, customer=b, at=at("2024-03-05", 9), product=p1, rating=4)
    world.feedback(rep=rep, customer=a, at=at("2024-03-06", 9), product=p2, rating=4)
    world.feedback(rep=rep, customer=c, at=at("2024-03-06", 10), category="delivery", rating=1)
    world.feedback(rep=rep, customer=c, at=at("2024-03-12", 9), category="delivery", rating=2)
    world.feedback(rep=rep, customer=a, at=at("2024-03-12", 10), category="price", rating=2)
    world.feedback(rep=rep, customer=b, at=at("2024-03-13", 9), product=p2, requested_quantity=10)
    world.feedback(rep=rep, customer=a, at=at("2024-03-14", 9), product=p3, requested_quantity=5,
                   rating=3)
    world.feedback(rep=rep2, customer=b, at=at("2024-03-15", 9), product=p2, requested_quantity=4,
                   rating=5)
    world.feedback(rep=team.other_rep, customer=o, at=at("2024-03-15", 9), product=p3,
                   requested_quantity=100, rating=1)
    world.feedback(rep=rep, customer=c, at=at("2024-03-18", 9), category="delivery", rating=1)
    from fieldsales.feedback.models import Feedback
    world.add(Feedback, rep_id=rep.id, customer_id=a, recorded_at=at("2024-03-07", 9),
              category="service", rating=1, deleted_at=1)
    return {"a": a, "b": b, "c": c, "p1": p1, "p2": p2, "p3": p3}


def summary(client, headers, query=RANGE):
    response = client.get(f"/api/v1/feedback/summary?{query}", headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def test_manager_sees_the_summary_of_their_team(client, team, feedback_world):
    s = summary(client, team.headers["manager"])
    assert s["total"] == 9 and s["average_rating"] == 3.25
    assert s["by_category"] == [
        {"category": "product", "count": 6, "rated": 5, "average_rating": 4.2},
        {"category": "delivery", "count": 2, "rated": 2, "average_rating": 1.5},
        {"category": "price", "count": 1, "rated": 1, "average_rating": 2.0},
    ]
    assert s["rating_trend"] == [
        {"week_start_ms": at("2024-03-04"), "rated": 4, "average_rating": 3.5},
        {"week_start_ms": at("2024-03-11"), "rated": 4, "average_rating": 3.0},
    ]
    assert [(p["sku"], p["requested_quantity"], p["requests"])
            for p in s["most_requested_products"]] == [("P2", 14.0, 2), ("P3", 5.0, 1)]
    assert [(p["sku"], p["praises"], p["average_rating"])
            for p in s["most_praised_products"]] == [("P1", 2, 4.5), ("P2", 2, 4.5)]
    assert s["repeated_complaints"] == [{
        "customer_id": feedback_world["c"], "name": "C", "complaints": 2, "lowest_rating": 1,
        "last_complaint_at": at("2024-03-12", 9)}]


def test_each_role_sees_its_own_scope(client, team, feedback_world):
    assert summary(client, team.headers["rep"])["total"] == 8
    assert summary(client, team.headers["rep2"])["total"] == 1
    admin = summary(client, team.headers["admin"])
    assert admin["total"] == 10
    assert admin["most_requested_products"][0]["sku"] == "P3"
    assert admin["most_requested_products"][0]["requested_quantity"] == 105
    assert summary(client, team.headers["procurement"])["total"] == 10
    assert summary(client, team.headers["other_manager"])["total"] == 1
    narrowed = summary(client, team.headers["admin"],
                       f"{RANGE}&team_id={team.manager.team_id}&rep_id={team.rep2.id}")
    assert narrowed["total"] == 1


def test_out_of_scope_teams_and_reps_are_not_found(client, team, feedback_world):
    for role, query in [("manager", f"team_id={team.other_manager.team_id}"),
                        ("manager", f"rep_id={team.other_rep.id}"),
                        ("rep", f"rep_id={team.rep2.id}")]:
        response = client.get(f"/api/v1/feedback/summary?{RANGE}&{query}",
                              headers=team.headers[role])
        assert response.status_code == 404, (role, query)


def test_the_range_is_inclusive_and_checked(client, team, feedback_world):
    assert summary(client, team.headers["manager"],
                   "from=2024-03-18&to=2024-03-18")["repeated_complaints"] == []
    assert summary(client, team.headers["manager"], "from=2024-03-18&to=2024-03-18")["total"] == 1
    backwards = client.get("/api/v1/feedback/summary?from=2024-03-18&to=2024-03-01",
                           headers=team.headers["manager"])
    assert backwards.status_code == 422
    assert summary(client, team.headers["manager"], "")["total"] == 0  # the last 30 days
