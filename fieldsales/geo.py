"""Distances on the Earth, in metres, for every domain: one home so that a visit's geofence,
a ping's leg, a report's stop and the demo's routes all measure alike.

- `geodesic_m`: the exact geodesic on the WGS-84 ellipsoid (Karney's method, geopy's
  `geodesic` on geographiclib). The default: geofences, reports, the demo.
- `geodesic_short_m`: the same distance, about 40 times faster below 2 km, for the legs between
  a rep's consecutive fixes (a 10,000-ping push must stay well under a second) and a rep's
  day's stops and trail (reports/activity.py: the console's page has 150 ms).
- `travel_m`: the same local formula out to TRAVEL_LOCAL_M (within a few metres at 50 km),
  for the travel matrices of journey plans (plans/solver.py: thousands of pairs per rep).
- `equirectangular_m`: a flat-earth approximation (within 0.5% at a few kilometres), only as a
  cheap first filter before `geodesic_m` (likely duplicate customers).
"""
import math

from geographiclib.geodesic import Geodesic
from geopy.distance import geodesic

# WGS-84, as geopy's geodesic uses.
_A = 6378137.0
_F = 1 / 298.257223563
_E2 = _F * (2 - _F)
_GEOD = Geodesic.WGS84
_METRES_PER_DEGREE = 111_320  # of latitude, near enough everywhere for a first filter


def geodesic_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """The geodesic distance on the WGS-84 ellipsoid, exact to the nanometre."""
    return geodesic((lat1, lng1), (lat2, lng2)).meters


def geodesic_short_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """The geodesic distance, fast for the short hops between consecutive fixes.

    Below 2 km (away from the poles) the ellipsoid's local radii of curvature give the geodesic
    distance to better than a millimetre, about 40 times faster than the full solution, which
    answers everything else.
    """
    return _local_or_geodesic_m(lat1, lng1, lat2, lng2, within=2000)


TRAVEL_LOCAL_M = 50_000


def travel_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """The distance for a travel estimate: the local radii out to TRAVEL_LOCAL_M (a few
    metres off at 50 km, far below what a road adds), the geodesic beyond."""
    return _local_or_geodesic_m(lat1, lng1, lat2, lng2, within=TRAVEL_LOCAL_M)


def _local_or_geodesic_m(lat1: float, lng1: float, lat2: float, lng2: float, *,
                         within: float) -> float:
    if abs(lat1) < 80 and abs(lat2) < 80:
        phi = math.radians((lat1 + lat2) / 2)
        s = math.sin(phi)
        w = 1 - _E2 * s * s
        n = _A / math.sqrt(w)
        m = _A * (1 - _E2) / (w * math.sqrt(w))
        dlng = lng2 - lng1
        if dlng > 180:
            dlng -= 360
        elif dlng < -180:
            dlng += 360
        d = math.hypot(m * math.radians(lat2 - lat1), n * math.cos(phi) * math.radians(dlng))
        if d < within:
            return d
    return _GEOD.Inverse(lat1, lng1, lat2, lng2, Geodesic.DISTANCE)["s12"]


def equirectangular_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Flat-earth distance, within 0.5% of the geodesic at a few kilometres: a cheap bound to
    discard far pairs before measuring the rest with `geodesic_m`."""
    north = (lat2 - lat1) * _METRES_PER_DEGREE
    east = (lng2 - lng1) * _METRES_PER_DEGREE * math.cos(math.radians((lat1 + lat2) / 2))
    return math.hypot(north, east)
