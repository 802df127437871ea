"""Passwords, bearer tokens and login throttling."""
import hashlib
import secrets

from flask import current_app
from sqlalchemy import func, or_, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from fieldsales.auth.models import AuthToken, LoginFailure
from fieldsales.common import now_ms
from fieldsales.errors import ApiError
from fieldsales.extensions import db
from fieldsales.users.models import User

# Checked against when the email is unknown, so a miss costs as much as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-password", method="pbkdf2:sha256:1000")


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_throttle(*, email: str, address: str) -> None:
    """Refuse with 429 once failures in the window pass the per-email or per-address limit."""
    cfg = current_app.config
    window_ms = cfg["LOGIN_FAILURE_WINDOW_SECONDS"] * 1000
    since = now_ms() - window_ms
    row = db.session.execute(
        select(
            func.count().filter(LoginFailure.email == email),
            func.count().filter(LoginFailure.address == address),
            func.min(LoginFailure.failed_at),
        ).where(LoginFailure.failed_at > since,
                or_(LoginFailure.email == email, LoginFailure.address == address))
    ).one()
    by_email, by_address, oldest = row
    if by_email >= cfg["LOGIN_MAX_FAILURES_PER_EMAIL"] or by_address >= cfg["LOGIN_MAX_FAILURES_PER_ADDRESS"]:
        retry_after = max(1, ((oldest or since) + window_ms - now_ms()) // 1000 + 1)
        raise ApiError(429, "too_many_requests",
                       "Too many failed sign-in attempts; try again later.",
                       {"retry_after_seconds": retry_after},
                       headers={"Retry-After": str(retry_after)})


def authenticate(*, email: str, password: str, address: str) -> User:
    """The active user with these credentials; failures are recorded for throttling."""
    email = email.strip().lower()
    check_throttle(email=email, address=address)
    user = db.session.scalar(select(User).where(User.email == email))
    valid = check_password_hash(user.password_hash if user else _DUMMY_HASH, password)
    if not (user and valid and user.active and user.deleted_at is None):
        db.session.add(LoginFailure(email=email, address=address))
        db.session.commit()
        raise ApiError(401, "invalid_credentials", "The email or password is wrong.")
    return user


def issue_token(*, user: User) -> tuple[str, int]:
    ttl = current_app.config["TOKEN_TTL_SECONDS"]
    token = secrets.token_urlsafe(32)
    db.session.add(AuthToken(user_id=user.id, token_hash=_token_hash(token),
                             expires_at=now_ms() + ttl * 1000))
    return token, ttl


def user_for_token(token: str) -> User | None:
    return db.session.scalar(
        select(User).join(AuthToken, AuthToken.user_id == User.id).where(
            AuthToken.token_hash == _token_hash(token),
            AuthToken.revoked_at.is_(None),
            AuthToken.expires_at > now_ms(),
            User.active.is_(True),
            User.deleted_at.is_(None),
        )
    )


def revoke_tokens(*, user: User) -> int:
    """Revoke every live token of a user (a lost phone); returns how many."""
    result = db.session.execute(
        update(AuthToken)
        .where(AuthToken.user_id == user.id, AuthToken.revoked_at.is_(None))
        .values(revoked_at=now_ms())
    )
    return result.rowcount
