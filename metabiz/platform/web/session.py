"""Who is browsing: the sign-in guard for pages and where to send a browser afterwards.

Pages take the signed-in actor as their first argument; a browser without a session goes
to /login and comes back to the page it asked for (never to another site).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import wraps
from typing import Any

from flask import Response, redirect, request, url_for
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
