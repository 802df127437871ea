"""Routes of the orders domain (to be built)."""
from fieldsales.orders import models  # noqa: F401  (registers the tables)

blp = None
from fieldsales.feedback import models as _feedback  # noqa: F401,E402
from fieldsales.locations import models as _locations  # noqa: F401,E402
from fieldsales.visits import models as _visits  # noqa: F401,E402
