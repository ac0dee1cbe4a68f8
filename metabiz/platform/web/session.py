"""Who is browsing: the sign-in guard for pages, where to send a browser afterwards, and
the session cookie's signing.

Pages take the signed-in actor as their first argument; a browser without a session goes
to /login and comes back to the page it asked for (never to another site).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import wraps
from typing import Any

from flask import Flask, Response, redirect, request, url_for
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from flask.wrappers import Request
from itsdangerous import URLSafeTimedSerializer
from werkzeug.wrappers import Response as BaseResponse

from metabiz.platform.api import current_actor
from metabiz.platform.web import i18n

View = Callable[..., Any]


def login_required(view: View) -> View:
    """Pass the signed-in actor to the view, or send the browser to the sign-in page."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        actor = current_actor(optional=True)
        if actor is None:
            return to_login()
        # labels and validation messages follow the page's language (`?lang=` included)
        return view(replace(actor, language=i18n.language()), *args, **kwargs)

    return wrapper


def to_login() -> BaseResponse:
    if request.headers.get("HX-Request"):
        response = Response("", status=401)
        response.headers["HX-Redirect"] = url_for("platform_web.login")
        return response
    target = request.full_path.rstrip("?") if request.method == "GET" else request.path
    return redirect(url_for("platform_web.login", next=target))


def safe_next(raw: str | None) -> str | None:
    """A local path to return to after signing in (never another site).

    Browsers drop tabs and newlines inside URLs (`/\\t/evil.example` becomes
    `//evil.example`), so any control character or whitespace refuses the target.
    """
    if not raw or not raw.startswith("/") or raw.startswith("//") or "\\" in raw:
        return None
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in raw):
        return None
    return raw


class KeptSigningSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions with the cookie's serializer made once per set of
    keys, not on every request (it holds nothing per request: signers are made per use)."""

    def __init__(self) -> None:
        self._kept: tuple[Any, URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        kept = self._kept
        if kept is None or kept[0] != keys:
            kept = self._kept = (keys, super().get_signing_serializer(app))
        return kept[1]

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """Flask's, with a request that sends no cookie (an API client's) answered without
        parsing cookies: a new, empty session."""
        if not request.environ.get("HTTP_COOKIE") and \
                self.get_signing_serializer(app) is not None:
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Flask's, which does nothing for an empty session neither read nor changed (an
        API request's) but look up the cookie's seven settings first."""
        if session or session.accessed or session.modified:
            super().save_session(app, session, response)


def init_sessions(app: Flask) -> None:
    app.session_interface = KeptSigningSessions()
