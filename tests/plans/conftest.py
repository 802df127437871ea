"""Shared ground of the journey plan tests: a fixed Monday morning, office hours in Lisbon."""
import pytest

from fieldsales.extensions import db
from fieldsales.users.models import Team
from tests.factories import at

# Monday 2 March 2026, 06:00 in Lisbon (UTC+0 until the end of March): before the day opens.
NOW = at("2026-03-02", 6)
WEEK = ["2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05", "2026-03-06"]
OFFICE = {**{day: ["09:00", "17:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
          "sat": None, "sun": None}
# Lisbon, and points a few kilometres around it.
LISBON = (38.72, -9.14)


@pytest.fixture
def office(app, team):
    """The manager's team works 09:00-17:00, Monday to Friday, in Lisbon."""
    with app.app_context():
        row = db.session.get(Team, team.manager.team_id)
        row.time_zone, row.working_hours = "Europe/Lisbon", OFFICE
        db.session.commit()
    return team


def near(i: int, step: float = 0.01) -> dict:
    """The i-th point of a small grid around Lisbon, as World.customer's lat/lon."""
    return {"lat": LISBON[0] + step * (i % 5), "lon": LISBON[1] + step * (i // 5)}
