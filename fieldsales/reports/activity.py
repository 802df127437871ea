"""A rep's day: visits, stops, the trail between them, tasks, orders and feedback.

The day is the rep's team's local day (users/hours.py). Privacy: others see a rep's positions
(pings, stops, trail) only inside the team's working hours of that day, and each such view is
logged for the rep to read (locations/access.py); the rep sees their whole day, off-duty pings
their team keeps included. Visits, tasks, orders and feedback are work records the rep entered
and are listed whenever they happened, without check-in coordinates.

Stops: over the unflagged pings in time order, a stop starts at a ping and takes every
following ping within STOP_RADIUS_M of it; if those span STOP_MIN_S or more, they are a stop
(its position is their centroid), else the next ping is tried. A stop is at a customer when
the nearest live customer the viewer may see (`customers.service.visible`) by geodesic
distance is within that customer's geofence; otherwise it is shown as a stop at no customer,
with its coordinates only, so a stop at another team's customer names nobody.

Trail: the legs between stops (plus before the first and after the last), each with all its
pings, flagged ones marked; a leg's travel distance sums the geodesic distances between its
consecutive unflagged pings, from the last ping of the stop before to the first of the stop
after. A day is a few hundred pings, so this runs in Python over that one day; distances are
`geo.geodesic_short_m` (the geodesic, fast for the short hops between fixes).

The journey plan of the day (`plan`): the figures of fieldsales/plans/compliance.py for the
rep's planned visits of that day (the team's local day), with route efficiency against the
day's travel distance.

Selling vs non-selling time, as the productivity score counts it: selling = time on site of
verified visits + task_minutes (TASK_CREDIT_MINUTES, or SCORING_NORMS) per selling task done
away from a customer; non-selling = task_minutes per admin task done.
"""
import math
from datetime import date
from itertools import pairwise
from typing import Any

from sqlalchemy import func, select

from fieldsales.customers import service as customers_service
from fieldsales.customers.models import Customer
from fieldsales.extensions import db
from fieldsales.feedback.models import Feedback
from fieldsales.geo import geodesic_short_m
from fieldsales.locations import access
from fieldsales.locations.models import LocationPing
from fieldsales.orders.models import Order, OrderLine
from fieldsales.orders.rules import COUNTED_STATUSES
from fieldsales.plans import compliance
from fieldsales.scoring.productivity import current_norms
from fieldsales.tasks.models import Task
from fieldsales.users import hours
from fieldsales.users.models import User
from fieldsales.visits.models import Visit

STOP_RADIUS_M = 50
STOP_MIN_S = 5 * 60
MAX_PINGS = 20_000


