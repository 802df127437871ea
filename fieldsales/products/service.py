"""Products: the catalogue procurement keeps; sku is unique, even among removed products."""
from sqlalchemy import Select, select

from fieldsales.common import now_ms
from fieldsales.database import UniqueKey, add_new, id_key, kept_unique
from fieldsales.errors import ApiError
from fieldsales.extensions import db
from fieldsales.products.models import Product

_FIELDS = ("sku", "name", "unit", "unit_price", "stock_on_hand", "lead_time_days")
PRODUCT_ID = id_key(Product, what="product")
SKU = UniqueKey(Product.sku, code="duplicate_sku",
                message="A product with sku '{value}' already exists.",
                problem="Already in use (possibly by a removed product).")


def live() -> Select:
    return select(Product).where(Product.deleted_at.is_(None))


def get(*, product_id: str) -> Product:
    product = db.session.scalar(live().where(Product.id == product_id))
    if product is None:
        raise ApiError(404, "not_found", "No such product.")
    return product


def _check_sku_free(sku: str, *, product_id: str | None = None) -> None:
    clash = db.session.scalar(select(Product.id).where(Product.sku == sku))
    if clash is not None and clash != product_id:
        raise SKU.error(sku)


def create(*, data: dict) -> Product:
    if data.get("id") and db.session.get(Product, data["id"]) is not None:
        raise PRODUCT_ID.error()
    _check_sku_free(data["sku"])
    product = Product(id=data.get("id"), **{k: data[k] for k in _FIELDS if k in data})
    add_new(product, PRODUCT_ID, SKU)
    return product


def update(*, product: Product, changes: dict) -> Product:
    if "sku" in changes:
        _check_sku_free(changes["sku"], product_id=product.id)
    with kept_unique((SKU, changes.get("sku"))):
        for name in _FIELDS:
            if name in changes:
                setattr(product, name, changes[name])
    return product


def remove(*, product: Product) -> None:
    """Soft removal: phones drop the product on their next pull; old orders keep it."""
    product.deleted_at = now_ms()
