"""Off-duty positions (glossary "Working hours"): acknowledged to the phone, not kept.

A ping taken outside the rep's team's working hours (users/hours.py) stays counted as
accepted, so the phone never sends it again, but is not written; a team that must keep them
(`Team.keep_off_duty_positions`) stores them flagged `off_duty` instead, shown to no one but
the rep.
"""
from fieldsales.extensions import db
from fieldsales.sync.push.rules import Writes
from fieldsales.users import hours
from fieldsales.users.models import User


def set_aside(*, writes: Writes, user_id: str) -> None:
    """Drop (or mark) the pushed pings taken off duty."""
    pings = writes.rows.get("location_pings")
    if not pings:
        return
    rep = db.session.get(User, user_id)
    team = rep.team if rep is not None else None
    on_duty = hours.on_duty_test(team)
    off_duty = [ping_id for ping_id, row in pings.items() if not on_duty(row["recorded_at"])]
    for ping_id in off_duty:
        if team is not None and team.keep_off_duty_positions:
            pings[ping_id]["_off_duty"] = True
        else:
            del pings[ping_id]
