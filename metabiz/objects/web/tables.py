"""Records as table rows: the columns a list shows, display values, sortable headers.

Shared by list pages and the related lists of detail pages.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import current_app, request

from metabiz.objects import forms
from metabiz.objects.context import Context
from metabiz.objects.schema import CompiledObject
from metabiz.objects.web.navigation import readable
from metabiz.platform.web.page_urls import url_for

DEFAULT_COLUMNS = 6


def list_columns(ctx: Context, obj: CompiledObject, wanted: Iterable[str],
                 skip: Iterable[str] = (), limit: int = DEFAULT_COLUMNS) -> list[str]:
    """The columns a list shows: the list view's, else the name field and the first fields."""
    hidden = ctx.schema.access.hidden_fields(ctx.actor, obj.name, obj.fields)
    skipped = set(skip) | hidden
    names = [n for n in wanted if n not in skipped and (n in obj.fields or n in
                                                         forms.SYSTEM_WIDGETS)]
    if names:
        return names
    first = obj.odef.name_field
    ordered = ([first] if first else []) + [n for n in obj.fields if n != first]
    return [n for n in ordered if n not in skipped
            and obj.fields[n].fdef.type not in ("long_text", "multi_picklist")][:limit]


def table_rows(ctx: Context, obj: CompiledObject, columns: list[str],
               found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records as rows of display values, lookups by name, the first cell linking the record."""
    names = forms.lookup_names(ctx, forms.wanted_lookups(obj, found, columns))
    readable_names = [o.name for o in readable(ctx)]
    lang = ctx.language
    rows = []
    for record in found:
        cells = [forms.display(obj.fields.get(name), record.get(name), lang=lang, names=names,
                               widget=forms.SYSTEM_WIDGETS.get(name) if name not in obj.fields
                               else None, readable=readable_names, zone=ctx.zone)
                 for name in columns]
        rows.append({"id": record["id"], "href": f"/o/{obj.name}/{record['id']}",
                     "name": forms.record_name(obj, record, lang), "cells": cells})
    return rows


#: header rows kept per metadata version; the memo starts again when full (searches vary)
KEPT_HEADERS = 1024


def list_headers(ctx: Context, obj: CompiledObject, columns: list[str], lang: str, sort: str,
                 base: dict[str, str]) -> list[dict[str, Any]]:
    """`header` of each column, kept in the metadata version's cache per object, columns,
    language, sort, list arguments and mount point (a list's pages share them); built each
    time in an app whose URL defaults could change the links."""
    if any(current_app.url_default_functions.values()):
        return [header(obj, name, lang, sort, base) for name in columns]
    kept: dict[tuple[Any, ...], list[dict[str, Any]]] = \
        ctx.schema.compiled.setdefault("list_headers", {})
    key = (obj.name, tuple(columns), lang, sort, request.script_root, *sorted(base.items()))
    found = kept.get(key)
    if found is None:
        if len(kept) >= KEPT_HEADERS:
            kept.clear()
        found = kept[key] = [header(obj, name, lang, sort, base) for name in columns]
    return found


def header(obj: CompiledObject, name: str, lang: str, sort: str,
            base: dict[str, str]) -> dict[str, Any]:
    keys = [k.strip() for k in sort.split(",") if k.strip()]
    current = keys[0] if keys else ""
    direction = None
    if current.lstrip("-+") == name:
        direction = "desc" if current.startswith("-") else "asc"
    cf = obj.fields.get(name)
    sortable = cf is None or cf.ftype.stored or cf.formula is not None
    args: dict[str, Any] = {**base, "sort": f"-{name}" if direction == "asc" else name}
    widget = forms.SYSTEM_WIDGETS.get(name) if cf is None else forms.widget_of(cf)
    return {"name": name, "label": forms.field_label(obj, name, lang), "direction": direction,
            "numeric": widget in forms.NUMBER_WIDGETS or widget == "rollup",
            "href": url_for("objects_web.list_page", object_name=obj.name, **args)
            if sortable else None}
