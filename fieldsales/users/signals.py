"""What users announce to the domains above them, which users may not import.

Blinker signals (Flask's own dependency). `create_app` connects the receivers (customers and
tasks), so the wiring is explicit; the sender is always the rep.
"""
from blinker import Namespace

_signals = Namespace()

# A rep in no team joins `team_id`: their work in no team comes along (receivers return None).
rep_joining_team = _signals.signal("rep-joining-team")
# A rep is about to leave their team (for another, or removed): each receiver returns the
# counts of the rep's work it owns ({"assigned_customers": n}, {"open_tasks": n}); any work
# refuses the move or the removal.
rep_leaving_team = _signals.signal("rep-leaving-team")
# A user is being erased (docs/privacy.md): each receiver removes the person's positions and
# free text in its domain and returns what it removed ({"location_pings": n, ...}). The name
# and email are made a tombstone after, by users.service.erase.
user_erasing = _signals.signal("user-erasing")
