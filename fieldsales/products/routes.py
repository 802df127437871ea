"""Routes of the products domain (to be built)."""
from fieldsales.products import models  # noqa: F401  (registers the tables)

blp = None
