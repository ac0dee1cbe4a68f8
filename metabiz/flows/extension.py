"""How the flows package plugs into the kernel: called by the composition roots at start-up.

`register` adds the `flows/*.json` document kind, the write listener, the flows' metadata check, panels, navigation and the
`jobs`/`worker` commands and the job queue other packages enqueue on; `init_app` adds the REST API and the pages to a Flask app.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from metabiz.flows import commands, jobs, owner_notices, pages
from metabiz.flows.api import api
from metabiz.flows.approvals.readers import approver_grant
from metabiz.flows.automation import before_save
from metabiz.flows.compiled import check_flows
from metabiz.flows.definitions import FLOW_KIND
from metabiz.flows.listeners import on_write
from metabiz.flows.openapi import openapi_paths
from metabiz.flows.timeline import approval_events
from metabiz.platform.extensions import Extensions, NavSection, Panel

#: the flow tables' Alembic revisions (branch `flows`)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def register(ext: Extensions) -> None:
    ext.add_document_kind(FLOW_KIND)
    ext.add_migrations(MIGRATIONS)
    ext.add_listener(on_write)
    ext.add_listener(owner_notices.on_write)
    ext.add_before_save(before_save)
    ext.add_read_grant(approver_grant)
    ext.add_check(check_flows)
    ext.add_nav(NavSection("approvals", pages.nav_links, order=10))
    ext.add_panel(Panel("pending_approvals", "home", pages.home_panel, order=10))
    ext.add_panel(Panel("approvals", "record", pages.record_panel, order=10))
    ext.add_timeline_source(approval_events)
    ext.add_panel(Panel("notifications_bell", "header", pages.notifications_bell, order=20))
    ext.add_command(commands.jobs)
    ext.add_command(commands.worker)
    ext.set_job_queue(jobs.queue)  # other packages' job kinds run on the same table
    ext.add_openapi(openapi_paths)


def init_app(app: Flask) -> None:
    app.register_blueprint(api)
    app.register_blueprint(pages.web)
