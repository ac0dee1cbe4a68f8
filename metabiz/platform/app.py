"""The Flask app factory: the composition root that wires every layer together.

No module-level app and no global state: `create_app(config)` builds the engine, the
per-process runtime (compiled schema cached by metadata version) and the blueprints.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import Engine

from metabiz.platform import migrations
from metabiz.platform.api import kernel, register_error_handlers
from metabiz.platform.config import Config
from metabiz.platform.db import make_engine
from metabiz.platform.extensions import Extensions

#: optional layers, registered when present: (module, its `init_app` function)
LAYERS = ("metabiz.objects.web", "metabiz.flows.web", "metabiz.builder_ui.web")


@dataclass
class Services:
    """What every request of this process shares (read-only after start-up)."""

    config: Config
    engine: Engine
    runtime: Any  # metabiz.objects.runtime.Runtime


def migration_folders() -> list[Path]:
    """The Alembic version folders the packages above the kernel register (the kernel's own
    always run too). Temporary wiring until the composition root builds one `Extensions`."""
    from metabiz.flows import register

    ext = Extensions()
    register(ext)
    return ext.migrations


def prepare_database(engine: Engine, folders: Sequence[Path] | None = None) -> None:
    """Make a blank database's system tables; refuse one at an older schema.

    Raises OutOfDateDatabase for a database an earlier release made: only `metabiz upgrade`
    (or `metabiz init`) changes the schema of a database that holds data.
    """
    folders = migration_folders() if folders is None else folders
    if migrations.is_blank(engine, folders):
        migrations.upgrade(engine, folders)
    else:
        migrations.require_current(engine, folders)


def build_runtime(engine: Engine) -> Any:
    """The per-process runtime, with the flows' write listeners when flows are installed."""
    from metabiz.objects.runtime import Runtime

    try:
        from metabiz.flows import write_listeners  # type: ignore[attr-defined]
    except ImportError as err:
        if not (getattr(err, "name", "") or "").startswith("metabiz.flows"):
            raise
        return Runtime(engine)
    return Runtime(engine, write_listeners())


def create_app(config: Config | None = None) -> Flask:
    from metabiz.objects.api import api as objects_api

    config = config or Config.from_env()
    app = Flask("metabiz", instance_path=str(config.instance_path.resolve()),
                template_folder=None, static_folder=None)
    app.config.update(SECRET_KEY=config.secret_key, TESTING=config.testing,
                      SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=12),
                      JSON_SORT_KEYS=False, MAX_CONTENT_LENGTH=16 * 1024 * 1024)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    engine = make_engine(config.database_url)
    prepare_database(engine)
    app.extensions["metabiz"] = Services(config=config, engine=engine,
                                         runtime=build_runtime(engine))
    register_error_handlers(app)
    app.register_blueprint(kernel)
    app.register_blueprint(objects_api)
    for name in LAYERS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name != name:
                raise
            continue
        module.init_app(app)
    return app
