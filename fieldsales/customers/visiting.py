"""When a customer should and can be visited: one home for the visit cadence, opening hours
and whether the customer can be placed on a route at all.

- Cadence (glossary "Visit cadence"): the customer's own `visit_cadence_days` (weekly 7,
  fortnightly 14, monthly 30, or any N days), else `VISIT_CADENCE_DAYS` from config by
  "kind:segment" (segment in lower case), then by "kind", else the team's
  `visit_cadence_days`, else DEFAULT_CADENCE_DAYS. Journey plans and territory balance read
  it alike (`cadence_days`).
- Opening hours: `opens_at`/`closes_at`, "HH:MM" in the team's zone; either may be null
  (open from the day's start, or until its end); when both are set, closing comes after
  opening (`opening_hours_ok`).
- Located: a customer whose position is the placeholder 0, 0 (an import or a form that had
  no coordinates) cannot be routed: journey plans never plan it and list it instead.
"""
from flask import current_app
from sqlalchemy import ColumnElement, and_, case, func, literal, or_

from fieldsales.customers.models import Customer

DEFAULT_CADENCE_DAYS = 14
CADENCES = {"weekly": 7, "fortnightly": 14, "monthly": 30}


def cadence_days(*, team_cadence=None, customer=Customer) -> ColumnElement:
    """The customer's cadence in days, as SQL (`team_cadence`: the team's column, joined by
    the caller, or None to skip it)."""
    defaults: dict = current_app.config["VISIT_CADENCE_DAYS"]
    segment = func.lower(func.coalesce(customer.segment, ""))
    by_segment = [(and_(customer.kind == kind, segment == seg.lower()), int(days))
                  for key, days in sorted(defaults.items()) if ":" in key
                  for kind, seg in [key.split(":", 1)]]
    by_kind = [(customer.kind == key, int(days)) for key, days in sorted(defaults.items())
               if ":" not in key]
    fallback = (func.coalesce(team_cadence, DEFAULT_CADENCE_DAYS) if team_cadence is not None
                else literal(DEFAULT_CADENCE_DAYS))
    configured = case(*by_segment, *by_kind, else_=fallback) if by_segment or by_kind \
        else fallback
    return func.coalesce(customer.visit_cadence_days, configured)


def opening_hours_ok(opens_at: str | None, closes_at: str | None) -> bool:
    """Opening hours close after they open (either may be null)."""
    return not (opens_at and closes_at) or opens_at < closes_at


def located(customer=Customer) -> ColumnElement:
    """The customer has a real position (not the 0, 0 placeholder), as SQL."""
    return or_(customer.latitude != 0, customer.longitude != 0)


def is_located(latitude: float, longitude: float) -> bool:
    """`located`, for a loaded row."""
    return latitude != 0 or longitude != 0
