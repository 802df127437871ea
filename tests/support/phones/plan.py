"""The shape of a run, and the phone's schema: the tables it pushes, the columns it owns."""
from __future__ import annotations

from dataclasses import dataclass

PASSWORD = "bench-password-1"

# Every table of the phone's schema goes into every push (a stock WatermelonDB client does so).
PHONE_TABLES = ("customers", "products", "tasks", "visits", "location_pings", "feedback",
                "orders", "order_lines")
# Columns a phone owns, per table it creates records in: the server must store them as sent.
OWNED = {
    "visits": ("customer_id", "check_in_at", "check_in_latitude", "check_in_longitude",
               "check_in_accuracy_m", "check_out_at", "check_out_latitude",
               "check_out_longitude", "outcome", "notes"),
    "location_pings": ("recorded_at", "latitude", "longitude", "accuracy_m", "speed_mps",
                       "battery_pct"),
    "feedback": ("customer_id", "visit_id", "recorded_at", "rating", "category", "product_id",
                 "requested_quantity", "comment"),
    "orders": ("customer_id", "visit_id", "ordered_at", "requested_delivery_at", "notes"),
    "order_lines": ("order_id", "product_id", "quantity", "unit_price"),
}
TASK_OWNED = ("status", "completed_at", "completion_note")


@dataclass
class Plan:
    """The shape of the run. Phone times are simulated; only `pace_ms`, `timeout_s`,
    `retry_for_s` and `max_wall_s` are real seconds."""

    phones: int = 50
    two_phone_share: float = 0.1  # share of reps that carry a second phone
    reps_per_manager: int = 10
    customers_per_rep: int = 8
    tasks_per_rep: int = 3
    products: int = 40
    hours: float = 8.0  # the field day, in phone time
    ping_every_s: int = 30
    sync_every_min: float = 10.0
    visits_per_day: int = 8
    order_share: float = 0.6
    feedback_share: float = 0.4
    offline_gaps: int = 2  # per phone and day, 15-60 minutes each
    abandon_share: float = 0.03  # pushes hung up on before the answer, then resent as they were
    duplicate_share: float = 0.03  # accepted pushes sent a second time
    bad_share: float = 0.01  # feedback with rating 9: belongs in the quarantine
    bad_first: int = 0  # such feedback every phone records before its first sync, for sure
    admin_edits_per_s: float = 2.0  # task descriptions changed by the admin during the day
    pace_ms: int = 0  # real pause after each sync (0: as fast as the server answers)
    timeout_s: float = 60.0  # client socket timeout
    retry_for_s: float = 120.0  # how long a phone keeps resending one request
    max_wall_s: float = 900.0  # phones stop their day early past this
    setup_threads: int = 8
    seed: int = 1
