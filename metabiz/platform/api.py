"""The web kernel: who is calling (bearer token or session + CSRF), and errors as JSON.

Every MetabizError becomes `{"error": {...}}` with its status in one handler; bad input
never turns into a 500. Blueprints of the higher layers build on `current_actor()`.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from typing import Any

from flask import Blueprint, Flask, current_app, g, jsonify, request, session
from sqlalchemy import Engine
from werkzeug.exceptions import HTTPException

from metabiz.errors import BadRequest, MetabizError, NotFound, PermissionDenied, Unauthorized
from metabiz.platform import audit
from metabiz.platform.access import Actor
from metabiz.platform.auth import authenticate_token, load_actor

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

kernel = Blueprint("platform_api", __name__, url_prefix=API_PREFIX)


def engine() -> Engine:
    return current_app.extensions["metabiz"].engine  # type: ignore[no-any-return]


def csrf_token() -> str:
    """The session's CSRF token (created on first use); forms post it as `csrf_token`."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return str(session["csrf"])


def check_csrf(sent: str | None) -> None:
    expected = session.get("csrf")
    if not expected or not sent or not hmac.compare_digest(str(expected), str(sent)):
        raise PermissionDenied("missing or wrong CSRF token; reload the page and try again")


def current_actor(optional: bool = False) -> Actor | None:
    """The caller: `Authorization: Bearer <token>` or the browser session (CSRF on writes)."""
    if "actor" in g:
        return g.actor  # type: ignore[no-any-return]
    actor: Actor | None = None
    header = request.headers.get("Authorization", "")
    with engine().connect() as conn:
        if header:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthorized("use 'Authorization: Bearer <token>'")
            actor = authenticate_token(conn, token.strip(), client=request.remote_addr)
        elif session.get("user"):
            try:
                actor = load_actor(conn, session["user"])
            except NotFound:
                session.clear()
            if actor is not None and request.method not in SAFE_METHODS \
                    and request.path.startswith(API_PREFIX):
                check_csrf(request.headers.get(CSRF_HEADER))
    if actor is None and not optional:
        raise Unauthorized("sign in or send an API token")
    g.actor = actor
    return actor


def require_actor() -> Actor:
    actor = current_actor()
    assert actor is not None
    return actor


def json_body() -> Any:
    """The request's JSON body; 400 when it is missing or malformed."""
    data = request.get_json(silent=True)
    if data is None:
        if request.get_data(cache=True).strip():
            raise BadRequest("malformed JSON body")
        raise BadRequest("a JSON body is required")
    return data


@kernel.get("/me")
def me() -> Any:
    actor = require_actor()
    return jsonify({"name": actor.name, "display_name": actor.display_name,
                    "email": actor.email, "roles": sorted(actor.roles),
                    "manager": actor.manager, "language": actor.language,
                    "is_admin": actor.is_admin})


def wants_json() -> bool:
    return request.path.startswith(API_PREFIX) or request.accept_mimetypes.best == \
        "application/json"


def register_error_handlers(app: Flask) -> None:
    """Map errors to responses in one place (HTML pages register their own renderer)."""

    @app.errorhandler(MetabizError)
    def _metabiz_error(err: MetabizError) -> Any:
        if isinstance(err, PermissionDenied):
            audit.record_denial(engine(), g.get("actor") or session.get("user"),
                                f"{request.method} {request.path}", err.message,
                                client=request.remote_addr)
        renderer = app.extensions.get("metabiz_html_errors")
        if renderer is not None and not wants_json():
            return renderer(err)
        response = jsonify(err.to_dict())
        response.status_code = err.status
        if err.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="metabiz"'
        return response

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException) -> Any:
        if not wants_json():
            return err
        code = {400: "bad_request", 404: "not_found", 405: "method_not_allowed",
                413: "too_large", 415: "unsupported_media_type"}.get(err.code or 500, "error")
        response = jsonify({"error": {"code": code, "message": err.description}})
        response.status_code = err.code or 500
        return response

    @app.errorhandler(Exception)
    def _unexpected(err: Exception) -> Any:
        log.exception("unexpected error on %s %s", request.method, request.path)
        body = {"error": {"code": "internal_error",
                          "message": "an unexpected error occurred; it has been logged"}}
        response = jsonify(body)
        response.status_code = 500
        return response
