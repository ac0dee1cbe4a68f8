"""How the objects package plugs into the kernel: called by the composition roots at start-up.

`register` adds the objects' navigation, home tiles and commands; `init_app` adds the REST
API and the generated pages to a Flask app.
"""

from __future__ import annotations

from flask import Flask

from metabiz.objects import (
    backups,
    commands,
    file_sweep,
    files,
    recent_views,
    search_index,
)
from metabiz.objects import web as pages
from metabiz.objects.activity_api import api as activity_api
from metabiz.objects.api import RecordIdConverter, api
from metabiz.objects.files_api import files_api
from metabiz.objects.pool_api import api as pool_api
from metabiz.platform.extensions import Extensions


def register(ext: Extensions) -> None:
    pages.register(ext)
    ext.add_listener(files.on_write)
    ext.add_listener(recent_views.on_write)
    ext.add_upgrade_step(search_index.upgrade)
    for command in (commands.apply, commands.versions, commands.restore, commands.losses,
                    commands.purge, commands.recompute, commands.formula, commands.template,
                    backups.backup, backups.load, file_sweep.files_group):
        ext.add_command(command)


def init_app(app: Flask) -> None:
    app.url_map.converters["record_id"] = RecordIdConverter
    app.register_blueprint(api)
    app.register_blueprint(pool_api)
    app.register_blueprint(activity_api)
    app.register_blueprint(files_api)
    pages.init_app(app)
