"""Likely duplicate customers (merging one into another: fieldsales/customers/merge.py).

Finding: the database pairs the candidates, so the work grows with the number of close or
same-phone pairs, not with the square of the customers:
- same phone: a self-join on the phone with separators removed (at least 6 digits left);
- close by: each customer falls in a grid cell of about 220 m (0.002 deg latitude by
  0.004 deg longitude, i.e. about 220 m at 60 deg latitude); pairs come from equal or
  neighbouring cells (an equi-join against the 9 neighbour offsets).
Both are equi-joins on a materialized CTE, so they stay near-linear on both databases.
Python then keeps the close pairs whose geodesic distance is within DUPLICATE_DISTANCE_M and
whose names are alike (difflib ratio of the normalized names, or of their sorted tokens, at
least DUPLICATE_NAME_RATIO).
"""
import difflib
import math
import re
import unicodedata
from collections import Counter

from flask import current_app
from sqlalchemy import (
    Integer,
    Select,
    and_,
    cast,
    func,
    literal,
    select,
    true,
    union_all,
)
from sqlalchemy.sql.functions import Function

from fieldsales.customers import service as customers_service
from fieldsales.customers.models import Customer
from fieldsales.extensions import db
from fieldsales.geo import equirectangular_m, geodesic_m
from fieldsales.orders.models import Order
from fieldsales.users import scope
from fieldsales.users.models import User
from fieldsales.visits.models import Visit

CELL_LAT, CELL_LON = 0.002, 0.004
PHONE_SEPARATORS = (" ", "-", "(", ")", ".", "/", "+")
MIN_PHONE_DIGITS = 6
NAME_NOISE = {"the", "ltd", "limited", "inc", "llc", "co", "company", "corp", "gmbh", "plc",
              "sa", "srl", "and"}


def find_visible(*, viewer: User, team_id: str | None = None) -> list[dict]:
    """Likely duplicate pairs among the live customers `viewer` may read (managers: their
    team's; admins: all, or `team_id`'s), as GET /customers/duplicates and the console list."""
    query = customers_service.visible(viewer=viewer).where(scope.team_clause(
        viewer=viewer, team_column=Customer.team_id, team_id=team_id))
    return find(customers_query=query)


def find(*, customers_query: Select) -> list[dict]:
    """Likely duplicate pairs among the customers `customers_query` selects."""
    max_distance = current_app.config["DUPLICATE_DISTANCE_M"]
    min_ratio = current_app.config["DUPLICATE_NAME_RATIO"]
    # MATERIALIZED: SQLite then builds an automatic index on the CTE for the equi-joins
    # (inlined, it would scan the table once per row); PostgreSQL hash-joins it.
    base = customers_query.with_only_columns(
        Customer.id.label("id"), _phone_key(Customer.phone).label("phone_key"),
        cast((Customer.latitude + 90) / CELL_LAT, Integer).label("cy"),
        cast((Customer.longitude + 180) / CELL_LON, Integer).label("cx"),
        Customer.latitude.label("lat"), Customer.longitude.label("lon"),
    ).cte("base").prefix_with("MATERIALIZED")
    a, b = base.alias("a"), base.alias("b")
    same_phone = select(a.c.id, b.c.id).join(b, and_(
        a.c.phone_key == b.c.phone_key, a.c.id < b.c.id)).where(
        func.length(a.c.phone_key) >= MIN_PHONE_DIGITS)
    offsets = union_all(*(select(literal(dy, Integer).label("dy"), literal(dx, Integer).label("dx"))
                          for dy in (-1, 0, 1) for dx in (-1, 0, 1))).subquery("offsets")
    shifted = select(base.c.id, (base.c.cy + offsets.c.dy).label("cy"),
                     (base.c.cx + offsets.c.dx).label("cx"), base.c.lat, base.c.lon
                     ).select_from(base).join(offsets, true()).cte("shifted").prefix_with(
        "MATERIALIZED")
    # A box around each customer, wide enough at the highest latitude in the set, trims the
    # neighbour cells' pairs before Python measures them.
    widest = db.session.scalar(customers_query.with_only_columns(
        func.max(func.abs(Customer.latitude)))) or 0
    box_lat = max_distance / 110_000
    box_lon = box_lat / max(math.cos(math.radians(min(float(widest), 89.0))), 0.02)
    nearby = select(a.c.id, shifted.c.id).join(shifted, and_(
        a.c.cy == shifted.c.cy, a.c.cx == shifted.c.cx, a.c.id < shifted.c.id)).where(
        func.abs(a.c.lat - shifted.c.lat) <= box_lat,
        func.abs(a.c.lon - shifted.c.lon) <= box_lon)

    phone_pairs = set(db.session.execute(same_phone).tuples())
    pairs = phone_pairs | set(db.session.execute(nearby).tuples())
    if not pairs:
        return []
    ids = {customer_id for pair in pairs for customer_id in pair}
    spots = {row.id: row for row in _rows(ids, Customer.id, Customer.name, Customer.latitude,
                                          Customer.longitude)}
    tokens = {}

    found = []
    for first, second in pairs:
        x, y = spots[first], spots[second]
        phones_match = (first, second) in phone_pairs
        # Cheap tests first (flat-earth distance, difflib's upper bound on the names); the
        # geodesic distance and the full ratio only for pairs that may count.
        if not phones_match and equirectangular_m(x.latitude, x.longitude, y.latitude,
                                                y.longitude) > max_distance * 1.01 + 1:
            continue
        for row in (x, y):
            if row.id not in tokens:
                words = _name_tokens(row.name)
                tokens[row.id] = (words, Counter(" ".join(words)))
        if not phones_match and _quick_ratio(tokens[first][1], tokens[second][1]) < min_ratio:
            continue
        distance = geodesic_m(x.latitude, x.longitude, y.latitude, y.longitude)
        similarity = _similarity(tokens[first][0], tokens[second][0])
        reasons = ["same_phone"] if phones_match else []
        if distance <= max_distance and similarity >= min_ratio:
            reasons.append("similar_name_nearby")
        if reasons:
            found.append({"id": f"{first}:{second}", "reasons": reasons,
                          "distance_m": round(distance, 1),
                          "name_similarity": round(similarity, 3),
                          "customer": first, "duplicate": second})
    records = {c.id: _brief(c) for c in _rows(
        {p[side] for p in found for side in ("customer", "duplicate")}, Customer)}
    for pair in found:
        pair["customer"], pair["duplicate"] = records[pair["customer"]], records[pair["duplicate"]]
    return found


