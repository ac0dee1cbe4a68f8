"""An object's metadata as one user may see it (`GET /api/v1/meta/objects/<object>`): the
fields hidden from them left out of fields, layouts, list views, rules and formula texts.

A formula text that names a hidden field would tell its name (and how it is computed), so it
is left out rather than shown half; a list view keeps its columns and sort keys the user may
see; a layout section that held only hidden fields goes away.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from metabiz.objects.context import Context
from metabiz.objects.schema import CompiledObject

#: the keys of a field's JSON that hold formula texts
FORMULA_KEYS = ("formula", "default", "filter")


def describe(ctx: Context, obj: CompiledObject, *, brief: bool = False) -> dict[str, Any]:
    """An object's metadata as the caller may see it, with what they may do."""
    access = ctx.schema.access
    rights = [r for r in ("read", "create", "edit", "delete")
              if access.allowed(ctx.actor, obj.name, r)]
    out: dict[str, Any] = {"api_name": obj.name, "label": obj.odef.label.to_json(),
                           "name_field": obj.odef.name_field, "permissions": rights}
    if obj.odef.icon:
        out["icon"] = obj.odef.icon
    if brief:
        return out
    hidden = access.hidden_fields(ctx.actor, obj.name, obj.fields)
    mentions = _mentions(hidden)
    fields = []
    for cf in obj.fields.values():
        if cf.name in hidden:
            continue
        item = {k: v for k, v in cf.fdef.to_json().items()
                if not (k in FORMULA_KEYS and isinstance(v, str) and mentions(v))}
        item["read_only"] = not cf.ftype.writable or \
            access.field_rule(ctx.actor, obj.name, cf.name) == "read_only"
        fields.append(item)
    odef = obj.odef
    rules = [r.to_json() for r in odef.validation_rules
             if r.field not in hidden and not mentions(r.error_condition)]
    layouts = {lay.api_name: {"sections": _sections(lay.to_json()["sections"], hidden)}
               for lay in odef.layouts}
    views = [_list_view(v.to_json(), hidden, mentions) for v in odef.list_views]
    out.update(fields=fields, validation_rules=rules, layouts=layouts, list_views=views)
    return out


def _mentions(hidden: Iterable[str]) -> Any:
    """A test: does a formula text name one of the `hidden` fields (as a whole word)?"""
    names = sorted(hidden)
    if not names:
        return lambda text: False
    pattern = re.compile(r"(?<![\w.])(?:" + "|".join(map(re.escape, names)) + r")(?!\w)",
                         re.IGNORECASE)
    return lambda text: bool(pattern.search(text))


def _sections(sections: list[dict[str, Any]], hidden: set[str]) -> list[dict[str, Any]]:
    out = []
    for section in sections:
        kept = [f for f in section["fields"] if f not in hidden]
        if kept:
            out.append({**section, "fields": kept})
    return out


def _list_view(view: dict[str, Any], hidden: set[str], mentions: Any) -> dict[str, Any]:
    out = dict(view)
    if "columns" in out:
        out["columns"] = [c for c in out["columns"] if c not in hidden]
    if out.get("sort"):
        keys = [k for k in (p.strip() for p in out["sort"].split(","))
                if k and k.lstrip("-+") not in hidden]
        if keys:
            out["sort"] = ",".join(keys)
        else:
            del out["sort"]
    if out.get("filter") and mentions(out["filter"]):
        del out["filter"]
    return out
