"""Facts the server computes on ingest: visit verification (push rule 6), ping flags (rule 7)."""
import pytest
from geographiclib.geodesic import Geodesic
from geopy.distance import geodesic

from fieldsales.common import DAY_MS, now_ms
from fieldsales.geo import geodesic_short_m
from fieldsales.locations.models import LocationPing
from fieldsales.visits.models import Visit
from tests.factories import changes, ping_record, stored, visit_record

KIOSK = (52.52, 13.405)  # world.customer, geofence radius 100 m


def east_of(point, metres):
    result = Geodesic.WGS84.Direct(point[0], point[1], 90, metres)
    return result["lat2"], result["lon2"]


def push_visit(phone, app, customer, metres, accuracy, **overrides):
    lat, lng = east_of(KIOSK, metres)
    record = visit_record(customer, check_in_latitude=lat, check_in_longitude=lng,
                   check_in_accuracy_m=accuracy, **overrides)
    assert phone.push(changes(visits={"created": [record]}))["quarantined"] == []
    return stored(app, Visit, id=record["id"])[0]


# -- visits -------------------------------------------------------------------------------------

@pytest.mark.parametrize("metres, accuracy, verified", [
    (0, 5, True),
    (80, 10, True),
    (99.9, None, True),  # inside the fence, no accuracy reported
    (120, None, False),
    (150, 60, True),  # within radius + accuracy
    (150, 40, False),
    (190, 5000, True),  # accuracy counted up to the 100 m cap
    (250, 5000, False),
])
def test_a_visit_is_verified_within_the_geofence_plus_capped_accuracy(world, app, phone, metres,
                                                                      accuracy, verified):
    row = push_visit(phone, app, world.customer, metres, accuracy)
    assert row["verified"] is verified
    assert row["distance_m"] == pytest.approx(metres, abs=0.01)


def test_the_distance_is_the_geodesic_distance_to_the_customer(world, app, phone):
    record = visit_record(world.customer, check_in_latitude=52.5262, check_in_longitude=13.4101)
    phone.push(changes(visits={"created": [record]}))
    expected = geodesic((52.5262, 13.4101), KIOSK).meters
    assert stored(app, Visit)[0]["distance_m"] == pytest.approx(expected, rel=1e-12)


def test_the_accuracy_cap_is_configurable(world, app, phone, monkeypatch):
    monkeypatch.setitem(app.config, "GEOFENCE_ACCURACY_CAP_M", 20)
    assert push_visit(phone, app, world.customer, 150, 60)["verified"] is False
    assert push_visit(phone, app, world.customer, 115, 60)["verified"] is True


def test_time_on_site_runs_from_check_in_to_check_out(world, app, phone):
    start = now_ms() - 7_200_000
    assert push_visit(phone, app, world.customer, 0, 5, check_in_at=start,
                      check_out_at=start + 1_530_000)["time_on_site_s"] == 1530
    assert push_visit(phone, app, world.customer, 0, 5, check_in_at=start,
                      check_out_at=None)["time_on_site_s"] is None
    # A check-out before the check-in cannot be true: tests/sync/test_sync_times.py.


def test_facts_are_computed_again_when_a_visit_is_updated(world, app, phone):
    lat, lng = east_of(KIOSK, 500)
    record = visit_record(world.customer, check_in_latitude=lat, check_in_longitude=lng,
                   check_out_at=None)
    phone.push(changes(visits={"created": [record]}))
    assert stored(app, Visit)[0]["verified"] is False
    phone.pull()
    checked_out = {**record, "check_in_latitude": KIOSK[0], "check_in_longitude": KIOSK[1],
                   "check_out_at": record["check_in_at"] + 600_000, "verified": False}
    phone.push(changes(visits={"updated": [checked_out]}))
    row = stored(app, Visit)[0]
    assert (row["verified"], row["distance_m"], row["time_on_site_s"]) == (True, 0.0, 600)
    pulled = phone.pull()["changes"]["visits"]["updated"][0]
    assert pulled["verified"] is True and pulled["distance_m"] == 0.0