def get(*, viewer: User, rep: User, day: date) -> dict:
    start, end = hours.day_bounds_ms(rep.team, day)
    work_start, work_end = hours.duty_window_ms(rep.team, day) or (start, start)
    own = viewer.id == rep.id

    visits = _visits(rep.id, start, end)
    tasks = _tasks(rep.id, start, end)
    orders = _orders(rep.id, start, end)
    feedback = _feedback(rep.id, start, end)
    pings = _pings(rep.id, *((start, end) if own else (work_start, work_end)), private=own)
    if pings and not own:
        access.record_views(viewer=viewer, rep_ids=[rep.id], what="activity",
                            detail=day.isoformat())
    stops = detect_stops(pings)
    _name_customers(stops, viewer=viewer)
    _link_visits(stops, visits)
    legs = trail(pings, stops)

    task_s = 60 * current_norms()["task_minutes"]
    selling = sum(v["time_on_site_s"] or 0 for v in visits if v["verified"]) + task_s * sum(
        1 for t in tasks if t["category"] == "selling" and t["customer_id"] is None)
    non_selling = task_s * sum(1 for t in tasks if t["category"] == "admin")
    moments = ([v["check_in_at"] for v in visits] + [v["check_out_at"] for v in visits
                                                     if v["check_out_at"]]
               + [t["completed_at"] for t in tasks] + [o["ordered_at"] for o in orders]
               + [f["recorded_at"] for f in feedback] + [p["recorded_at"] for p in pings])
    travelled = round(sum(leg["distance_m"] for leg in legs), 1)
    plan = compliance.summarize(team=rep.team, rep_ids=[rep.id], first=day, last=day)[rep.id]
    plan["route_efficiency"] = compliance.route_efficiency(
        planned_m=plan["planned_distance_m"], travelled_m=travelled)
    return {
        "plan": plan,
        "rep": {"id": rep.id, "name": rep.name, "selling_style": rep.selling_style},
        "date": day.isoformat(),
        "working_hours": {"start_ms": work_start, "end_ms": work_end},
        "summary": {
            "first_activity_at": min(moments, default=None),
            "last_activity_at": max(moments, default=None),
            "visits": len(visits),
            "verified_visits": sum(1 for v in visits if v["verified"]),
            "time_on_site_s": sum(v["time_on_site_s"] or 0 for v in visits),
            "selling_time_s": selling,
            "non_selling_time_s": non_selling,
            "selling_share": (round(selling / (selling + non_selling), 4)
                              if selling + non_selling else None),
            "stops": len(stops),
            "stops_at_customers": sum(1 for s in stops if s["customer"] is not None),
            "travel_distance_m": travelled,
            "pings": len(pings),
            "flagged_pings": sum(1 for p in pings if p["flagged"]),
            "tasks_done": len(tasks),
            "orders": sum(1 for o in orders if o["status"] in COUNTED_STATUSES),
            "order_value": round(sum(o["value"] for o in orders
                                     if o["status"] in COUNTED_STATUSES), 2),
            "feedback": len(feedback),
        },
        "visits": visits, "stops": stops, "trail": legs, "tasks_done": tasks,
        "orders": orders, "feedback": feedback,
    }


def geofences(report: dict) -> list[dict]:
    """The customers of a day's visits and stops (from `get`), with where they are and their
    geofence, for drawing the day on a map."""
    ids = {v["customer"]["id"] for v in report["visits"]} | {
        s["customer"]["id"] for s in report["stops"] if s["customer"] is not None}
    if not ids:
        return []
    rows = db.session.execute(
        select(Customer.id, Customer.name, Customer.latitude, Customer.longitude,
               Customer.geofence_radius_m)
        .where(Customer.id.in_(ids)).order_by(Customer.name, Customer.id)).all()
    return [{"id": c.id, "name": c.name, "latitude": c.latitude, "longitude": c.longitude,
             "radius_m": c.geofence_radius_m} for c in rows]


def detect_stops(pings: list[dict]) -> list[dict]:
    """Stops from pings in time order (flagged pings never make or break a stop)."""
    clean = [p for p in pings if not p["flagged"]]
    stops, i = [], 0
    while i < len(clean):
        anchor = _point(clean[i])
        j = i + 1
        while j < len(clean) and geodesic_short_m(*anchor, *_point(clean[j])) <= STOP_RADIUS_M:
            j += 1
        members = clean[i:j]
        if members[-1]["recorded_at"] - members[0]["recorded_at"] >= STOP_MIN_S * 1000:
            started, ended = members[0]["recorded_at"], members[-1]["recorded_at"]
            stops.append({
                "started_at": started, "ended_at": ended, "duration_s": (ended - started) / 1000,
                "latitude": sum(p["latitude"] for p in members) / len(members),
                "longitude": sum(p["longitude"] for p in members) / len(members),
                "pings": len(members),
                "flagged_pings": sum(1 for p in pings
                                     if p["flagged"] and started <= p["recorded_at"] <= ended),
                "customer": None, "visit_id": None,
            })
            i = j
        else:
            i += 1
    return stops


