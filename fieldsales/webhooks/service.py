"""Subscriptions (admins), and the `webhooks` job that delivers the outbox's events to them.

The job first fans the events it has not read out into deliveries, one per (subscription,
event), and commits them; then it sends the due ones, oldest first, committing each
attempt's outcome as it comes. A worker killed at any point loses nothing: an event is in
the outbox from its change's commit, its delivery row from the fan-out's, and an attempt
whose outcome was not committed is made again. A receiver can therefore get one message
twice (at least once, as every webhook sender): it keeps the `webhook-id` it has handled.
"""
import base64
import random
import secrets
import time

from flask import current_app
from sqlalchemy import delete, exists, insert, literal, select

from fieldsales.common import HOUR_MS, MINUTE_MS, new_id, now_ms
from fieldsales.errors import ApiError
from fieldsales.events.models import Event
from fieldsales.events.service import read_events
from fieldsales.extensions import db
from fieldsales.users import service as users_service
from fieldsales.users.models import User
from fieldsales.webhooks import sending
from fieldsales.webhooks.models import WebhookDelivery, WebhookSubscription

SECRET_PREFIX = "whsec_"


# --- subscriptions -----------------------------------------------------------------------

def _new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def _checked_url(url: str) -> str:
    try:
        sending.check_url(url)
    except sending.RefusedUrl as refused:
        raise ApiError(422, "validation_error", "The URL may not receive webhooks.",
                       {"url": [str(refused)]}) from None
    return url


def _checked_team(team_id: str | None) -> str | None:
    if team_id is not None:
        users_service.get_named_team(team_id=team_id)
    return team_id


def create_subscription(*, creator: User, url: str, event_types: list[str],
                        team_id: str | None = None, description: str | None = None
                        ) -> WebhookSubscription:
    """A new subscription; it receives the events that occur from now on. Its secret is
    answered this once (`as_shown(..., with_secret=True)`)."""
    now = now_ms()
    row = WebhookSubscription(
        id=new_id(), url=_checked_url(url), event_types=sorted(set(event_types)),
        team_id=_checked_team(team_id), description=description, secret=_new_secret(),
        active=True, failures_in_a_row=0, created_by_id=creator.id, created_at=now,
        updated_at=now)
    db.session.add(row)
    db.session.flush()
    return row


def get_subscription(*, subscription_id: str) -> WebhookSubscription:
    row = db.session.get(WebhookSubscription, subscription_id)
    if row is None:
        raise ApiError(404, "not_found", "No such webhook subscription.")
    return row


def list_subscriptions() -> list[WebhookSubscription]:
    return list(db.session.scalars(select(WebhookSubscription)
                                   .order_by(WebhookSubscription.created_at,
                                             WebhookSubscription.id)))


def update_subscription(*, subscription_id: str, changes: dict) -> WebhookSubscription:
    """Change the URL, types, team, description or `active`. Enabling a disabled one clears
    its reason and failure count; its deliveries still pending go out again."""
    row = get_subscription(subscription_id=subscription_id)
    if "url" in changes:
        row.url = _checked_url(changes["url"])
    if "event_types" in changes:
        row.event_types = sorted(set(changes["event_types"]))
    if "team_id" in changes:
        row.team_id = _checked_team(changes["team_id"])
    if "description" in changes:
        row.description = changes["description"]
    if "active" in changes and changes["active"] != row.active:
        row.active = changes["active"]
        if row.active:
            row.failures_in_a_row, row.disabled_reason = 0, None
        else:
            row.disabled_reason = "Disabled by an admin."
    row.updated_at = now_ms()
    db.session.flush()
    return row


def rotate_secret(*, subscription_id: str) -> WebhookSubscription:
    """A new secret, answered once; deliveries from now on are signed with it."""
    row = get_subscription(subscription_id=subscription_id)
    row.secret, row.updated_at = _new_secret(), now_ms()
    return row


def delete_subscription(*, subscription_id: str) -> None:
    """Gone with its delivery log; nothing more is sent to it."""
    row = get_subscription(subscription_id=subscription_id)
    db.session.execute(delete(WebhookDelivery)
                       .where(WebhookDelivery.subscription_id == row.id))
    db.session.delete(row)


def as_shown(row: WebhookSubscription, *, with_secret: bool = False) -> dict:
    return {"id": row.id, "url": row.url, "description": row.description,
            "event_types": row.event_types, "team_id": row.team_id, "active": row.active,
            "disabled_reason": row.disabled_reason, "failures_in_a_row": row.failures_in_a_row,
            "created_at": row.created_at, "updated_at": row.updated_at,
            "secret": row.secret if with_secret else None,
            "secret_hint": row.secret[:len(SECRET_PREFIX) + 4] + "…"}


# --- the delivery log --------------------------------------------------------------------

def deliveries_of(*, subscription_id: str):
    """The query of a subscription's deliveries (for the log's pages; 404 for no such
    subscription)."""
    get_subscription(subscription_id=subscription_id)
    return select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)


def redeliver(*, subscription_id: str, delivery_id: str) -> WebhookDelivery:
    """Send a delivery again now, whatever came of it, with a new retry window."""
    subscription = get_subscription(subscription_id=subscription_id)
    delivery = None if not (delivery_id.isdigit() and len(delivery_id) <= 18) else \
        db.session.scalar(select(WebhookDelivery).where(
            WebhookDelivery.id == int(delivery_id),
            WebhookDelivery.subscription_id == subscription.id))
    if delivery is None:
        raise ApiError(404, "not_found", "No such delivery of this subscription.")
    if not subscription.active:
        raise ApiError(409, "subscription_disabled",
                       "The subscription is disabled; enable it first "
                       f"({subscription.disabled_reason})")
    now = now_ms()
    delivery.status, delivery.next_attempt_at = "pending", now
    delivery.give_up_at = now + _retry_window_ms()
    db.session.flush()
    return delivery


