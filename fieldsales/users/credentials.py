"""Passwords and bearer tokens: what makes a user an account others can sign in to."""
import hashlib
import secrets

from flask import current_app
from sqlalchemy import delete, or_, select, update
from werkzeug.security import generate_password_hash

from fieldsales.common import now_ms
from fieldsales.database import rowcount
from fieldsales.extensions import db
from fieldsales.users.models import AuthToken, User


def hash_password(*, password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def _token_hash(*, token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(*, user: User) -> tuple[str, int]:
    """A new bearer token for `user`; every sign-in also prunes the dead tokens of all users
    (see `prune_tokens`), so the table holds live tokens and not a history of them."""
    prune_tokens(now=now_ms())
    ttl = current_app.config["TOKEN_TTL_SECONDS"]
    token = secrets.token_urlsafe(32)
    db.session.add(AuthToken(user_id=user.id, token_hash=_token_hash(token=token),
                             expires_at=now_ms() + ttl * 1000))
    return token, ttl


def user_for_token(*, token: str) -> User | None:
    return db.session.scalar(
        select(User).join(AuthToken, AuthToken.user_id == User.id).where(
            AuthToken.token_hash == _token_hash(token=token),
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
    return rowcount(result)


def revoke_token(*, token: str) -> bool:
    """Revoke one token (sign-out on one device); False if it was not live."""
    result = db.session.execute(
        update(AuthToken)
        .where(AuthToken.token_hash == _token_hash(token=token), AuthToken.revoked_at.is_(None))
        .values(revoked_at=now_ms())
    )
    return rowcount(result) > 0


def prune_tokens(*, now: int) -> int:
    """Delete tokens that can never be used again (expired or revoked), in one statement;
    returns how many. A deleted token answers 401 `invalid_token` like a revoked one."""
    result = db.session.execute(
        delete(AuthToken)
        .where(or_(AuthToken.expires_at <= now, AuthToken.revoked_at.is_not(None)))
        .execution_options(synchronize_session=False)
    )
    return rowcount(result)
