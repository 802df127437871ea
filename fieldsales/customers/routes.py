"""Routes of the customers domain (to be built)."""
from fieldsales.customers import models  # noqa: F401  (registers the tables)

blp = None
