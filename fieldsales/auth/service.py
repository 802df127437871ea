"""Sign-in: credentials checked against the accounts, and throttling of failures."""
import time

from flask import current_app
from sqlalchemy import delete, func, select
from werkzeug.security import check_password_hash, generate_password_hash

from fieldsales.auth.models import LoginFailure
from fieldsales.common import now_ms
from fieldsales.errors import ApiError
from fieldsales.extensions import db
from fieldsales.users.models import User

# Hashes of a throwaway password, one per hashing method, made on first use.
_dummy_hashes: dict[str, str] = {}


def dummy_hash() -> str:
    """Checked against when the email is unknown. Made with the configured method (cost),
    so a miss takes as long as a wrong password and timing does not tell which emails exist."""
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _dummy_hashes:
        _dummy_hashes[method] = generate_password_hash("not-a-password", method=method)
    return _dummy_hashes[method]


def _window_start(*, now: int) -> int:
    return now - current_app.config["LOGIN_FAILURE_WINDOW_SECONDS"] * 1000


def _refuse_when_over(*, where, limit: int, now: int) -> None:
    """429 once `limit` failures matching `where` are in the window.

    Retry-After is when the failure that must expire for the count to fall under the limit
    (the limit-th newest) leaves the window, so it is never shorter than the lock.
    """
    window_start = _window_start(now=now)
    expiring = db.session.scalar(
        select(LoginFailure.failed_at)
        .where(*where, LoginFailure.failed_at > window_start)
        .order_by(LoginFailure.failed_at.desc())
        .offset(max(limit, 1) - 1).limit(1)
    )
    if expiring is None:
        return
    retry_after = max(1, -(-(expiring - window_start) // 1000))
    raise ApiError(429, "too_many_requests",
                   "Too many failed sign-in attempts; try again later.",
                   {"retry_after_seconds": retry_after},
                   headers={"Retry-After": str(retry_after)})


def slow_down_seconds(*, failures: int) -> float:
    """The delay of every attempt for an email with `failures` in the window, from any
    address: none under the limit, then the first delay doubling with each further failure,
    up to the cap."""
    cfg = current_app.config
    over = failures - cfg["LOGIN_MAX_FAILURES_PER_EMAIL"]
    if over < 0:
        return 0
    return min(cfg["LOGIN_SLOW_MAX_DELAY_SECONDS"], cfg["LOGIN_SLOW_DELAY_SECONDS"] * 2 ** over)


def _slow_down(*, email: str, now: int) -> None:
    """An email failing from many addresses (each under its own limits) gets a slower path:
    the delay comes before the password check and applies to every attempt, so it tells the
    attacker nothing, and the right password still signs in, a few seconds late at most."""
    failures = db.session.execute(select(func.count()).select_from(LoginFailure).where(
        LoginFailure.email == email, LoginFailure.failed_at > _window_start(now=now))).scalar_one()
    delay = slow_down_seconds(failures=failures)
    if delay:
        time.sleep(delay)


def _record_failure(*, email: str, address: str, now: int) -> None:
    """Keep the failure and prune, in one indexed DELETE, those the window has let go
    (so the table holds at most each address's limit per window)."""
    db.session.add(LoginFailure(email=email, address=address, failed_at=now))
    db.session.execute(delete(LoginFailure).where(
        LoginFailure.failed_at <= _window_start(now=now)))


def authenticate(*, email: str, password: str, address: str) -> User:
    """The active user with these credentials.

    An email and address pair with too many failures (brute force on one account from one
    place) is refused with 429 before the password is checked, so it burns no CPU and learns
    nothing; the user still signs in from elsewhere. An address with too many failures over
    any emails (spraying) gets 429 for every wrong attempt, but the right password from it
    still signs in: a whole team may sign in from one office address, and the sync contract
    never throttles a successful login (so each of those attempts is still checked). Only
    checked attempts that fail are recorded. The failure is committed here because the
    request ends in an error.
    """
    cfg = current_app.config
    email = email.strip().lower()
    now = now_ms()
    _refuse_when_over(where=(LoginFailure.email == email, LoginFailure.address == address),
                      limit=cfg["LOGIN_MAX_FAILURES_PER_EMAIL_ADDRESS"], now=now)
    _slow_down(email=email, now=now)
    user = db.session.scalar(select(User).where(User.email == email))
    valid = check_password_hash(user.password_hash if user else dummy_hash(), password)
    if user and valid and user.active and user.deleted_at is None:
        return user
    _record_failure(email=email, address=address, now=now_ms())
    db.session.flush()
    try:
        _refuse_when_over(where=(LoginFailure.address == address,),
                          limit=cfg["LOGIN_MAX_FAILURES_PER_ADDRESS"] + 1, now=now_ms())
    finally:
        db.session.commit()
    raise ApiError(401, "invalid_credentials", "The email or password is wrong.")
