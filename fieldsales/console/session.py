"""Who is using the console: the signed-in session, the role guard of pages, and CSRF.

One home for auth: signing in goes through `auth.service.authenticate` (its throttle
included) and issues an ordinary bearer token (`users.credentials.issue_token`), kept in the
signed Flask session cookie; every page looks the token up like the API does
(`user_for_token`), so expiry, revocation (`users revoke-tokens`, a deactivation) and
sign-out work the same for both. Signing out revokes the token.

CSRF: a random token per session (synchronizer pattern), sent back by every form as the
hidden field `csrf_token` (or the `X-CSRF-Token` header) and compared in constant time before
any state-changing request of the console runs. The JSON API takes bearer tokens only, never
this cookie, so it needs no CSRF token.
"""
import hmac
import secrets
from functools import wraps
from urllib.parse import urlsplit

from flask import abort, g, redirect, request, session, url_for

from fieldsales.users.credentials import user_for_token
from fieldsales.users.models import User

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def csrf_token() -> str:
    """This session's CSRF token, made on first use (templates call it for every form)."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def check_csrf() -> None:
    """400 for a state-changing request without this session's token."""
    if request.method in SAFE_METHODS:
        return
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    expected = session.get("csrf")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(400, "This form has expired or did not come from the console: reload the page "
                   "and try again.")


def start(*, token: str) -> None:
    """A fresh session for a new sign-in (never the one before it: no fixation)."""
    session.clear()
    session["token"] = token
    csrf_token()


def end() -> str | None:
    """Forget the session; returns its token for revoking."""
    token = session.get("token")
    session.clear()
    return token


def signed_in_user() -> User | None:
    """The user of this session's token, if it is still live; sets what `users.guard`'s
    `current_user()` and `current_token()` read."""
    token = session.get("token")
    user = user_for_token(token=token) if token else None
    if user is not None:
        g.current_user, g.current_token = user, token
    return user


def local_path(target: str | None) -> str | None:
    """`target` if it is a path on this site (for `next`), else None: never another host."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target:
        return None
    return target


def page(*roles: str):
    """Page decorator: a signed-in user (else to sign-in, coming back here afterwards), and
    one of `roles` when given (else 403)."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            user = signed_in_user()
            if user is None:
                session.pop("token", None)
                wanted = request.full_path.rstrip("?") if request.method == "GET" else None
                return redirect(url_for("console.signin", next=wanted))
            if roles and user.role not in roles:
                abort(403, f"This page is not for the role '{user.role}'.")
            return view(user, *args, **kwargs)

        wrapper.page_roles = roles  # type: ignore[attr-defined]  # read by the page matrix
        return wrapper

    return decorator
