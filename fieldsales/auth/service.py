"""Sign-in: credentials checked against the accounts, and throttling of failures."""
from flask import current_app
from sqlalchemy import select
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


def _refuse_when_over(*, column, value: str, limit: int) -> None:
    """429 once `limit` failures for this email or address are in the window.

    Retry-After is when the failure that must expire for the count to fall under the limit
    (the limit-th newest) leaves the window, so it is never shorter than the lock.
    """
    window_ms = current_app.config["LOGIN_FAILURE_WINDOW_SECONDS"] * 1000
    now = now_ms()
    expiring = db.session.scalar(
        select(LoginFailure.failed_at)
        .where(column == value, LoginFailure.failed_at > now - window_ms)
        .order_by(LoginFailure.failed_at.desc())
        .offset(max(limit, 1) - 1).limit(1)
    )
    if expiring is None:
        return
    retry_after = max(1, -(-(expiring + window_ms - now) // 1000))
    raise ApiError(429, "too_many_requests",
                   "Too many failed sign-in attempts; try again later.",
                   {"retry_after_seconds": retry_after},
                   headers={"Retry-After": str(retry_after)})


def authenticate(*, email: str, password: str, address: str) -> User:
    """The active user with these credentials.

    Too many failures for an email refuse every attempt for it (brute force on one account).
    Too many from an address refuse only wrong credentials: a whole team may sign in from
    one office address, so correct credentials always get through. Every wrong attempt is
    recorded, even when refused with 429, so a busy address is no way round the per-email
    limit. The failure is committed here because the request ends in an error.
    """
    cfg = current_app.config
    email = email.strip().lower()
    _refuse_when_over(column=LoginFailure.email, value=email,
                      limit=cfg["LOGIN_MAX_FAILURES_PER_EMAIL"])
    user = db.session.scalar(select(User).where(User.email == email))
    valid = check_password_hash(user.password_hash if user else dummy_hash(), password)
    if user and valid and user.active and user.deleted_at is None:
        return user
    db.session.add(LoginFailure(email=email, address=address))
    db.session.flush()
    try:
        _refuse_when_over(column=LoginFailure.address, value=address,
                          limit=cfg["LOGIN_MAX_FAILURES_PER_ADDRESS"] + 1)
    finally:
        db.session.commit()
    raise ApiError(401, "invalid_credentials", "The email or password is wrong.")
