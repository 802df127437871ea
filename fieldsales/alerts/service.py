"""Alert rules, the `alerts` job and the feed. Nothing here commits except the job, which
commits the alerts it wrote before it sends their e-mails (so a send that hangs or a crash
while sending never loses an alert); the runner commits the rest with the run."""
from flask import current_app
from sqlalchemy import and_, exists, insert, literal, or_, select, update

from fieldsales.alerts import mail
from fieldsales.alerts.models import Alert, AlertRule
from fieldsales.alerts.schemas import THRESHOLD_TYPES
from fieldsales.common import DAY_MS, MINUTE_MS, now_ms
from fieldsales.errors import ApiError
from fieldsales.events.models import Event
from fieldsales.events.service import read_events
from fieldsales.extensions import db
from fieldsales.orders import rules as order_rules
from fieldsales.orders.models import Order
from fieldsales.users import scope
from fieldsales.users.models import Team, User

# How far back an order.late event is looked at again while its order stays pending, for a
# rule that alerts only past N days late (the event is written once, when the order turns
# late; its alert comes when the order has been late for N days).
LATE_LOOKBACK_MS = 90 * DAY_MS


# --- rules -------------------------------------------------------------------------------

def rules_of(*, team: Team) -> dict:
    """A team's rules, the enabled ones, by event type."""
    rows = db.session.scalars(select(AlertRule).where(
        AlertRule.team_id == team.id, AlertRule.enabled.is_(True))
        .order_by(AlertRule.event_type)).all()
    return {"team_id": team.id, "rules": [
        {"event_type": r.event_type, "threshold": r.threshold, "email": r.email,
         "recipients": r.recipients} for r in rows]}


def set_rules(*, team: Team, rules: list[dict]) -> dict:
    """Replace a team's rules: the types listed alert, the others no longer do (their rows
    stay, disabled, so the alerts they wrote keep their rule)."""
    seen = [rule["event_type"] for rule in rules]  # each once (AlertRulesSchema)
    existing = {r.event_type: r for r in db.session.scalars(
        select(AlertRule).where(AlertRule.team_id == team.id))}
    now = now_ms()
    for row in existing.values():
        if row.event_type not in seen:
            row.enabled, row.updated_at = False, now
    for rule in rules:
        found = existing.get(rule["event_type"])
        row = found if found is not None else AlertRule(team_id=team.id,
                                                        event_type=rule["event_type"])
        if found is None:
            db.session.add(row)
        row.enabled, row.updated_at = True, now
        row.threshold = rule.get("threshold")
        row.email = rule.get("email", True)
        recipients = rule.get("recipients")
        row.recipients = list(recipients) if recipients else None
    db.session.flush()
    return rules_of(team=team)


# --- the job -----------------------------------------------------------------------------

def _meets_threshold(*, now: int):
    """SQL: the event passes its rule's threshold (a rule without one takes every event).
    rep.silent: minutes from the rep's last ping or sync (`last_heard_at`) to the event, at
    least the threshold; order.late: days past `requested_delivery_at` now, at least the
    threshold, the order still pending; feedback.complaint: `rating` at most the threshold.
    Epoch ms are compared as floats (PostgreSQL's integer is 32 bits)."""
    payload = Event.__table__.c.payload
    silent_minutes = (Event.occurred_at - payload["last_heard_at"].as_float()) / MINUTE_MS
    late_days = (now - payload["requested_delivery_at"].as_float()) / DAY_MS
    still_pending = exists().where(Order.id == Event.subject_id, order_rules.pending())
    return or_(
        AlertRule.threshold.is_(None),
        Event.type.not_in(list(THRESHOLD_TYPES)),
        and_(Event.type == "rep.silent", silent_minutes >= AlertRule.threshold),
        and_(Event.type == "order.late", late_days >= AlertRule.threshold, still_pending),
        and_(Event.type == "feedback.complaint",
             payload["rating"].as_integer() <= AlertRule.threshold))


def write_alerts(*, now: int) -> int:
    """Alerts for the events the job has not read (`events.service.read_events`), one
    INSERT .. SELECT; the unique (rule, event) key keeps each alert once."""
    reading = read_events(consumer="alerts", now=now)
    already = exists().where(Alert.rule_id == AlertRule.id, Alert.event_id == Event.id)
    late_again = and_(Event.type == "order.late", AlertRule.threshold.is_not(None),
                      Event.occurred_at >= now - LATE_LOOKBACK_MS)
    rows = (select(AlertRule.id, Event.id, Event.team_id, literal(now), AlertRule.email)
            .select_from(Event)
            .join(AlertRule, and_(AlertRule.team_id == Event.team_id,
                                  AlertRule.event_type == Event.type,
                                  AlertRule.enabled.is_(True)))
            .where(reading.unread(late_again), _meets_threshold(now=now), ~already))
    written = db.session.execute(insert(Alert).from_select(
        ["rule_id", "event_id", "team_id", "created_at", "mail_wanted"], rows)
        .returning(Alert.id)).all()
    reading.done()
    return len(written)


