"""What the objects package adds to the shell: its navigation section and home tiles.

Both list only the objects the user may read; the links are made once per metadata
version, set of roles and language (`shell.kept_links`), not on every page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import render_template

from metabiz.objects import query
from metabiz.objects.context import Context
from metabiz.objects.schema import CompiledObject
from metabiz.objects.work import request_schema, unit_of_work
from metabiz.platform.access import Actor
from metabiz.platform.extensions import NavLink
from metabiz.platform.web import i18n
from metabiz.platform.web.page_urls import url_for
from metabiz.platform.web.shell import kept_links


def plural(obj: CompiledObject, lang: str) -> str:
    label = obj.odef.plural_label or obj.odef.label
    return label.get(lang)


def readable(ctx: Context) -> list[CompiledObject]:
    return [o for o in ctx.schema.objects.values()
            if ctx.schema.access.allowed(ctx.actor, o.name, "read")]


def home_link(actor: Actor) -> list[NavLink]:
    return [NavLink(href=url_for("platform_web.home"), label=i18n.text("home"), icon="home")]


def kept_nav_links(actor: Actor, section: str,
                   build: Callable[[Context], Iterable[NavLink]]) -> list[NavLink]:
    """`shell.kept_links` kept in the request's metadata version: `build(ctx)` runs in a
    unit of work when the links are not kept yet; a page finds them with no transaction."""
    def made() -> list[NavLink]:
        with unit_of_work(actor) as ctx:
            return list(build(ctx))
    return kept_links(request_schema(actor).compiled, actor, section, made)


def object_links(actor: Actor) -> list[NavLink]:
    """A link to the list of every object the user may read."""
    lang = i18n.language()
    return kept_nav_links(actor, "objects", lambda ctx: [
        NavLink(href=url_for("objects_web.list_page", object_name=o.name),
                label=plural(o, lang), icon=f"object:{o.odef.icon}" if o.odef.icon else None)
        for o in readable(ctx)])


def home_tiles(actor: Actor) -> str:
    """The home page's tiles: each readable object with its record count and a "+"."""
    lang = i18n.language()
    with unit_of_work(actor) as ctx:
        tiles: list[dict[str, Any]] = []
        for obj in readable(ctx):
            total = query.list_records(ctx, obj.name, limit=1, fields="id").total
            tiles.append({"name": obj.name, "label": plural(obj, lang), "total": total,
                          "initial": plural(obj, lang)[:1].upper(),
                          "can_create": ctx.schema.access.allowed(actor, obj.name, "create"),
                          "description": obj.odef.description})
    return render_template("home_tiles.html", tiles=tiles)
