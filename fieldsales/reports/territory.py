"""Territory balance: do the customers a rep is assigned fit the visits a rep can make?

Per rep, over a planning horizon of TERRITORY_WORKING_DAYS working days (default 20):
- visits needed = sum over the rep's customers of working days / cadence, the cadence being
  the customer's cadence (customers/visiting.py: its own, else the config's default by kind
  and segment, else the team's);
- visits possible = REP_VISITS_PER_DAY (default 8) x working days;
- load = needed / possible; overloaded above 1 + TERRITORY_TOLERANCE (default 0.2),
  underloaded below 1 - TERRITORY_TOLERANCE, balanced between.
For an overloaded rep, the reps of the same team who are not overloaded and have spare visits
could take over customers: nearest first, by the geodesic distance between the centroids of
their customers (a rep with no customers yet has no centroid and comes last).
Revenue is the trailing 90 days of orders (not cancelled) at the rep's customers.
"""
from flask import current_app
from sqlalchemy import Float, case, cast, func, select

from fieldsales.common import DAY_MS, now_ms
from fieldsales.customers import visiting
from fieldsales.customers.models import Customer
from fieldsales.extensions import db
from fieldsales.geo import geodesic_m
from fieldsales.orders import rules as order_rules
from fieldsales.orders.models import Order, OrderLine
from fieldsales.users import scope
from fieldsales.users.models import Team, User

REVENUE_DAYS = 90
MAX_CANDIDATES = 3


def visible(*, viewer: User, team_id: str | None = None) -> list[dict]:
    """The balance as GET /territories/balance computes it (the API and the console's
    Territories page): managers their team's reps, admins all or `team_id`."""
    return balance(team_clause=scope.team_clause(viewer=viewer, team_column=User.team_id,
                                                 team_id=team_id))


def customer_points(*, rep_ids: list[str]) -> list[dict]:
    """Where the customers of these reps are (undeleted), for a map: one query."""
    found = db.session.execute(
        select(Customer.id, Customer.name, Customer.kind, Customer.latitude,
               Customer.longitude, Customer.assigned_rep_id)
        .where(Customer.deleted_at.is_(None), Customer.assigned_rep_id.in_(rep_ids))
        .order_by(Customer.assigned_rep_id, Customer.name, Customer.id)).all()
    return [{"id": c.id, "name": c.name, "kind": c.kind, "latitude": c.latitude,
             "longitude": c.longitude, "rep_id": c.assigned_rep_id} for c in found]


def balance(*, team_clause) -> list[dict]:
    """One row per active rep of the teams `team_clause` (on User.team_id) selects."""
    days = current_app.config["TERRITORY_WORKING_DAYS"]
    per_day = current_app.config["REP_VISITS_PER_DAY"]
    tolerance = current_app.config["TERRITORY_TOLERANCE"]
    possible = per_day * days

    reps = db.session.execute(
        select(User.id, User.name, User.team_id)
        .where(User.role == "rep", User.active.is_(True), User.deleted_at.is_(None),
               User.team_id.is_not(None), team_clause)).all()
    rep_ids = [rep.id for rep in reps]
    cadence = visiting.cadence_days(team_cadence=Team.visit_cadence_days)
    territory = {row.rep_id: row for row in db.session.execute(
        select(Customer.assigned_rep_id.label("rep_id"),
               func.sum(case((Customer.kind == "account", 1), else_=0)).label("accounts"),
               func.sum(case((Customer.kind == "account", 0), else_=1)).label("prospects"),
               func.sum(days / cast(cadence, Float)).label("needed"),
               func.avg(Customer.latitude).label("latitude"),
               func.avg(Customer.longitude).label("longitude"))
        .join(User, User.id == Customer.assigned_rep_id)
        .join(Team, Team.id == User.team_id)
        .where(Customer.deleted_at.is_(None), Customer.assigned_rep_id.in_(rep_ids))
        .group_by(Customer.assigned_rep_id))}
    since = now_ms() - REVENUE_DAYS * DAY_MS
    revenue = dict(db.session.execute(
        select(Customer.assigned_rep_id, func.sum(OrderLine.quantity * OrderLine.unit_price))
        .join(Order, Order.customer_id == Customer.id)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(Customer.deleted_at.is_(None), Customer.assigned_rep_id.in_(rep_ids),
               Order.ordered_at >= since, order_rules.counted(), OrderLine.deleted_at.is_(None))
        .group_by(Customer.assigned_rep_id)).tuples().all())

    rows = []
    for rep in reps:
        t = territory.get(rep.id)
        needed = float(t.needed) if t is not None else 0.0
        load = needed / possible if possible else 0.0
        flag = ("overloaded" if load > 1 + tolerance else
                "underloaded" if load < 1 - tolerance else "balanced")
        rows.append({
            "rep_id": rep.id, "rep_name": rep.name, "team_id": rep.team_id,
            "accounts": int(t.accounts) if t else 0, "prospects": int(t.prospects) if t else 0,
            "customers": int(t.accounts + t.prospects) if t else 0,
            "revenue_90d": round(float(revenue.get(rep.id) or 0), 2),
            "visits_needed": round(needed, 1), "visits_possible": round(possible, 1),
            "load": round(load, 3), "flag": flag,
            "centroid": ({"latitude": float(t.latitude), "longitude": float(t.longitude)}
                         if t else None),
        })
    for row in rows:
        row["takeover_candidates"] = (_candidates(row, rows) if row["flag"] == "overloaded"
                                      else [])
    return rows


def _candidates(overloaded: dict, rows: list[dict]) -> list[dict]:
    found = []
    for other in rows:
        spare = other["visits_possible"] - other["visits_needed"]
        if (other["rep_id"] == overloaded["rep_id"] or other["team_id"] != overloaded["team_id"]
                or other["flag"] == "overloaded" or spare <= 0):
            continue
        distance = None
        if other["centroid"] and overloaded["centroid"]:
            distance = geodesic_m(*_point(overloaded["centroid"]),
                                  *_point(other["centroid"])) / 1000
        found.append({"rep_id": other["rep_id"], "rep_name": other["rep_name"],
                      "distance_km": round(distance, 2) if distance is not None else None,
                      "spare_visits": round(spare, 1)})
    found.sort(key=lambda c: (c["distance_km"] is None, c["distance_km"] or 0, c["rep_id"]))
    return found[:MAX_CANDIDATES]


def _point(centroid: dict) -> tuple[float, float]:
    return centroid["latitude"], centroid["longitude"]
