"""How the spreadsheets package plugs into the kernel: called by the composition roots.

`register` adds the `import`/`export` commands, the `import` job kind, the imports table's
revisions and the Import/Export buttons of list pages; `init_app` the API and the pages.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from metabiz.platform.extensions import Extensions, Panel
from metabiz.spreadsheets import background, commands, pages
from metabiz.spreadsheets.api import ImportObjectConverter, api
from metabiz.spreadsheets.openapi import openapi_paths

#: the imports table's Alembic revisions (branch `spreadsheets`)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def register(ext: Extensions) -> None:
    ext.add_migrations(MIGRATIONS)
    ext.add_command(commands.import_command)
    ext.add_command(commands.export_command)
    ext.add_job_kind(background.JOB_KIND, background.run_import_job)
    ext.add_panel(Panel("sheet_actions", "list", pages.list_actions, order=50))
    ext.add_openapi(openapi_paths)


def init_app(app: Flask) -> None:
    app.url_map.converters["import_object"] = ImportObjectConverter
    app.register_blueprint(api)
    app.register_blueprint(pages.web)
