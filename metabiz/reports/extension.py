"""How the reports package plugs into the kernel: called by the composition roots at start-up.

`register` adds the `reports/*.json` and `dashboards/*.json` document kinds, their metadata
check, the "Reports" navigation section, the home dashboard panel, `metabiz report` and the
endpoints' OpenAPI paths; `init_app` adds the REST API and the pages to a Flask app.
"""

from __future__ import annotations

from flask import Flask

from metabiz.platform.extensions import Extensions, NavSection, Panel
from metabiz.reports import commands, pages
from metabiz.reports.api import api
from metabiz.reports.compiled import check_reports
from metabiz.reports.definitions import DASHBOARD_KIND, REPORT_KIND
from metabiz.reports.openapi import openapi_paths


def register(ext: Extensions) -> None:
    ext.add_document_kind(REPORT_KIND)
    ext.add_document_kind(DASHBOARD_KIND)
    ext.add_check(check_reports)
    ext.add_nav(NavSection("reports", pages.nav_links, heading="reports", order=20))
    ext.add_panel(Panel("home_dashboard", "home", pages.home_panel, order=5))
    ext.add_command(commands.report)
    ext.add_openapi(openapi_paths)


def init_app(app: Flask) -> None:
    app.register_blueprint(api)
    app.register_blueprint(pages.web)