def add_activity(pairs: list[dict]) -> list[dict]:
    """Each side's visits and orders, and the side to keep: the one with more history."""
    ids = {p[side]["id"] for p in pairs for side in ("customer", "duplicate")}
    counts = {customer_id: 0 for customer_id in ids}
    for model in (Visit, Order):
        for customer_id, count in db.session.execute(
                select(model.customer_id, func.count(model.id))
                .where(model.customer_id.in_(ids), model.deleted_at.is_(None))
                .group_by(model.customer_id)).tuples():
            counts[customer_id] += count
    out = []
    for pair in pairs:
        first, second = pair["customer"]["id"], pair["duplicate"]["id"]
        keep = first if counts[first] >= counts[second] else second
        out.append({**pair,
                    "customer": {**pair["customer"], "activity": counts[first]},
                    "duplicate": {**pair["duplicate"], "activity": counts[second]},
                    "suggested_into_id": keep})
    return out


def name_similarity(first: str, second: str) -> float:
    """0..1: how alike two names read, ignoring case, accents, punctuation, legal suffixes
    and word order."""
    return _similarity(_name_tokens(first), _name_tokens(second))


def _similarity(x: list[str], y: list[str]) -> float:
    plain = difflib.SequenceMatcher(None, " ".join(x), " ".join(y)).ratio()
    ordered = difflib.SequenceMatcher(None, " ".join(sorted(x)), " ".join(sorted(y))).ratio()
    return max(plain, ordered)


def _quick_ratio(x: Counter, y: Counter) -> float:
    """difflib's quick_ratio from letter counts: an upper bound of the real ratio."""
    total = x.total() + y.total()
    return 2 * (x & y).total() / total if total else 1.0




def _phone_key(phone_column):
    expression: Function = func.coalesce(phone_column, "")
    for separator in PHONE_SEPARATORS:
        expression = func.replace(expression, separator, "")
    return expression


def _rows(ids: set[str], *columns) -> list:
    """Rows of these customers, fetched in chunks (an IN list has limits)."""
    ordered = sorted(ids)
    rows: list = []
    single = len(columns) == 1
    for start in range(0, len(ordered), 900):
        query = select(*columns).where(Customer.id.in_(ordered[start:start + 900]))
        rows += db.session.scalars(query) if single else db.session.execute(query)
    return rows


def _brief(customer: Customer) -> dict:
    return {name: getattr(customer, name) for name in (
        "id", "name", "phone", "address", "kind", "latitude", "longitude", "team_id",
        "assigned_rep_id")}


def _name_tokens(name: str) -> list[str]:
    text = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode().lower()
    text = text.replace("&", " and ").replace("'", "")
    return [token for token in re.split(r"[^a-z0-9]+", text) if token and token not in NAME_NOISE]