def _recipients(rule: AlertRule) -> list[str]:
    if rule.recipients:
        return list(rule.recipients)
    return list(db.session.scalars(select(User.email).where(
        User.team_id == rule.team_id, User.role == "manager", User.active.is_(True),
        User.deleted_at.is_(None)).order_by(User.email)))


def _subject(event: Event, team: Team) -> str:
    return f"[fieldsales] {event.type} in {team.name} ({event.subject_id})"


def _body(alert: Alert, event: Event, team: Team) -> str:
    lines = [f"Team: {team.name}", f"Event: {event.type}", f"Subject: {event.subject_id}",
             f"Occurred at (epoch ms, UTC): {event.occurred_at}", "Details:"]
    lines += [f"  {key}: {value}" for key, value in sorted((event.payload or {}).items())]
    lines.append(f"Acknowledge in the console's Alerts page (alert {alert.id}).")
    return "\n".join(lines) + "\n"


def send_mails(*, now: int) -> dict:
    """E-mail the alerts that want it and were not sent yet (failed ones again), oldest
    first, at most ALERTS_MAIL_BATCH; each alert records its send or its error."""
    if not mail.configured():
        return {"mailed": 0, "mail_failed": 0, "mail": "off"}
    batch = db.session.execute(
        select(Alert, Event, AlertRule, Team)
        .join(Event, Event.id == Alert.event_id).join(AlertRule, AlertRule.id == Alert.rule_id)
        .join(Team, Team.id == Alert.team_id)
        .where(Alert.mail_wanted.is_(True), Alert.mailed_at.is_(None))
        .order_by(Alert.id).limit(current_app.config["ALERTS_MAIL_BATCH"])).all()
    messages, nobody = [], []
    for alert, event, rule, team in batch:
        to = _recipients(rule)
        if not to:
            nobody.append(alert)
            continue
        messages.append((alert.id, mail.message(to=to, subject=_subject(event, team),
                                                body=_body(alert, event, team))))
    outcome = mail.send_all(messages)
    by_id = {alert.id: alert for alert, *_ in batch}
    for alert in nobody:
        outcome[alert.id] = "no recipients: the team has no manager and the rule names none"
    for alert_id, error in outcome.items():
        alert = by_id[alert_id]
        alert.mail_attempts += 1
        if error is None:
            alert.mailed_at, alert.mail_error = now, None
        else:
            alert.mail_error = error
    failed = sum(1 for error in outcome.values() if error is not None)
    return {"mailed": len(outcome) - failed, "mail_failed": failed, "mail": "on"}


def run(*, now: int | None = None) -> dict:
    """The `alerts` job: write the new alerts, commit them, then send their e-mails."""
    now = now_ms() if now is None else now
    written = write_alerts(now=now)
    db.session.commit()  # the alerts exist before any e-mail is tried
    sent = send_mails(now=now)
    return {"rows_written": written, **sent}


# --- the feed ----------------------------------------------------------------------------

def feed(*, viewer: User, team_id: str | None, unacknowledged: bool, limit: int,
         cursor: int | None = None) -> dict:
    """The viewer's alerts, newest first: a manager's team's, an admin's all (or a team's);
    a page of `limit` after `cursor` (the previous page's `next_cursor`, an alert id)."""
    query = (select(Alert, Event).join(Event, Event.id == Alert.event_id)
             .where(scope.team_clause(viewer=viewer, team_column=Alert.team_id,
                                      team_id=team_id)))
    if unacknowledged:
        query = query.where(Alert.acknowledged_at.is_(None))
    if cursor is not None:
        query = query.where(Alert.id < cursor)
    rows = db.session.execute(query.order_by(Alert.id.desc()).limit(limit + 1)).all()
    items = [as_shown(alert, event) for alert, event in rows[:limit]]
    return {"items": items, "next_cursor": items[-1]["id"] if len(rows) > limit else None}


def as_shown(alert: Alert, event: Event) -> dict:
    return {"id": alert.id, "team_id": alert.team_id, "event_id": event.id,
            "event_type": event.type, "subject_id": event.subject_id,
            "payload": event.payload, "occurred_at": event.occurred_at,
            "created_at": alert.created_at, "acknowledged_at": alert.acknowledged_at,
            "acknowledged_by_id": alert.acknowledged_by_id, "mail_wanted": alert.mail_wanted,
            "mailed_at": alert.mailed_at, "mail_error": alert.mail_error}


def acknowledge(*, viewer: User, alert_id: str) -> dict:
    """Acknowledge an alert the viewer may see (again: the first acknowledgement stays)."""
    if not alert_id.isdigit() or len(alert_id) > 18:
        raise ApiError(404, "not_found", "No such alert.")
    alert = db.session.scalar(select(Alert).where(
        Alert.id == int(alert_id), scope.team_clause(viewer=viewer, team_column=Alert.team_id)))
    if alert is None:
        raise ApiError(404, "not_found", "No such alert.")
    if alert.acknowledged_at is None:
        db.session.execute(update(Alert).where(Alert.id == alert.id, Alert.acknowledged_at
                                               .is_(None))
                           .values(acknowledged_at=now_ms(), acknowledged_by_id=viewer.id))
        db.session.refresh(alert)
    return as_shown(alert, db.session.get_one(Event, alert.event_id))
