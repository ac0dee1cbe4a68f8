"""The web kernel: sessions, CSRF, errors, the page shell and its extension points.

`init_web(app)` wires them into a Flask app; the packages above add their blueprints,
panels and navigation sections, never the other way round.
"""

from __future__ import annotations

from flask import Flask

from metabiz.platform.api import kernel
from metabiz.platform.db import limit_statements
from metabiz.platform.request_input import refuse_unusable_parameters
from metabiz.platform.web import (  # noqa: F401 - settings and admin_users add their routes
    admin_users,
    i18n,
    settings,
)
from metabiz.platform.web.csrf import init_csrf
from metabiz.platform.web.errors import register_error_handlers
from metabiz.platform.web.headers import init_headers
from metabiz.platform.web.page_urls import init_page_urls
from metabiz.platform.web.pages import web
from metabiz.platform.web.session import init_sessions
from metabiz.platform.web.shell import shell_context


def init_web(app: Flask) -> None:
    services = app.extensions["metabiz"]
    app.config.update(SESSION_COOKIE_SECURE=services.config.secure_cookies)
    # the requests' SQL, not the start-up's upgrade nor the commands: those may take long
    limit_statements(services.engine, services.config.statement_timeout)
    app.before_request(refuse_unusable_parameters)
    init_sessions(app)
    init_csrf(app)
    init_headers(app)
    register_error_handlers(app)
    app.register_blueprint(kernel)
    app.register_blueprint(web)
    app.before_request(i18n.remember_choice)
    # functions of the request, not values: made once, globals for the panels'
    # fragments, and a context processor so that they win over Flask-WTF's csrf_token
    shell = shell_context()
    app.jinja_env.globals.update(shell, t=i18n.text)
    app.context_processor(lambda: shell)
    init_page_urls(app)