# --- the job -----------------------------------------------------------------------------

def _retry_window_ms() -> int:
    return int(current_app.config["WEBHOOKS_RETRY_HOURS"] * HOUR_MS)


def retry_delay_ms(*, attempts: int, rng: random.Random | None = None) -> int:
    """Exponential back-off with jitter: WEBHOOKS_RETRY_FIRST_SECONDS after the first
    failed attempt, doubling after each, at most WEBHOOKS_RETRY_MAX_MINUTES; each wait is
    drawn from 75-125% of that, so receivers that failed together are not retried together."""
    config = current_app.config
    base = min(config["WEBHOOKS_RETRY_FIRST_SECONDS"] * 1000 * 2 ** (attempts - 1),
               config["WEBHOOKS_RETRY_MAX_MINUTES"] * MINUTE_MS)
    return int(base * (0.75 + (rng or random).random() / 2))


def fan_out(*, now: int) -> int:
    """A pending delivery for each unread event of each active subscription wanting it
    (its type, its team; occurred since the subscription was made): one INSERT .. SELECT
    per subscription (they are few; events are many). Moves the cursor."""
    reading = read_events(consumer="webhooks", now=now)
    give_up_at = now + _retry_window_ms()
    written = 0
    for subscription in db.session.scalars(select(WebhookSubscription)
                                           .where(WebhookSubscription.active.is_(True))):
        already = exists().where(WebhookDelivery.subscription_id == subscription.id,
                                 WebhookDelivery.event_id == Event.id)
        team = (literal(True) if subscription.team_id is None
                else Event.team_id == subscription.team_id)
        rows = select(literal(subscription.id), Event.id, literal("pending"), literal(0),
                      literal(now), literal(now), literal(give_up_at)).where(
            reading.unread(), Event.type.in_(subscription.event_types), team,
            Event.occurred_at >= subscription.created_at, ~already)
        written += len(db.session.execute(insert(WebhookDelivery).from_select(
            ["subscription_id", "event_id", "status", "attempts", "created_at",
             "next_attempt_at", "give_up_at"], rows).returning(WebhookDelivery.id)).all())
    reading.done()
    return written


def _message(event: Event) -> tuple[str, str]:
    """The webhook-id (the event's: the same on every attempt, so a receiver dedupes) and
    the body."""
    data = {**(event.payload or {}), "event_id": event.id, "subject_id": event.subject_id,
            "team_id": event.team_id, "occurred_at": event.occurred_at}
    return f"evt_{event.id}", sending.body_of(event_type=event.type,
                                              occurred_at=event.occurred_at, data=data)


def _record(delivery: WebhookDelivery, subscription: WebhookSubscription,
            outcome: sending.Outcome, now: int) -> None:
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.response_code, delivery.duration_ms = outcome.response_code, outcome.duration_ms
    delivery.error = outcome.error
    if outcome.ok:
        delivery.status, delivery.next_attempt_at = "succeeded", None
        subscription.failures_in_a_row = 0
        return
    next_at = now + retry_delay_ms(attempts=delivery.attempts)
    if now >= delivery.give_up_at:
        delivery.status, delivery.next_attempt_at = "failed", None
    else:  # the last attempt comes at the end of the window
        delivery.next_attempt_at = min(next_at, delivery.give_up_at)
    subscription.failures_in_a_row += 1
    limit = current_app.config["WEBHOOKS_DISABLE_AFTER_FAILURES"]
    if limit and subscription.failures_in_a_row >= limit and subscription.active:
        subscription.active = False
        subscription.disabled_reason = (
            f"Disabled after {subscription.failures_in_a_row} failed attempts in a row; "
            f"the last: {outcome.error}")[:1000]


def send_due(*, now: int) -> dict:
    """Send the due deliveries of active subscriptions, oldest due first, at most
    WEBHOOKS_BATCH and for at most WEBHOOKS_RUN_SECONDS; each outcome is committed."""
    config = current_app.config
    started = time.monotonic()
    deadline = started + config["WEBHOOKS_RUN_SECONDS"]
    due = db.session.execute(
        select(WebhookDelivery.id).join(WebhookSubscription)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now,
               WebhookSubscription.active.is_(True))
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(config["WEBHOOKS_BATCH"])).scalars().all()
    counts = {"sent": 0, "send_failed": 0, "left_due": 0}
    for index, delivery_id in enumerate(due):
        if time.monotonic() > deadline:
            counts["left_due"] = len(due) - index
            break
        delivery = db.session.get_one(WebhookDelivery, delivery_id)
        subscription = db.session.get_one(WebhookSubscription, delivery.subscription_id)
        if not subscription.active or delivery.status != "pending":
            continue  # disabled by an earlier failure of this run
        message_id, body = _message(db.session.get_one(Event, delivery.event_id))
        url, secret = subscription.url, subscription.secret
        db.session.commit()  # no transaction stays open while the receiver answers
        outcome = sending.post(url=url, secret=secret, message_id=message_id, body=body)
        # The attempt's time: the run's `now`, moved on by the time the run has taken.
        _record(delivery, subscription, outcome, now + int((time.monotonic() - started) * 1000))
        db.session.commit()
        counts["sent" if outcome.ok else "send_failed"] += 1
    return counts


def run(*, now: int | None = None) -> dict:
    """The `webhooks` job: fan the new events out into deliveries, commit them, send."""
    now = now_ms() if now is None else now
    written = fan_out(now=now)
    db.session.commit()
    return {"rows_written": written, **send_due(now=now)}
