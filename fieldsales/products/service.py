"""Products: the catalogue procurement keeps; sku is unique, even among removed products."""
from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError

from fieldsales.common import now_ms
from fieldsales.errors import ApiError
from fieldsales.extensions import db
from fieldsales.products.models import Product

_FIELDS = ("sku", "name", "unit", "unit_price", "stock_on_hand", "lead_time_days")


def _flush_new(product: Product) -> None:
    """A concurrent create that took the same id or sku is the client's 409, not a 500."""
    db.session.add(product)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise ApiError(409, "duplicate", "That product id or sku already exists.") from None


def live() -> Select:
    return select(Product).where(Product.deleted_at.is_(None))


def get(*, product_id: str) -> Product:
    product = db.session.scalar(live().where(Product.id == product_id))
    if product is None:
        raise ApiError(404, "not_found", "No such product.")
    return product


def search(*, filters: dict) -> Select:
    query = live()
    if filters.get("sku"):
        query = query.where(Product.sku == filters["sku"])
    if filters.get("q"):
        needle = filters["q"].lower()
        query = query.where(or_(func.lower(Product.name).contains(needle, autoescape=True),
                                func.lower(Product.sku).contains(needle, autoescape=True)))
    return query


def _check_sku_free(sku: str, *, product_id: str | None = None) -> None:
    clash = db.session.scalar(select(Product.id).where(Product.sku == sku))
    if clash is not None and clash != product_id:
        raise ApiError(409, "duplicate_sku", f"A product with sku '{sku}' already exists.",
                       {"sku": ["Already in use (possibly by a removed product)."]})


def create(*, data: dict) -> Product:
    if data.get("id") and db.session.get(Product, data["id"]) is not None:
        raise ApiError(409, "duplicate_id", "A product with this id already exists.",
                       {"id": ["Already in use."]})
    _check_sku_free(data["sku"])
    product = Product(id=data.get("id"), **{k: data[k] for k in _FIELDS if k in data})
    _flush_new(product)
    return product


def update(*, product: Product, changes: dict) -> Product:
    if "sku" in changes:
        _check_sku_free(changes["sku"], product_id=product.id)
    try:
        # A savepoint: a concurrent update that took the sku after the check is refused by
        # the unique index, a 409 like the check's, and the transaction stays usable.
        with db.session.begin_nested():
            for name in _FIELDS:
                if name in changes:
                    setattr(product, name, changes[name])
    except IntegrityError:
        raise ApiError(409, "duplicate_sku", f"A product with sku '{changes.get('sku')}' "
                       "already exists.", {"sku": ["Already in use."]}) from None
    return product


def remove(*, product: Product) -> None:
    """Soft removal: phones drop the product on their next pull; old orders keep it."""
    product.deleted_at = now_ms()
