"""Routes of the sync domain (to be built)."""
from fieldsales.sync import models  # noqa: F401  (registers the tables)

blp = None
