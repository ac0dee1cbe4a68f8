"""The list page's rows with each cell's markup made by a renderer compiled once per
metadata version, object, columns and language, instead of `forms.display` per cell.

Texts, picklists, numbers and e-mail addresses (most of a list) are rendered directly;
every other widget goes through `forms.display` as before. The markup is `Shown.__html__`'s
(tests/objects/test_list_cells.py holds them equal on every field type, in both languages).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from metabiz.objects import forms
from metabiz.objects.context import Context
from metabiz.objects.forms import BLANK, NUMBER_WIDGETS, SYSTEM_WIDGETS
from metabiz.objects.schema import CompiledField, CompiledObject
from metabiz.objects.web.navigation import readable
from metabiz.objects.web.table_markup import CellHtml, escaped

#: a compiled cell: the value's markup, or None to let `forms.display` render it
Cell = Callable[[Any], str | None] | None
_BLANK_HTML = CellHtml(BLANK.__html__())
#: widgets `forms.display` shows as their plain text
_SPECIAL = frozenset({"checkbox", "select", "multiselect", "approval_status", "lookup",
                      "rollup", "datetime", "url", "email", "tel", "textarea", "link",
                      "image", "time", "location"}) | NUMBER_WIDGETS | forms.FILE_WIDGETS


def list_rows(ctx: Context, obj: CompiledObject, columns: list[str],
              found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`tables.table_rows` for the list page: the first cell (the record's link) as its
    `Shown`, the others as markup."""
    lang, zone = ctx.language, ctx.zone
    cells = _compiled(ctx, obj, columns, lang)
    names = forms.lookup_names(ctx, forms.wanted_lookups(obj, found, columns))
    readable_names: list[str] | None = None
    rows = []
    for record in found:
        shown: list[Any] = []
        for index, name in enumerate(columns):
            value = record.get(name)
            cell = cells[index]
            if index and (value is None or value == "" or value == []):
                shown.append(_BLANK_HTML)
                continue
            if index and cell is not None:
                html = cell(value)
                if html is not None:
                    shown.append(CellHtml(html))
                    continue
            if readable_names is None:
                readable_names = [o.name for o in readable(ctx)]
            cf = obj.fields.get(name)
            display = forms.display(cf, value, lang=lang, names=names,
                                    widget=SYSTEM_WIDGETS.get(name) if cf is None else None,
                                    readable=readable_names, zone=zone)
            shown.append(CellHtml(display.__html__()) if index else display)
        rows.append({"id": record["id"], "href": f"/o/{obj.name}/{record['id']}",
                     "name": forms.record_name(obj, record, lang), "cells": shown})
    return rows


def _compiled(ctx: Context, obj: CompiledObject, columns: list[str], lang: str) -> list[Cell]:
    cache: dict[tuple[str, tuple[str, ...], str], list[Cell]] = \
        ctx.schema.compiled.setdefault("list_cells", {})
    key = (obj.name, tuple(columns), lang)
    cells = cache.get(key)
    if cells is None:
        cells = cache[key] = [_cell(obj.fields.get(name), name, lang) for name in columns]
    return cells


def _cell(cf: CompiledField | None, name: str, lang: str) -> Cell:
    """A direct renderer for the widgets lists show most, else None (forms.display)."""
    widget = SYSTEM_WIDGETS.get(name, "text") if cf is None else forms.widget_of(cf)
    if widget not in _SPECIAL:
        return _plain
    if cf is not None and widget == "select":
        return _picklist({item.value: item.label.get(lang) for item in cf.fdef.values})
    if widget in NUMBER_WIDGETS:
        return _number(forms.scale_of(cf) if cf is not None else None, widget == "percent")
    if widget == "email":
        return _email
    return None


def _plain(value: Any) -> str:
    return escaped(value)


def _picklist(labels: Mapping[Any, str]) -> Callable[[Any], str | None]:
    def cell(value: Any) -> str | None:
        label = labels.get(value) if isinstance(value, str | int | bool) else None
        if label is None:
            return None  # not a value of the list: as forms.display shows it
        return f'<span class="pill">{escaped(label)}</span>'
    return cell


def _number(scale: int | None, percent: bool) -> Callable[[Any], str]:
    suffix = "%" if percent else ""

    def cell(value: Any) -> str:
        return escaped(forms._decimal_text(value, scale, grouping=True) + suffix)
    return cell


def _email(value: Any) -> str:
    text = escaped(value)
    return f'<a href="mailto:{text}">{text}</a>'
