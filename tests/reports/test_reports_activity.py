"""A rep's day, Tuesday 2024-03-05, walked north along the meridian at the equator, where
0.001 deg of latitude is 110.57 m. Working hours are 06:00-20:00 UTC.

Pings (lat, lon = 0 unless said):
  05:30 at 0.0               outside working hours: never shown
  08:00 0.0, 08:02 0.0001, 08:04 lon 0.0001, 08:06 0.0   stop 0 (6 min) at customer A (r 100 m)
  08:10 0.001, 08:12 0.002, 08:13 0.5 flagged, 08:14 0.003   the trail
  08:20, 08:23, 08:26 at 0.004                              stop 1 (6 min) at no customer
  08:30, 08:32 at 0.005                                     a 2-minute pause: not a stop
  08:40, 08:45, 08:50 at 0.006                              stop 2 (10 min) at customer B (r 50 m)
  09:00 at 0.007                                            the trail after the last stop
  21:00 at 1.0, 1.0          outside working hours: never shown
Legs: 0->1 four hops 442.3 m (the flagged ping shown, not counted); 1->2 two hops 221.1 m;
2->end one hop 110.6 m. Travel 774.0 m.
Visits: A 08:01 for 4 min verified; B 08:41 for 8 min unverified (80 m out); A 21:30 for
10 min verified (a work record: listed, though no position of it is).
Selling time = verified time on site 240 + 600 s + 30 min for the selling task done away from
a customer = 2640 s; non-selling = 30 min for the admin task = 1800 s; share 0.5946.
Orders: 25 at A (2 x 10 + 5); a cancelled one of 100 is listed but not counted.
"""
import pytest

from tests.factories import at, working_hours

DAY = "2024-03-05"
HOP = 110.574  # metres per 0.001 deg of latitude at the equator


def t(hour, minute=0):
    return at(DAY, hour, minute)


@pytest.fixture
def day(app, world, team):
    rep = team.rep
    working_hours(app, rep.team_id, start="06:00", end="20:00")
    a = world.customer(team=team.manager, rep=rep, name="A", lat=0.0, lon=0.0, radius=100)
    b = world.customer(team=team.manager, rep=rep, name="B", lat=0.006, lon=0.0, radius=50)
    for when, lat, lon, flags in [
        (t(5, 30), 0.0, 0.0, ""),
        (t(8, 0), 0.0, 0.0, ""), (t(8, 2), 0.0001, 0.0, ""), (t(8, 4), 0.0, 0.0001, ""),
        (t(8, 6), 0.0, 0.0, ""),
        (t(8, 10), 0.001, 0.0, ""), (t(8, 12), 0.002, 0.0, ""),
        (t(8, 13), 0.5, 0.0, "implausible_speed"), (t(8, 14), 0.003, 0.0, ""),
        (t(8, 20), 0.004, 0.0, ""), (t(8, 23), 0.004, 0.0, ""), (t(8, 26), 0.004, 0.0, ""),
        (t(8, 30), 0.005, 0.0, ""), (t(8, 32), 0.005, 0.0, ""),
        (t(8, 40), 0.006, 0.0, ""), (t(8, 45), 0.006, 0.0, ""), (t(8, 50), 0.006, 0.0, ""),
        (t(9, 0), 0.007, 0.0, ""),
        (t(21, 0), 1.0, 1.0, ""),
    ]:
        world.ping(rep=rep, at=when, lat=lat, lon=lon, flags=flags)
    world.ping(rep=team.rep2, at=t(8, 0), lat=0.0, lon=0.0)
    ids = {"a": a, "b": b}
    ids["visit_a"] = world.visit(rep=rep, customer=a, at=t(8, 1), minutes=4, distance_m=5)
    ids["visit_b"] = world.visit(rep=rep, customer=b, at=t(8, 41), minutes=8, verified=False,
                                 distance_m=80)
    world.visit(rep=rep, customer=a, at=t(21, 30), minutes=10)
    world.visit(rep=rep, customer=a, at=at("2024-03-04", 9))  # the day before
    product = world.product(sku="P")
    world.order(rep=rep, customer=a, at=t(8, 4), lines=[(product, 2, 10), (product, 1, 5)],
                visit_id=ids["visit_a"])
    world.order(rep=rep, customer=b, at=t(12), lines=[(product, 10, 10)], status="cancelled")
    world.task(rep=rep, title="Call", category="selling", completed_at=t(10))
    world.task(rep=rep, title="Report", category="admin", completed_at=t(11))
    world.task(rep=rep, title="Shelf check", customer=a, completed_at=t(8, 5))
    world.task(rep=rep, title="Open", status="open")
    world.task(rep=rep, title="Yesterday", completed_at=at("2024-03-04", 10))
    world.feedback(rep=rep, customer=b, at=t(8, 45), rating=4, comment="Nice")
    return ids


def get_day(client, headers, rep_id, query=f"date={DAY}"):
    return client.get(f"/api/v1/reps/{rep_id}/activity?{query}", headers=headers)


def test_stops_are_found_and_named_by_customer(client, team, day):
    body = get_day(client, team.headers["manager"], team.rep.id).json
    stops = body["stops"]
    assert [(s["started_at"], s["ended_at"]) for s in stops] == [
        (t(8, 0), t(8, 6)), (t(8, 20), t(8, 26)), (t(8, 40), t(8, 50))]
    assert [s["duration_s"] for s in stops] == [360, 360, 600]
    assert [s["customer"]["name"] if s["customer"] else None for s in stops] == ["A", None, "B"]
    assert stops[0]["visit_id"] == day["visit_a"] and stops[2]["visit_id"] == day["visit_b"]
    assert stops[1]["visit_id"] is None
    assert stops[2]["customer"]["distance_m"] == pytest.approx(0, abs=0.5)
    assert stops[0]["pings"] == 4 and stops[0]["flagged_pings"] == 0