def trail(pings: list[dict], stops: list[dict]) -> list[dict]:
    """The legs before, between and after the stops, with their travel distance."""
    if not pings:
        return []
    bounds: list[tuple[int | None, Any, Any]] = [(None, None, pings[0]["recorded_at"] - 1)]
    for index, stop in enumerate(stops):
        bounds.append((index, stop["started_at"], stop["ended_at"]))
    bounds.append((None, pings[-1]["recorded_at"] + 1, None))
    legs = []
    for (from_index, _, leg_start), (to_index, leg_end, _) in pairwise(bounds):
        inside = [p for p in pings if leg_start < p["recorded_at"] < leg_end]
        if not inside and (from_index is None or to_index is None):
            continue
        ends_before = _edge_ping(pings, leg_start, last=True) if from_index is not None else None
        ends_after = _edge_ping(pings, leg_end, last=False) if to_index is not None else None
        path = [p for p in [ends_before, *inside, ends_after] if p is not None and not p["flagged"]]
        distance = sum(geodesic_short_m(*_point(a), *_point(b)) for a, b in pairwise(path))
        legs.append({
            "from_stop": from_index, "to_stop": to_index,
            "started_at": leg_start if from_index is not None else inside[0]["recorded_at"],
            "ended_at": leg_end if to_index is not None else inside[-1]["recorded_at"],
            "distance_m": round(distance, 1),
            "pings": [{key: p[key] for key in ("recorded_at", "latitude", "longitude",
                                               "accuracy_m", "speed_mps", "flagged", "flags")}
                      for p in inside],
        })
    return legs


def _edge_ping(pings: list[dict], at: int, *, last: bool) -> dict | None:
    """The unflagged ping exactly at a stop's end (last) or start."""
    for p in (reversed(pings) if last else pings):
        if p["recorded_at"] == at and not p["flagged"]:
            return p
    return None


def _name_customers(stops: list[dict], *, viewer: User) -> None:
    """The nearest live customer the viewer may see whose geofence holds each stop, if any."""
    if not stops:
        return
    candidates = customers_service.visible(viewer=viewer)
    widest = db.session.scalar(candidates.with_only_columns(
        func.max(Customer.geofence_radius_m))) or 0
    for stop in stops:
        lat, lon = stop["latitude"], stop["longitude"]
        dlat = widest / 111_000 + 1e-6
        dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
        nearby = db.session.execute(
            candidates.with_only_columns(Customer.id, Customer.name, Customer.latitude,
                                         Customer.longitude, Customer.geofence_radius_m)
            .where(Customer.latitude.between(lat - dlat, lat + dlat),
                   Customer.longitude.between(lon - dlon, lon + dlon))).all()
        best = None
        for c in nearby:
            distance = geodesic_short_m(lat, lon, c.latitude, c.longitude)
            if distance <= (c.geofence_radius_m or 0) and (best is None or distance < best[0]):
                best = (distance, c)
        if best is not None:
            stop["customer"] = {"id": best[1].id, "name": best[1].name,
                                "distance_m": round(best[0], 1)}


def _link_visits(stops: list[dict], visits: list[dict]) -> None:
    for stop in stops:
        if stop["customer"] is None:
            continue
        for visit in visits:
            out = visit["check_out_at"] or visit["check_in_at"]
            if (visit["customer"]["id"] == stop["customer"]["id"]
                    and visit["check_in_at"] <= stop["ended_at"] and out >= stop["started_at"]):
                stop["visit_id"] = visit["id"]
                break


def _visits(rep_id: str, start: int, end: int) -> list[dict]:
    rows = db.session.execute(
        select(Visit, Customer.name, Customer.kind)
        .join(Customer, Customer.id == Visit.customer_id)
        .where(Visit.rep_id == rep_id, Visit.deleted_at.is_(None),
               Visit.check_in_at >= start, Visit.check_in_at < end)
        .order_by(Visit.check_in_at, Visit.id)).all()
    return [{"id": v.id, "customer": {"id": v.customer_id, "name": name, "kind": kind},
             "check_in_at": v.check_in_at, "check_out_at": v.check_out_at,
             "time_on_site_s": v.time_on_site_s, "verified": bool(v.verified),
             "distance_m": v.distance_m, "outcome": v.outcome} for v, name, kind in rows]


