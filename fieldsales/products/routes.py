"""Products REST: everyone signed in reads the catalogue; admins and procurement keep it."""
from flask.views import MethodView
from sqlalchemy import func, or_

from fieldsales.errors import answers
from fieldsales.extensions import Blueprint, db
from fieldsales.listing import Listing
from fieldsales.products import service
from fieldsales.products.models import Product
from fieldsales.products.schemas import (
    ProductCreateSchema,
    ProductListArgs,
    ProductPageSchema,
    ProductSchema,
    ProductUpdateSchema,
)
from fieldsales.replica import reads_from_replica
from fieldsales.users.guard import require

blp = Blueprint("products", __name__, url_prefix="/api/v1",
                description="Products: sku, price, stock on hand and lead time.")

LISTING = Listing(
    name="products",
    item_schema=ProductSchema,
    sorts={"id": Product.id, "sku": Product.sku, "name": func.lower(Product.name),
           "stock_on_hand": Product.stock_on_hand, "unit_price": Product.unit_price},
    id_key=Product.id,
    filters={"sku": lambda v: Product.sku == v,
             "q": lambda v: or_(func.lower(Product.name).contains(v.lower(), autoescape=True),
                                func.lower(Product.sku).contains(v.lower(), autoescape=True))},
)


@blp.route("/products")
class Products(MethodView):
    @require()
    @blp.arguments(ProductListArgs, location="query", unknown=None)
    @blp.response(200, ProductPageSchema)
    @reads_from_replica
    def get(self, args):
        """List live products (any signed-in user).

        Sort by `id` (the default), `sku`, `name` (any case), `stock_on_hand` or
        `unit_price`; `-field` descending, ties on the id. Pass `next_cursor` back as
        `cursor` until it is null. `?format=csv` (or `Accept: text/csv`) exports every
        matching product.
        """
        return LISTING.respond(args=args, query=service.live())

    @require("admin", "procurement")
    @answers(409, "`duplicate_sku` / `duplicate_id`: a product (possibly a removed one) has this "
                  "sku or id.")
    @blp.arguments(ProductCreateSchema)
    @blp.response(201, ProductSchema)
    def post(self, data):
        """Create a product (admin, procurement).

        A `sku` or `id` already in use, even by a removed product, is 409.
        """
        product = service.create(data=data)
        db.session.commit()
        return product


@blp.route("/products/<product_id>")
class ProductById(MethodView):
    @require()
    @blp.response(200, ProductSchema)
    def get(self, product_id):
        """One live product."""
        return service.get(product_id=product_id)

    @require("admin", "procurement")
    @answers(409, "`duplicate_sku`: another product (possibly a removed one) has this sku.")
    @blp.arguments(ProductUpdateSchema)
    @blp.response(200, ProductSchema)
    def patch(self, changes, product_id):
        """Change a product (admin, procurement).

        Stock moves by setting `stock_on_hand`; reps' phones see the change on their next pull.
        """
        product = service.update(product=service.get(product_id=product_id), changes=changes)
        db.session.commit()
        return product

    @require("admin", "procurement")
    @blp.response(204)
    def delete(self, product_id):
        """Remove a product (admin, procurement).

        The removal is soft: the product answers 404 from now on, leaves reps' phones on their
        next pull, and stays on the orders that name it.
        """
        service.remove(product=service.get(product_id=product_id))
        db.session.commit()
