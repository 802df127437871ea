"""Who is calling: the bearer token check and role rules for routes."""
from functools import wraps

from flask import g, request

from fieldsales.errors import ApiError
from fieldsales.users.credentials import user_for_token
from fieldsales.users.models import User


def current_user() -> User:
    return g.current_user


def current_token() -> str:
    """The bearer token of this request (set by `authenticate_request`), for sign-out."""
    return g.current_token


def authenticate_request() -> User:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "Sign in: send 'Authorization: Bearer <token>'.")
    user = user_for_token(token=token.strip())
    if user is None:
        raise ApiError(401, "invalid_token", "The token is invalid, expired or revoked.")
    g.current_user, g.current_token = user, token.strip()
    return user


def require(*roles: str):
    """Route decorator: a valid token, and one of `roles` when given."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            user = authenticate_request()
            if roles and user.role not in roles:
                raise ApiError(403, "forbidden",
                               f"This action is not allowed for the role '{user.role}'.")
            return view(*args, **kwargs)

        # Read by the authorization matrix test; mypy knows no attributes set on functions.
        wrapper.required_roles = roles  # type: ignore[attr-defined]
        return wrapper

    return decorator
