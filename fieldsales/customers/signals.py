"""What customers announce to the domains whose rows name a customer, which customers may not
import (visits, feedback beside it; orders, tasks above it).

Blinker signals, like fieldsales.users.signals; `create_app` connects the receivers, so the
wiring is explicit. The sender is the customer being merged.
"""
from blinker import Namespace

_signals = Namespace()

# A customer is merged into `kept_id`: each receiver moves its rows to the kept customer,
# stamped `stamp` for sync, and returns how many it moved ({"visits": n}).
customer_merging = _signals.signal("customer-merging")
