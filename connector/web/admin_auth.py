"""Who may see the dashboard and the admin API: whoever holds CONNECTOR_ADMIN_TOKEN.

- `Authorization: Bearer <token>` on any request (scripts, the CLI), or
- a browser session: log in once (form, or `?token=` on any page) and a signed cookie
  (HttpOnly, SameSite=Strict, Secure behind https) carries it; state-changing browser
  requests also need the session's CSRF token.
No token configured means the whole admin surface is off (404), not open.

The session key is derived from the admin token, so every web process agrees without
sharing state, and rotating the token logs every browser out.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING

from flask import request, session
from flask.sansio.app import App

if TYPE_CHECKING:
    from connector.ops.context import AppContext

SESSION_KEY = "admin"
CSRF_KEY = "csrf"
CSRF_HEADER = "X-CSRF-Token"
DISABLED = "The dashboard and admin API are disabled: set CONNECTOR_ADMIN_TOKEN to enable them."


def configure_sessions(app: App, runtime: AppContext) -> None:
    token = _token(runtime)
    if token:
        digest = hashlib.sha256(b"connector-dashboard-session\0" + token.encode()).hexdigest()
        app.secret_key = digest
    public = str(runtime.settings.public_url or "")
    app.config.update(
        SESSION_COOKIE_NAME="connector_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=public.startswith("https://"),
    )


def enabled(runtime: AppContext) -> bool:
    return _token(runtime) is not None


def token_matches(runtime: AppContext, candidate: str | None) -> bool:
    token = _token(runtime)
    if not token or not candidate:
        return False
    return hmac.compare_digest(candidate.encode(), token.encode())


def bearer_ok(runtime: AppContext) -> bool:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and token_matches(runtime, value.strip())


def session_ok() -> bool:
    return bool(session.get(SESSION_KEY))


def authenticated(runtime: AppContext) -> bool:
    return bearer_ok(runtime) or session_ok()


def log_in() -> None:
    session.clear()
    session[SESSION_KEY] = True
    session[CSRF_KEY] = secrets.token_urlsafe(32)
    session.permanent = False


def log_out() -> None:
    session.clear()


def csrf_token() -> str:
    token = session.get(CSRF_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        session[CSRF_KEY] = token
    return str(token)


def csrf_ok(runtime: AppContext) -> bool:
    """Bearer requests cannot be forged by a browser; cookie ones must echo the CSRF token."""
    if bearer_ok(runtime):
        return True
    expected = session.get(CSRF_KEY)
    sent = request.form.get("csrf_token") or request.headers.get(CSRF_HEADER)
    if not (expected and sent):
        return False
    # Bytes, not str: compare_digest refuses non-ASCII text (a forged token must be a 403).
    return hmac.compare_digest(str(sent).encode(), str(expected).encode())


def _token(runtime: AppContext) -> str | None:
    value = runtime.settings.admin_token
    secret = value.get_secret_value() if value else ""
    return secret or None
