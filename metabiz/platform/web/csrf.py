"""CSRF protection for every session-authenticated unsafe request, in one place.

Flask-WTF's `CSRFProtect` checks forms (`csrf_token`) and htmx/API calls (`X-CSRF-Token`);
requests that carry `Authorization: Bearer …` are exempt: they hold no ambient authority.
"""

from __future__ import annotations

from flask import Flask, current_app, g, request, session
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf

from metabiz.errors import CSRFRejected
from metabiz.platform.memo import Memo, kept_in

CSRF_HEADER = "X-CSRF-Token"
_TOKEN = "_metabiz_csrf_token"
#: the session key of the secret a token signs (WTF_CSRF_FIELD_NAME)
FIELD = "csrf_token"
#: signed tokens kept per app (by session secret); the memo starts again when full
KEPT_SIGNATURES = 4096
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def csrf_token() -> str:
    """The token a form posts as `csrf_token` (and htmx sends as X-CSRF-Token): made once
    per request (Flask-WTF keeps it in `g` too, but looks its settings up on every call;
    a page's shell asks three times), and signed once per session's secret: tokens do not
    expire (WTF_CSRF_TIME_LIMIT=None), so the signature made for the first page serves the
    session's later pages as well as a new one would. A page fetched with an API token
    gets none: that client's requests are exempt, and it would only be handed a new
    session cookie on every page."""
    token = g.get(_TOKEN)
    if token is None and request.headers.get("Authorization"):
        token = g._metabiz_csrf_token = ""
    if token is None:
        signed: Memo[str, str] = kept_in(current_app.extensions, "csrf_signed",
                                         KEPT_SIGNATURES)
        secret = session.get(FIELD)
        token = signed.get(secret) if isinstance(secret, str) else None
        if token is None:
            token = str(generate_csrf())
            secret = session.get(FIELD)  # generate_csrf makes the session's first secret
            if isinstance(secret, str):
                signed.put(secret, token)
        g._metabiz_csrf_token = token
    return token  # type: ignore[no-any-return]


def init_csrf(app: Flask) -> None:
    app.config.update(WTF_CSRF_CHECK_DEFAULT=False, WTF_CSRF_HEADERS=[CSRF_HEADER],
                      WTF_CSRF_FIELD_NAME=FIELD,
                      # valid as long as the session: a form left open over lunch still saves
                      WTF_CSRF_TIME_LIMIT=None)
    protect = CSRFProtect(app)

    @app.before_request
    def _check_csrf() -> None:
        if request.method in SAFE_METHODS or request.headers.get("Authorization"):
            return
        try:
            protect.protect()
        except CSRFError as err:
            raise CSRFRejected("missing or expired CSRF token; reload the page and try "
                               f"again ({err.description})") from None
