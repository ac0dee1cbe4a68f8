"""The search page (`/search?q=`) and the search box every page header carries.

Results come from metabiz.objects.search (the actor's record access applied in SQL),
grouped by object like a CRM's global search.
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request, url_for

from metabiz.objects import search
from metabiz.objects.web.blueprint import web
from metabiz.objects.web.navigation import plural
from metabiz.objects.work import unit_of_work
from metabiz.platform.access import Actor
from metabiz.platform.web.session import login_required
from metabiz.platform.web.shell import render_kept

#: how many records the page lists at most (grouped by object), and the header box suggests
PAGE_RESULTS = 50
SUGGESTIONS = 8


@web.get("/search")
@login_required
def search_page(actor: Actor) -> Any:
    q = request.args.get("q", "").strip()[:200]
    groups: list[dict[str, Any]] = []
    with unit_of_work(actor) as ctx:
        hits = search.search(ctx, q, limit=PAGE_RESULTS) if q else []
        by_object: dict[str, dict[str, Any]] = {}
        for hit in hits:
            group = by_object.get(hit.object)
            if group is None:
                obj = ctx.schema.object(hit.object)
                group = by_object[hit.object] = {
                    "object": hit.object, "title": plural(obj, ctx.language),
                    "initial": plural(obj, ctx.language)[:1].upper(), "hits": [],
                    "list_href": url_for("objects_web.list_page", object_name=hit.object,
                                         q=q)}
                groups.append(group)
            group["hits"].append({"name": hit.name, "snippet": hit.snippet,
                                  "href": url_for("objects_web.detail",
                                                  object_name=hit.object, record_id=hit.id)})
    return render_template("search.html", q=q, groups=groups, count=len(hits),
                           searched=bool(q), words=bool(search.terms(q)))


@web.get("/search/suggest")
@login_required
def suggest(actor: Actor) -> Any:
    """The header box's type-ahead: the best few matches as links (an HTML fragment)."""
    q = request.args.get("q", "").strip()[:200]
    items: list[dict[str, Any]] = []
    with unit_of_work(actor) as ctx:
        for hit in search.search(ctx, q, limit=SUGGESTIONS) if q else []:
            obj = ctx.schema.object(hit.object)
            items.append({"name": hit.name, "label": obj.odef.label.get(ctx.language),
                          "href": url_for("objects_web.detail", object_name=hit.object,
                                          record_id=hit.id)})
    return render_template("search_suggestions.html", items=items, q=q,
                           words=bool(search.terms(q)))


def search_box(actor: Actor) -> str:
    """The header's search box (a header panel): a plain GET form to /search."""
    return render_kept("search_box.html", q=request.args.get("q", "")
                           if request.endpoint == "objects_web.search_page" else "")