# -- pings --------------------------------------------------------------------------------------

def push_pings(phone, *pings):
    result = phone.push(changes(location_pings={"created": list(pings)}))
    assert result["quarantined"] == []
    return result


def by_id(app):
    return {row["id"]: row for row in stored(app, LocationPing)}


def test_pings_keep_the_phone_time_and_get_the_server_time(world, app, phone):
    recorded = now_ms() - 3_600_000
    p = ping_record(recorded)
    before = now_ms()
    push_pings(phone, p)
    row = by_id(app)[p["id"]]
    assert row["recorded_at"] == recorded
    assert before <= row["received_at"] <= now_ms()
    assert (row["flags"], row["flagged"]) == ("", False)
    assert row["distance_from_previous_m"] is None and row["implied_speed_mps"] is None


def test_pings_are_flagged_and_never_dropped(world, app, phone):
    t = now_ms() - 600_000
    far = east_of(KIOSK, 10_000)
    clean = ping_record(t)
    walked = ping_record(t + 60_000, *east_of(KIOSK, 60))
    duplicate = ping_record(t + 60_000, *east_of(KIOSK, 60))
    inaccurate = ping_record(t + 120_000, *east_of(KIOSK, 80), accuracy_m=150)
    teleported = ping_record(t + 180_000, *far)  # ~10 km in a minute
    future = ping_record(now_ms() + 3_600_000, *far)
    stale = ping_record(now_ms() - 31 * DAY_MS)
    if walked["id"] > duplicate["id"]:  # ties in time are ordered by id
        walked, duplicate = duplicate, walked
    push_pings(phone, future, teleported, clean, duplicate, stale, inaccurate, walked)

    rows = by_id(app)
    assert len(rows) == 7
    assert {name: rows[p["id"]]["flags"] for name, p in [
        ("clean", clean), ("walked", walked), ("duplicate", duplicate),
        ("inaccurate", inaccurate), ("teleported", teleported), ("future", future),
        ("stale", stale)]} == {
        "clean": "", "walked": "", "duplicate": "duplicate", "inaccurate": "inaccurate",
        "teleported": "implausible_speed", "future": "future", "stale": "stale"}
    assert rows[walked["id"]]["distance_from_previous_m"] == pytest.approx(60, abs=0.01)
    assert rows[walked["id"]]["implied_speed_mps"] == pytest.approx(1.0, abs=0.001)
    assert rows[duplicate["id"]]["distance_from_previous_m"] == 0
    # Judged from the last accurate fix (the inaccurate one is nobody's previous fix).
    assert rows[teleported["id"]]["implied_speed_mps"] == pytest.approx((10_000 - 60) / 120,
                                                                       abs=0.01)
    assert rows[teleported["id"]]["flagged"] is True and rows[clean["id"]]["flagged"] is False


def test_a_late_upload_is_judged_in_recorded_order_among_stored_pings(world, app, phone):
    t = now_ms() - 3_600_000
    first, third = ping_record(t), ping_record(t + 120_000, *east_of(KIOSK, 100))
    push_pings(phone, first, third)
    assert by_id(app)[third["id"]]["distance_from_previous_m"] == pytest.approx(100, abs=0.01)

    # Uploaded later, recorded in between, and 20 km away: a GPS jump.
    jump = ping_record(t + 60_000, *east_of(KIOSK, 20_000))
    earliest = ping_record(t - 60_000, *east_of(KIOSK, 30))
    push_pings(phone, jump, earliest)
    rows = by_id(app)
    assert rows[jump["id"]]["flags"] == "implausible_speed"
    assert rows[third["id"]]["flags"] == "implausible_speed"  # judged again from the jump
    assert rows[third["id"]]["distance_from_previous_m"] == pytest.approx(19_900, abs=0.5)
    assert rows[first["id"]]["distance_from_previous_m"] == pytest.approx(30, abs=0.01)
    assert rows[first["id"]]["flags"] == ""
    assert rows[earliest["id"]]["distance_from_previous_m"] is None


