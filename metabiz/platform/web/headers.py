"""Security headers on every response: no framing, no sniffing, no referrer to other sites,
and a Content-Security-Policy that allows only our own scripts, styles and requests.

The pages use our static files and htmx only (no inline script or style, no eval: the
layout's htmx-config turns its eval and inline indicator styles off); images may come
from any http(s) address, since IMAGE formula fields show pictures from elsewhere.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' https: http:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate CSP 2
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


#: (the name as a response's may be spelt, the header) of each: names ignore case
_HEADERS = tuple((name.lower(), (name, value)) for name, value in SECURITY_HEADERS.items())


class SecurityHeaders:
    """WSGI middleware: each security header a response does not set itself is added to
    its header list as it starts — every response, the error pages' included. (Flask's
    `after_request` with werkzeug's `Headers` cost several times as much: each header is
    looked up, validated and added one by one.)"""

    def __init__(self, wsgi_app: Any) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            present = {name.lower() for name, _ in headers}
            headers.extend(header for lower, header in _HEADERS if lower not in present)
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start)


def init_headers(app: Flask) -> None:
    app.wsgi_app = SecurityHeaders(app.wsgi_app)  # type: ignore[method-assign]
