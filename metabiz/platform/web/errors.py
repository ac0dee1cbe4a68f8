"""Errors to responses, in one place: JSON for the API, a friendly page for browsers.

Every MetabizError keeps its status and `{"error": {...}}` body; HTTP errors and anything
unexpected are answered the same way, so bad input never shows a traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, g, jsonify, render_template, request, session
from sqlalchemy.exc import DataError, DBAPIError
from werkzeug.exceptions import HTTPException

from metabiz.errors import CSRFRejected, MetabizError, PermissionDenied
from metabiz.platform import audit
from metabiz.platform.api import API_PREFIX, current_actor, engine
from metabiz.platform.db import is_parser_overflow, is_statement_timeout
from metabiz.platform.web import error_texts, i18n
from metabiz.platform.web.session import to_login

log = logging.getLogger(__name__)

HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed",
              413: "too_large", 415: "unsupported_media_type"}


def wants_json() -> bool:
    """API paths and clients that ask for JSON get JSON; browsers get pages."""
    return request.path.startswith(API_PREFIX) or \
        request.accept_mimetypes.best == "application/json"


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(MetabizError, _metabiz_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(DBAPIError, _database_error)
    app.register_error_handler(Exception, _unexpected)


def _metabiz_error(err: MetabizError) -> Any:
    if isinstance(err, PermissionDenied):  # forged forms included: worth an audit entry
        audit.record_denial(engine(), g.get("actor") or session.get("user"),
                            f"{request.method} {request.path}", err.message,
                            client=request.remote_addr)
    if not wants_json():
        if err.status == 401:
            return to_login()
        if isinstance(err, CSRFRejected):
            return error_page(403, i18n.text("csrf_body"), title_key="error_csrf")
        if err.status == 404:
            return error_page(404, i18n.text("error_404_body"))
        return error_page(err.status, message=err.message)
    response = jsonify(err.to_dict())
    response.status_code = err.status
    if err.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="metabiz"'
    return response


def _http_error(err: HTTPException) -> Any:
    status = err.code or 500
    if status < 400:
        return err
    if not wants_json():
        # Werkzeug's own descriptions are English only: other languages get the status's
        # sentence
        own = err.description == type(err).description
        return error_page(status, message=err.description or "", general=own)
    response = jsonify({"error": {"code": HTTP_CODES.get(status, "error"),
                                  "message": err.description}})
    response.status_code = status
    for name, value in err.get_headers():  # e.g. `Allow` on a 405 (RFC 9110)
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _database_error(err: DBAPIError) -> Any:
    """A statement the database ended after the statement timeout (503: try again, or ask
    for less), a value it refused (400: integer out of range, an invalid regular
    expression in a filter); anything else is unexpected."""
    if is_statement_timeout(err):
        log.warning("statement timeout on %s %s", request.method, request.path)
        return _answer(503, "timeout", "the database took too long to answer this request; "
                                       "try again, or ask for less (a narrower filter)")
    if err.connection_invalidated:
        # the database went away under a pooled connection used within PING_AFTER_IDLE
        # (a restart): the pool has dropped it, so the next try gets a fresh one
        log.warning("database connection lost on %s %s", request.method, request.path)
        return _answer(503, "unavailable", "the connection to the database was lost; "
                                           "try again")
    if is_parser_overflow(err):
        # formulas passed their own check but the statement around them took more room
        log.warning("SQLite parser stack overflow on %s %s", request.method, request.path)
        return _answer(400, "bad_request", "the formulas of this request nest functions and "
                                           "operators too deeply for the database (SQLite "
                                           "cannot read SQL this deep); nest fewer of them")
    if isinstance(err, DataError):
        said = str(err.orig).strip()
        reason = said.splitlines()[0] if said else "a value out of range"
        log.warning("database refused a value on %s %s: %s", request.method, request.path,
                    reason)
        return _answer(400, "bad_request", f"the database cannot use a value of this "
                                           f"request: {reason}")
    return _unexpected(err)


def _answer(status: int, code: str, message: str) -> Any:
    if not wants_json():
        return error_page(status, message=message)
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    if status == 503:
        response.headers["Retry-After"] = "5"
    return response


def _unexpected(err: Exception) -> Any:
    log.exception("unexpected error on %s %s", request.method, request.path)
    if not wants_json():
        return error_page(500, "")
    response = jsonify({"error": {"code": "internal_error",
                                  "message": "an unexpected error occurred; it has been logged"}})
    response.status_code = 500
    return response


def error_page(status: int, detail: str = "", *, message: str = "", general: bool = False,
               title_key: str | None = None) -> Response:
    """The HTML error page (or a short fragment for an htmx request). `detail` is said as
    it is; `message` (an error's English message) in the user's language, or the status's
    general sentence with the English beside it when no translation knows it (at once
    when `general`)."""
    if "actor" not in g and status < 500:  # an unknown URL: load the user for the navigation
        try:
            current_actor(optional=True)
        except MetabizError:
            g.actor = None
    original = ""
    if status >= 500:
        detail = i18n.text("error_500_body")
    elif message:
        detail, original = error_texts.page_detail(message, status, general=general)
    title_key = title_key or (f"error_{status}" if f"error_{status}" in i18n.TEXTS
                              else "error_title")
    if request.headers.get("HX-Request"):
        return Response(f"<p class=\"lookup-empty\">{i18n.text(title_key)}</p>",
                        status=status, mimetype="text/html")
    html = render_template("error.html", status=status, title=i18n.text(title_key),
                           detail=detail, original=original)
    return Response(html, status=status, mimetype="text/html")