def test_the_ping_limits_are_configurable(world, app, phone, monkeypatch):
    monkeypatch.setitem(app.config, "PING_MAX_SPEED_MPS", 0.5)
    monkeypatch.setitem(app.config, "PING_MAX_ACCURACY_M", 5)
    t = now_ms() - 600_000
    a, b = ping_record(t, accuracy_m=5), ping_record(t + 60_000, *east_of(KIOSK, 60), accuracy_m=6)
    push_pings(phone, a, b)
    assert by_id(app)[b["id"]]["flags"] == "inaccurate,implausible_speed"


def test_pings_of_other_reps_do_not_count_as_previous_fixes(world, app, phone, other_phone):
    t = now_ms() - 600_000
    push_pings(other_phone, ping_record(t, 48.1, 11.5))
    mine = ping_record(t + 1000)
    push_pings(phone, mine)
    assert by_id(app)[mine["id"]]["flags"] == ""


@pytest.mark.parametrize("metres", [0.5, 30, 700, 1999, 2001, 15_000, 400_000])
def test_the_fast_ping_distance_agrees_with_geopy(metres):
    for start in [(52.52, 13.405), (-33.9, 151.2), (0.0, 179.9999), (79.9, -20.0)]:
        end = east_of(start, metres)
        assert geodesic_short_m(*start, *end) == pytest.approx(geodesic(start, end).meters,
                                                              abs=0.001)


def test_pings_with_untrusted_times_take_no_place_in_the_recorded_order(world, app, phone):
    t = now_ms() - 600_000
    first = ping_record(t)
    stale = ping_record(now_ms() - 40 * DAY_MS, *east_of(KIOSK, 50_000))
    future = ping_record(now_ms() + 3_600_000, *east_of(KIOSK, 50_000))
    push_pings(phone, first, stale, future)
    later = ping_record(t + 60_000, *east_of(KIOSK, 60))
    push_pings(phone, later)
    rows = by_id(app)
    assert rows[stale["id"]]["flags"] == "stale" and rows[future["id"]]["flags"] == "future"
    assert rows[stale["id"]]["distance_from_previous_m"] is None
    assert rows[first["id"]]["distance_from_previous_m"] is None  # stale: nobody's previous
    assert rows[later["id"]]["flags"] == ""
    assert rows[later["id"]]["distance_from_previous_m"] == pytest.approx(60, abs=0.01)


def test_a_later_push_keeps_the_facts_of_the_pings_before_it(world, app, phone):
    t = now_ms() - 600_000
    start, jump = ping_record(t), ping_record(t + 60_000, *east_of(KIOSK, 10_000))
    push_pings(phone, start, jump)
    push_pings(phone, ping_record(t + 120_000, *east_of(KIOSK, 10_050)))
    row = by_id(app)[jump["id"]]
    assert row["flags"] == "implausible_speed"  # the next push never clears a flag
    assert row["distance_from_previous_m"] == pytest.approx(10_000, abs=0.5)


def test_an_inaccurate_fix_is_judged_but_is_nobodys_previous_fix(world, app, phone):
    t = now_ms() - 600_000
    start = ping_record(t)
    blurred = ping_record(t + 30_000, *east_of(KIOSK, 1_100), accuracy_m=500)
    later = ping_record(t + 60_000, *east_of(KIOSK, 7))
    push_pings(phone, start, blurred)
    push_pings(phone, later)
    rows = by_id(app)
    assert rows[blurred["id"]]["flags"] == "inaccurate"
    assert rows[blurred["id"]]["distance_from_previous_m"] == pytest.approx(1_100, abs=0.5)
    assert rows[later["id"]]["flags"] == ""
    assert rows[later["id"]]["distance_from_previous_m"] == pytest.approx(7, abs=0.01)