def _tasks(rep_id: str, start: int, end: int) -> list[dict]:
    rows = db.session.scalars(
        select(Task).where(Task.assigned_rep_id == rep_id, Task.status == "done",
                           Task.deleted_at.is_(None), Task.completed_at >= start,
                           Task.completed_at < end)
        .order_by(Task.completed_at, Task.id)).all()
    return [{"id": t.id, "title": t.title, "category": t.category, "customer_id": t.customer_id,
             "due_at": t.due_at, "completed_at": t.completed_at} for t in rows]


def _orders(rep_id: str, start: int, end: int) -> list[dict]:
    value = func.coalesce(func.sum(OrderLine.quantity * OrderLine.unit_price), 0)
    rows = db.session.execute(
        select(Order.id, Order.customer_id, Customer.name, Order.ordered_at, Order.status,
               Order.visit_id, func.count(OrderLine.id), value)
        .join(Customer, Customer.id == Order.customer_id)
        .outerjoin(OrderLine, (OrderLine.order_id == Order.id) & OrderLine.deleted_at.is_(None))
        .where(Order.rep_id == rep_id, Order.deleted_at.is_(None), Order.ordered_at >= start,
               Order.ordered_at < end)
        .group_by(Order.id, Order.customer_id, Customer.name, Order.ordered_at, Order.status,
                  Order.visit_id)
        .order_by(Order.ordered_at, Order.id)).all()
    return [{"id": oid, "customer": {"id": cid, "name": name}, "ordered_at": at,
             "status": status, "visit_id": visit_id, "lines": lines,
             "value": round(float(total), 2)}
            for oid, cid, name, at, status, visit_id, lines, total in rows]


def _feedback(rep_id: str, start: int, end: int) -> list[dict]:
    rows = db.session.execute(
        select(Feedback, Customer.name)
        .join(Customer, Customer.id == Feedback.customer_id)
        .where(Feedback.rep_id == rep_id, Feedback.deleted_at.is_(None),
               Feedback.recorded_at >= start, Feedback.recorded_at < end)
        .order_by(Feedback.recorded_at, Feedback.id)).all()
    return [{"id": f.id, "customer": {"id": f.customer_id, "name": name},
             "recorded_at": f.recorded_at, "category": f.category, "rating": f.rating,
             "product_id": f.product_id, "requested_quantity": f.requested_quantity,
             "comment": f.comment} for f, name in rows]


def _pings(rep_id: str, start: int, end: int, *, private: bool) -> list[dict]:
    """`private`: the rep reads their own day, off-duty pings a team keeps included."""
    shown = [] if private else [~LocationPing.flags.contains("off_duty")]
    rows = db.session.execute(
        select(LocationPing.recorded_at, LocationPing.latitude, LocationPing.longitude,
               LocationPing.accuracy_m, LocationPing.speed_mps, LocationPing.flagged,
               LocationPing.flags)
        .where(LocationPing.rep_id == rep_id, LocationPing.recorded_at >= start,
               LocationPing.recorded_at < end, *shown)
        .order_by(LocationPing.recorded_at, LocationPing.id).limit(MAX_PINGS)).all()
    return [{"recorded_at": r.recorded_at, "latitude": r.latitude, "longitude": r.longitude,
             "accuracy_m": r.accuracy_m, "speed_mps": r.speed_mps, "flagged": bool(r.flagged),
             "flags": [flag for flag in (r.flags or "").split(",") if flag]} for r in rows]


def _point(ping: dict) -> tuple[float, float]:
    return ping["latitude"], ping["longitude"]
