"""The generated end-user pages of the objects package, and what it adds to the shell.

Page families live in their own modules (lists, detail, edit); `init_app` registers the
blueprint and `register` adds the objects' navigation section and home tiles.
"""

from __future__ import annotations

from flask import Flask

from metabiz.objects.web import (  # noqa: F401 - their routes
    detail,
    edit,
    form_defaults,
    lists,
    pools,
    recent,
    search,
    timeline,
)
from metabiz.objects.web.blueprint import web
from metabiz.objects.web.navigation import home_link, home_tiles, object_links
from metabiz.platform.extensions import Extensions, NavSection, Panel


def init_app(app: Flask) -> None:
    app.register_blueprint(web)


def register(ext: Extensions) -> None:
    ext.add_nav(NavSection("home", home_link, order=0))
    ext.add_nav(NavSection("objects", object_links, heading="your_objects", order=50))
    ext.add_panel(Panel("recently_viewed", "home", recent.home_panel, order=30))
    ext.add_panel(Panel("object_tiles", "home", home_tiles, order=50))
    ext.add_nav(NavSection("pools", pools.nav_links, heading="pools", order=40))
    ext.add_panel(Panel("owner", "record", pools.owner_panel, order=5))
    ext.add_panel(Panel("activity", "record", timeline.timeline_panel, order=90))
    ext.add_panel(Panel("search_box", "header", search.search_box, order=10))
