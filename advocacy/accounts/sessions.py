"""The console's own session: a separate cookie, two factors before anything, idle and absolute limits.

Console paths (``/console/…``, ``/login``, ``/logout``, ``/invitation/…``, ``/account/…``) read and write
the ``advocacy_console`` cookie with ``SameSite=Strict``; every other path keeps the public session cookie.
So a login never turns a public page into one for this reader alone (pages are shared between anonymous
readers), and a link from another site never carries the console session along.

Flask-Login's ``current_user`` is authenticated only after both factors have passed: the password step
keeps a pending account id in the session, and :func:`start_session` logs in after the second factor.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlencode

from flask import Flask, Response, abort, g, has_request_context, redirect, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user, login_user, logout_user
from itsdangerous import URLSafeTimedSerializer

from advocacy.accounts.roles import Forbidden, Principal
from advocacy.dbtypes import utcnow

CONSOLE_PATH_PREFIXES = ("/console", "/login", "/logout", "/invitation", "/account")
CONSOLE_COOKIE = "advocacy_console"
IDLE_LIMIT = timedelta(minutes=30)
ABSOLUTE_LIMIT = timedelta(hours=12)
LOGIN_PATH = "/login"

F = TypeVar("F", bound=Callable[..., Any])


# every public request asks this (which cookie?) a few times: two string tests, no loop
_CONSOLE_PATHS = frozenset(CONSOLE_PATH_PREFIXES)
_CONSOLE_PATH_STARTS = tuple(prefix + "/" for prefix in CONSOLE_PATH_PREFIXES)


def is_console_path(path: str) -> bool:
    return path.startswith(_CONSOLE_PATH_STARTS) or path in _CONSOLE_PATHS


def _console_request() -> bool:
    return has_request_context() and is_console_path(request.path)


class SplitSessionInterface(SecureCookieSessionInterface):
    """The public session cookie for public paths, the console cookie (SameSite=Strict) for console paths."""

    def get_cookie_name(self, app: Flask) -> str:
        return CONSOLE_COOKIE if _console_request() else super().get_cookie_name(app)

    def get_cookie_samesite(self, app: Flask) -> str | None:
        return "Strict" if _console_request() else super().get_cookie_samesite(app)

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """Flask builds it for every request, even one without a cookie (a tenth of a cached page's cost):
        keep one per secret key and fallbacks."""
        if not app.secret_key:
            return None
        key = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        cached = self._serializers.get(key)
        if cached is None:
            cached = super().get_signing_serializer(app)
            self._serializers = {key: cached}
        return cached

    _serializers: dict[tuple[Any, ...], URLSafeTimedSerializer | None] = {}


def clear_session() -> None:
    """Empty the session, and forget the CSRF token this request may have derived from the old one (Flask-WTF
    keeps it in ``g``): a form rendered after the clear gets a token the new session knows."""
    session.clear()
    g.pop("csrf_token", None)


def start_session(user: Any) -> None:
    """Both factors passed: a fresh session (nothing from before the login survives it, and it gets a new
    random id) that Flask-Login recognises."""
    clear_session()
    login_user(user)
    now = utcnow().timestamp()
    session["sid"] = secrets.token_urlsafe(16)
    session["started_at"] = now
    session["seen_at"] = now


def end_session() -> None:
    logout_user()
    clear_session()


def enforce_limits() -> None:
    """Before every console request: a session idle for 30 minutes, or 12 hours old, is over."""
    if not is_console_path(request.path) or not current_user.is_authenticated:
        return
    now = utcnow().timestamp()
    started = float(session.get("started_at", 0))
    seen = float(session.get("seen_at", 0))
    if now - seen > IDLE_LIMIT.total_seconds() or now - started > ABSOLUTE_LIMIT.total_seconds():
        end_session()
        g.session_expired = True
        return
    session["seen_at"] = now


def login_redirect() -> Response:
    target = request.full_path if request.query_string else request.path
    query = {"next": target} if request.method == "GET" else {}
    if g.get("session_expired"):
        query["expired"] = "1"
    location = LOGIN_PATH + ("?" + urlencode(query) if query else "")
    return cast(Response, redirect(location))


def current_principal() -> Principal | None:
    """The principal of the logged-in account (both factors passed), or None."""
    if not current_user.is_authenticated:
        return None
    if "principal" not in g:
        g.principal = current_user.principal()
    principal: Principal = g.principal
    return principal


def acting() -> Principal:
    """The principal a console view acts for (the view is behind :func:`console_required`)."""
    principal = current_principal()
    if principal is None:
        abort(403)
    return principal


def console_required(view: F) -> F:
    """A console page: anyone without both factors goes to the login page; a refusal from a service is 403."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_principal() is None:
            return login_redirect()
        try:
            return view(*args, **kwargs)
        except Forbidden:
            abort(403)

    return cast(F, wrapped)
