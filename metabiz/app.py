"""The composition root of the web process: `create_app(config)` wires every package.

It is the only place (with cli.py) that knows all packages: each registers its extensions
(listeners, checks, panels, navigation, commands) and its blueprints; no package below
imports one above it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import Engine

from metabiz.builder_ui import extension as builder_ui
from metabiz.flows import extension as flows
from metabiz.objects import extension as objects
from metabiz.objects.runtime import Runtime
from metabiz.platform import extension as platform
from metabiz.platform import migrations
from metabiz.platform.config import Config
from metabiz.platform.db import make_engine
from metabiz.platform.extensions import Extensions, Wiring
from metabiz.platform.web import init_web
from metabiz.platform.web.exact_json import ExactJSONProvider
from metabiz.reports import extension as reports
from metabiz.spreadsheets import extension as spreadsheets

#: every package, lowest layer first: each has `register(ext)`; those with pages `init_app`
PACKAGES = (platform, objects, flows, reports, spreadsheets, builder_ui)
WEB_PACKAGES = (objects, flows, reports, spreadsheets, builder_ui)


@dataclass(frozen=True)
class Services:
    """What every request of this process shares (read-only after start-up)."""

    config: Config
    engine: Engine
    runtime: Runtime  # carries the extensions every package registered


def build_extensions() -> Extensions:
    ext = Extensions()
    for package in PACKAGES:
        package.register(ext)
    return ext


def prepare_database(engine: Engine, ext: Extensions | None = None) -> None:
    """Make a blank database's system tables; refuse one at an older schema.

    Raises OutOfDateDatabase for a database an earlier release made: only `metabiz upgrade`
    (or `metabiz init`) changes the schema of a database that holds data.
    """
    folders = (ext or build_extensions()).migrations
    if migrations.is_blank(engine, folders):
        migrations.upgrade(engine, folders)
    else:
        migrations.require_current(engine, folders)


def upgrade_database(engine: Engine, ext: Extensions | None = None) -> list[str]:
    """Bring every package's system tables up to date, then run the packages' upgrade steps
    (the search indexes); the revisions applied, in order."""
    ext = ext or build_extensions()
    applied = migrations.upgrade(engine, ext.migrations)
    for step in ext.upgrade_steps:
        step(engine, ext)
    return applied


def wiring() -> Wiring:
    """The extensions of every package, and how to prepare a database and build a runtime."""
    ext = build_extensions()
    return Wiring(extensions=ext,
                  prepare_database=lambda engine: prepare_database(engine, ext),
                  upgrade_database=lambda engine: upgrade_database(engine, ext),
                  make_runtime=lambda engine: Runtime(engine, ext))


def create_app(config: Config | None = None, wired: Wiring | None = None) -> Flask:
    """The web app; `wired` defaults to every package's registrations (tests add their own)."""
    config = config or Config.from_env()
    wired = wired or wiring()
    app = Flask("metabiz", instance_path=str(config.instance_path.resolve()),
                template_folder=None, static_folder=None)
    app.config.update(SECRET_KEY=config.secret_key, TESTING=config.testing,
                      SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=12),
                      MAX_CONTENT_LENGTH=16 * 1024 * 1024)
    app.json = ExactJSONProvider(app)  # every digit of exact numbers, keys in order
    engine = make_engine(config.database_url)
    wired.prepare_database(engine)
    app.extensions["metabiz"] = Services(config=config, engine=engine,
                                         runtime=wired.make_runtime(engine))
    init_web(app)
    for package in WEB_PACKAGES:
        package.init_app(app)
    return app


def build_runtime(engine: Engine) -> Runtime:
    """A runtime with every package's extensions (for scripts, benchmarks and tests)."""
    return Runtime(engine, build_extensions())
