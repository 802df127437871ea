"""Facts about a visit, computed by the server when a phone pushes it (never by the phone)."""
from fieldsales.geo import geodesic_m


def compute(*, visit: dict, customer, accuracy_cap_m: float) -> dict:
    """`distance_m`, `verified` and `time_on_site_s` of a visit at `customer`.

    Verified: the check-in point lies within the customer's geofence radius, allowing for the
    phone's reported accuracy up to `accuracy_cap_m` (so a fix reported as 5 km accurate
    cannot verify a visit from 5 km away). No reported accuracy counts as 0.
    Time on site: check-out minus check-in, in seconds; null until checked out, or when the
    phone's clock put check-out before check-in.
    """
    distance = geodesic_m(visit["check_in_latitude"], visit["check_in_longitude"],
                          customer.latitude, customer.longitude)
    allowance = min(max(visit.get("check_in_accuracy_m") or 0.0, 0.0), accuracy_cap_m)
    radius = customer.geofence_radius_m or 0.0
    check_in, check_out = visit["check_in_at"], visit.get("check_out_at")
    on_site = None
    if check_out is not None and check_out >= check_in:
        on_site = (check_out - check_in) / 1000
    return {"distance_m": distance, "verified": distance <= radius + allowance,
            "time_on_site_s": on_site}
