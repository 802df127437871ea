"""What customers told the reps over a period, in five aggregate queries.

- by category: how much feedback, and the average of the ratings given (unrated feedback
  counts but does not move the average);
- rating trend: average rating per ISO week (weeks start Monday, UTC);
- most requested products: the quantities customers asked for (a leading demand signal);
- most praised products: feedback rated 4 or 5 naming a product;
- repeated complaints: customers with two or more ratings of 1 or 2 in the period.
"""
from sqlalchemy import and_, func, select

from fieldsales.common import FIRST_MONDAY_MS, WEEK_MS
from fieldsales.customers.models import Customer
from fieldsales.extensions import db
from fieldsales.feedback.models import Feedback
from fieldsales.products.models import Product
from fieldsales.reports.ranges import date_range
from fieldsales.users import scope as user_scope
from fieldsales.users.models import User

PRAISE_MIN, COMPLAINT_MAX, REPEATED = 4, 2, 2


def visible(*, viewer: User, args: dict) -> dict:
    """The summary as GET /feedback/summary answers it (the API and the console's Feedback
    page): the inclusive days `from`/`to` of `args` (default the last 30), the feedback the
    viewer may see (admins and procurement all, managers their team's, reps their own),
    narrowed to `team_id` / `rep_id`; 404 for a team or rep out of scope, 422 for a range
    longer than two years."""
    start, end = date_range(args)
    clause = user_scope.rep_filter(viewer=viewer, rep_column=Feedback.rep_id,
                                   team_id=args.get("team_id"), rep_id=args.get("rep_id"))
    return get(scope=clause, start=start, end=end, top=args["top"])


def get(*, scope, start: int, end: int, top: int) -> dict:
    """The summary of feedback recorded in [start, end) within `scope` (a WHERE clause)."""
    where = and_(scope, Feedback.deleted_at.is_(None), Feedback.recorded_at >= start,
                 Feedback.recorded_at < end)
    totals = db.session.execute(
        select(func.count(Feedback.id), func.avg(Feedback.rating)).where(where)).one()

    by_category = db.session.execute(
        select(Feedback.category, func.count(Feedback.id), func.count(Feedback.rating),
               func.avg(Feedback.rating))
        .where(where).group_by(Feedback.category)
        .order_by(func.count(Feedback.id).desc(), Feedback.category)).all()

    week = (Feedback.recorded_at - FIRST_MONDAY_MS) // WEEK_MS
    trend = db.session.execute(
        select(week.label("week"), func.count(Feedback.rating), func.avg(Feedback.rating))
        .where(where, Feedback.rating.is_not(None)).group_by(week).order_by(week)).all()

    requested = db.session.execute(
        select(Product.id, Product.sku, Product.name, func.sum(Feedback.requested_quantity),
               func.count(Feedback.id))
        .join(Product, Product.id == Feedback.product_id)
        .where(where, Feedback.requested_quantity > 0)
        .group_by(Product.id, Product.sku, Product.name)
        .order_by(func.sum(Feedback.requested_quantity).desc(), Product.sku).limit(top)).all()

    praised = db.session.execute(
        select(Product.id, Product.sku, Product.name, func.count(Feedback.id),
               func.avg(Feedback.rating))
        .join(Product, Product.id == Feedback.product_id)
        .where(where, Feedback.rating >= PRAISE_MIN)
        .group_by(Product.id, Product.sku, Product.name)
        .order_by(func.count(Feedback.id).desc(), func.avg(Feedback.rating).desc(), Product.sku)
        .limit(top)).all()

    complaints = db.session.execute(
        select(Customer.id, Customer.name, func.count(Feedback.id),
               func.min(Feedback.rating), func.max(Feedback.recorded_at))
        .join(Customer, Customer.id == Feedback.customer_id)
        .where(where, Feedback.rating <= COMPLAINT_MAX)
        .group_by(Customer.id, Customer.name)
        .having(func.count(Feedback.id) >= REPEATED)
        .order_by(func.count(Feedback.id).desc(), func.max(Feedback.recorded_at).desc(),
                  Customer.id)).all()

    return {
        "from_ms": start, "to_ms": end,
        "total": totals[0], "average_rating": _round(totals[1]),
        "by_category": [{"category": c, "count": n, "rated": rated, "average_rating": _round(a)}
                        for c, n, rated, a in by_category],
        "rating_trend": [{"week_start_ms": int(w) * WEEK_MS + FIRST_MONDAY_MS, "rated": n,
                          "average_rating": _round(a)} for w, n, a in trend],
        "most_requested_products": [
            {"product_id": pid, "sku": sku, "name": name, "requested_quantity": float(qty),
             "requests": n} for pid, sku, name, qty, n in requested],
        "most_praised_products": [
            {"product_id": pid, "sku": sku, "name": name, "praises": n,
             "average_rating": _round(a)} for pid, sku, name, n, a in praised],
        "repeated_complaints": [
            {"customer_id": cid, "name": name, "complaints": n, "lowest_rating": low,
             "last_complaint_at": last} for cid, name, n, low, last in complaints],
    }


def _round(value):
    return None if value is None else round(float(value), 2)