def test_the_trail_counts_travel_over_unflagged_pings_only(client, team, day):
    body = get_day(client, team.headers["manager"], team.rep.id).json
    legs = body["trail"]
    assert [(leg["from_stop"], leg["to_stop"]) for leg in legs] == [(0, 1), (1, 2), (2, None)]
    assert [leg["distance_m"] for leg in legs] == pytest.approx([4 * HOP, 2 * HOP, HOP], abs=0.5)
    first = legs[0]["pings"]
    assert [p["recorded_at"] for p in first] == [t(8, 10), t(8, 12), t(8, 13), t(8, 14)]
    assert [p["flagged"] for p in first] == [False, False, True, False]
    assert first[2]["flags"] == ["implausible_speed"]
    assert body["summary"]["travel_distance_m"] == pytest.approx(7 * HOP, abs=0.5)


def test_positions_outside_working_hours_are_never_shown(client, team, day):
    body = get_day(client, team.headers["manager"], team.rep.id).json
    times = [p["recorded_at"] for leg in body["trail"] for p in leg["pings"]]
    times += [s["started_at"] for s in body["stops"]] + [s["ended_at"] for s in body["stops"]]
    assert all(t(6) <= when < t(20) for when in times)
    assert body["summary"]["pings"] == 17 and body["summary"]["flagged_pings"] == 1
    assert body["working_hours"] == {"start_ms": t(6), "end_ms": t(20)}
    assert "1.0" not in str([leg["pings"] for leg in body["trail"]])


def test_the_work_of_the_day_and_its_summary(client, team, day):
    body = get_day(client, team.headers["manager"], team.rep.id).json
    visits = body["visits"]
    assert [(v["customer"]["name"], v["verified"], v["distance_m"], v["time_on_site_s"])
            for v in visits] == [("A", True, 5, 240), ("B", False, 80, 480), ("A", True, 10, 600)]
    assert [task["title"] for task in body["tasks_done"]] == ["Shelf check", "Call", "Report"]
    assert [(o["value"], o["status"], o["lines"]) for o in body["orders"]] == [
        (25, "open", 2), (100, "cancelled", 1)]
    assert [(f["customer"]["name"], f["rating"]) for f in body["feedback"]] == [("B", 4)]
    s = body["summary"]
    assert (s["visits"], s["verified_visits"], s["time_on_site_s"]) == (3, 2, 1320)
    assert (s["selling_time_s"], s["non_selling_time_s"]) == (2640, 1800)
    assert s["selling_share"] == pytest.approx(2640 / 4440, abs=1e-4)
    assert (s["stops"], s["stops_at_customers"]) == (3, 2)
    assert (s["orders"], s["order_value"], s["tasks_done"], s["feedback"]) == (1, 25, 3, 1)
    assert s["first_activity_at"] == t(8, 0)
    assert s["last_activity_at"] == t(21, 40)


def test_an_empty_day(client, team, day):
    body = get_day(client, team.headers["rep2"], team.rep2.id, "date=2024-03-06").json
    assert body["visits"] == body["stops"] == body["trail"] == []
    assert body["summary"]["first_activity_at"] is None
    assert body["summary"]["selling_share"] is None


def test_who_may_see_a_reps_day(client, team, day):
    assert get_day(client, team.headers["manager"], team.rep.id).status_code == 200
    assert get_day(client, team.headers["admin"], team.rep.id).status_code == 200
    assert get_day(client, team.headers["rep"], team.rep.id).status_code == 200
    assert get_day(client, team.headers["other_manager"], team.rep.id).status_code == 404
    assert get_day(client, team.headers["rep"], team.rep2.id).status_code == 404
    assert get_day(client, team.headers["manager"], team.manager.id).status_code == 404
    assert get_day(client, team.headers["manager"], "nobody").status_code == 404
    refused = get_day(client, team.headers["procurement"], team.rep.id)
    assert refused.status_code == 403 and refused.json["error"]["code"] == "forbidden"
    assert get_day(client, team.headers["manager"], team.rep.id,
                   "date=2024-13-01").status_code == 422


def test_a_stop_at_a_customer_the_viewer_cannot_see_names_nobody(client, world, team, day):
    # Stop 1 (08:20-08:26 at 0.004) lies in the geofence of another team's customer.
    hidden = world.customer(rep=team.other_rep, name="Other team's secret", lat=0.004, lon=0.0,
                            radius=100)
    for viewer in ("manager", "rep"):
        body = get_day(client, team.headers[viewer], team.rep.id).json
        stop = body["stops"][1]
        assert stop["customer"] is None, viewer
        assert (stop["latitude"], stop["longitude"]) == pytest.approx((0.004, 0.0))
        assert hidden not in str(body) and "secret" not in str(body), viewer
        assert body["summary"]["stops_at_customers"] == 2
    # An admin sees every customer, so the stop is named.
    admin = get_day(client, team.headers["admin"], team.rep.id).json
    assert admin["stops"][1]["customer"]["id"] == hidden
    assert admin["summary"]["stops_at_customers"] == 3


def test_a_stop_is_named_after_the_nearest_customer_the_viewer_can_see(client, world, team,
                                                                        day):
    # Another team's customer sits right on stop 0's centre (A is 3.9 m away): A is named.
    world.customer(rep=team.other_rep, name="Nearer but hidden", lat=0.000025, lon=0.000025,
                   radius=30)
    stops = get_day(client, team.headers["manager"], team.rep.id).json["stops"]
    assert [s["customer"]["name"] if s["customer"] else None for s in stops] == ["A", None, "B"]
