"""Demand per product as procurement reads it, from the demand job's latest rows.

Per product: last complete week's ordered quantity and feedback requests (and their sums over
the last four weeks of the job's history), the smoothed forecast for next week and its trend,
the open backlog, stock on hand, days of cover and the reorder suggestion, all as of the job's
run (`computed_at`; formulas in docs/scoring.md). A product the job has not seen yet is listed
with its live stock and no forecast.

The default order puts flagged products first (demand rising, or stock short of the open
backlog), then those with the fewest days of cover.
"""
from sqlalchemy import and_, case, func, or_, select

from fieldsales.common import WEEK_MS
from fieldsales.errors import ApiError
from fieldsales.extensions import db
from fieldsales.listing import Listing
from fieldsales.products.models import Product
from fieldsales.reports.demand_schemas import DemandSchema
from fieldsales.scoring.models import ProductDemand

HISTORY_WEEKS = 4
CHART_WEEKS = 12  # the weeks of history a product's chart shows
NO_COVER = 1e9


def query():
    """Products with their latest demand row, and the allow-listed sorts over them."""
    latest = ProductDemand
    recent = (select(ProductDemand.product_id.label("product_id"),
                     func.sum(ProductDemand.ordered_quantity).label("ordered_4w"),
                     func.sum(ProductDemand.feedback_requested_quantity).label("requested_4w"))
              .where(ProductDemand.week_start > select(func.max(ProductDemand.week_start))
                     .scalar_subquery() - HISTORY_WEEKS * WEEK_MS)
              .group_by(ProductDemand.product_id).subquery("recent"))
    flagged = or_(latest.rising_demand.is_(True), latest.stock_short_of_backlog.is_(True))
    base = (select(Product.id.label("product_id"), Product.sku, Product.name, Product.unit,
                   latest.week_start, latest.ordered_quantity,
                   latest.feedback_requested_quantity, recent.c.ordered_4w,
                   recent.c.requested_4w, latest.forecast, latest.trend, latest.level,
                   latest.backlog_quantity,
                   func.coalesce(latest.stock_on_hand, Product.stock_on_hand)
                   .label("stock_on_hand"),
                   latest.lead_time_days, latest.days_of_cover, latest.reorder_suggestion,
                   func.coalesce(latest.rising_demand, False).label("rising_demand"),
                   func.coalesce(latest.stock_short_of_backlog, False)
                   .label("stock_short_of_backlog"),
                   case((flagged, True), else_=False).label("flagged"),
                   latest.computed_at)
            .outerjoin(latest, and_(latest.product_id == Product.id, latest.is_latest.is_(True)))
            .outerjoin(recent, recent.c.product_id == Product.id)
            .where(Product.deleted_at.is_(None)))
    cover = func.coalesce(latest.days_of_cover, NO_COVER)
    sorts = {
        "attention": case((flagged, 0.0), else_=NO_COVER * 10) + cover,
        "sku": Product.sku,
        "forecast": func.coalesce(latest.forecast, 0.0),
        "days_of_cover": cover,
        "reorder_suggestion": func.coalesce(latest.reorder_suggestion, 0.0),
    }
    filters = {
        "flagged": lambda v: flagged if v else ~func.coalesce(flagged, False),
        "rising_demand": lambda v: func.coalesce(latest.rising_demand, False) == v,
        "stock_short_of_backlog": lambda v: func.coalesce(latest.stock_short_of_backlog,
                                                          False) == v,
        "q": lambda v: or_(func.lower(Product.name).contains(v.lower(), autoescape=True),
                           func.lower(Product.sku).contains(v.lower(), autoescape=True)),
    }
    return base, sorts, filters


def respond(*, args: dict):
    """The demand list (GET /demand and the console's Demand): a page of `args`, or CSV."""
    base, sorts, filters = query()
    listing = Listing(name="demand", item_schema=DemandSchema, sorts=sorts,
                      id_key=Product.id, filters=filters)
    return listing.respond(args=args, query=base, decorate=shape)


def shape(rows: list[dict]) -> list[dict]:
    """Round the figures for reading; flags stay booleans."""
    out = []
    for row in rows:
        item = dict(row)
        for name in ("ordered_quantity", "feedback_requested_quantity", "ordered_4w",
                     "requested_4w", "forecast", "trend", "level", "backlog_quantity",
                     "stock_on_hand", "days_of_cover", "reorder_suggestion"):
            if item.get(name) is not None:
                item[name] = round(float(item[name]), 2)
        for name in ("rising_demand", "stock_short_of_backlog", "flagged"):
            item[name] = bool(item[name])
        out.append(item)
    return out


def product_weeks(*, product_id: str) -> dict:
    """One live product's weekly history (GET /demand/<product_id>/weeks); 404 if none."""
    if db.session.scalar(select(Product.id).where(Product.id == product_id,
                                                  Product.deleted_at.is_(None))) is None:
        raise ApiError(404, "not_found", "No such product.")
    return {"product_id": product_id,
            "weeks": weeks(product_ids=[product_id]).get(product_id, [])}


def weeks(*, product_ids: list[str], count: int = CHART_WEEKS) -> dict[str, list[dict]]:
    """Each product's rows of the last `count` weeks the job has seen (up to the newest
    week_start of any product), oldest first: the ordered quantity, the smoothed level and
    trend, and the forecast that week made for the one after. One query for a whole page."""
    if not product_ids:
        return {}
    newest = select(func.max(ProductDemand.week_start)).scalar_subquery()
    rows = db.session.execute(
        select(ProductDemand.product_id, ProductDemand.week_start,
               ProductDemand.ordered_quantity, ProductDemand.level, ProductDemand.trend,
               ProductDemand.forecast)
        .where(ProductDemand.product_id.in_(product_ids),
               ProductDemand.week_start > newest - count * WEEK_MS)
        .order_by(ProductDemand.product_id, ProductDemand.week_start)).mappings()
    history: dict[str, list[dict]] = {}
    for row in rows:
        history.setdefault(row["product_id"], []).append({
            "week_start": row["week_start"], **{
                name: round(float(row[name]), 2)
                for name in ("ordered_quantity", "level", "trend", "forecast")}})
    return history
