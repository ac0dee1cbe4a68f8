"""How the builder plugs into the kernel: called by the composition roots at start-up.

`register` adds the "Builder" navigation link for administrators and the Metadata API's
paths to the OpenAPI document; `init_app` adds the Metadata API (`/api/v1/meta/…`,
`/api/v1/formulas/check`) and the pages under `/builder`.
"""

from __future__ import annotations

from flask import Flask

from metabiz.builder_ui import api, openapi, pages
from metabiz.platform.extensions import Extensions, NavSection


def register(ext: Extensions) -> None:
    ext.add_nav(NavSection("builder", pages.nav_links, order=90))
    ext.add_openapi(openapi.paths_for(ext))


def init_app(app: Flask) -> None:
    api.init_app(app)
    pages.init_app(app)
