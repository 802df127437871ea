"""Routes of the tasks domain (to be built)."""
from fieldsales.tasks import models  # noqa: F401  (registers the tables)

blp = None
