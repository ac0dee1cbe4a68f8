"""List pages and the lookup type-ahead: search, sort, paging, saved views, parent filters.

`?account=7` narrows a list to the records pointing at that record (related lists' links);
`?filter=<formula>` to the records it matches (a report's drill-down).
"""

from __future__ import annotations

import math
from typing import Any

from flask import redirect, render_template, request

from metabiz.errors import NotFound
from metabiz.objects import board, forms, query, reference_rules
from metabiz.objects.context import Context
from metabiz.objects.readers import Wanted, native_kind
from metabiz.objects.record_input import record_key
from metabiz.objects.schema import CompiledObject
from metabiz.objects.web.blueprint import web
from metabiz.objects.web.board import board_page
from metabiz.objects.web.list_cells import list_table
from metabiz.objects.web.navigation import plural
from metabiz.objects.web.pools import can_transfer, people
from metabiz.objects.web.tables import list_columns, list_headers
from metabiz.objects.work import unit_of_work
from metabiz.platform.access import Actor
from metabiz.platform.request_input import MAX_PAGE, int_param
from metabiz.platform.web import i18n
from metabiz.platform.web.page_urls import url_for
from metabiz.platform.web.session import login_required
from metabiz.platform.web.shell import render_panels

PAGE_SIZE = 25
LOOKUP_ROWS = 10


@web.get("/o/<object_name>")
@login_required
def list_page(actor: Actor, object_name: str) -> Any:
    args = request.args
    if "board" in args:
        return board_page(actor, object_name)
    lang = i18n.language()
    with unit_of_work(actor) as ctx:
        obj = ctx.schema.object(object_name)
        ctx.schema.access.require(actor, obj.name, "read")
        grouping = board.stage_field(ctx, obj) or next(iter(board.board_fields(ctx, obj)), None)
        view_name = args.get("view")
        view = obj.odef.list_view(view_name) if view_name else (
            obj.odef.list_views[0] if obj.odef.list_views else None)
        if view_name and view is None:
            raise NotFound(f"{obj.name} has no list view named {view_name!r}")
        columns = list_columns(ctx, obj, view.columns if view else ())
        sort = args.get("sort") or (view.sort if view else None) or ""
        q = args.get("q", "").strip()
        page = _page_number(args.get("page"))
        chips, conditions = _parent_filters(ctx, obj)
        if view and view.filter:
            conditions.insert(0, view.filter)
        formula = args.get("filter", "").strip()
        if formula:
            conditions.append(formula)
            rest: dict[str, Any] = {k: v for k, v in args.items()
                                    if k not in ("filter", "page")}
            chips.append({"field": None, "value": None, "label": i18n.text("filter_formula"),
                          "text": formula, "remove": url_for("objects_web.list_page",
                                                             object_name=obj.name, **rest)})
        found = query.list_records(
            ctx, obj.name, filter=" && ".join(f"({c})" for c in conditions) or None,
            sort=sort or None, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, q=q or None,
            shown=shown_values(ctx, obj, columns))
        rows = found.records
        pages = max(1, math.ceil(found.total / PAGE_SIZE))
        base: dict[str, Any] = {k: v for k, v in args.items() if k not in ("page", "lang") and v}
        if page > pages:  # an old link, a list that shrank: its last page, not an empty one
            return redirect(url_for("objects_web.list_page", object_name=obj.name,
                                    **{**base, "page": pages if pages > 1 else None}))
        headers = list_headers(ctx, obj, columns, lang, sort, base)
        title = plural(obj, lang)
        transfer = can_transfer(ctx, obj)
        return render_template(
            "list.html", obj=obj, label=obj.odef.label.get(lang), title=title,
            views=[(v.api_name, v.label.get(lang)) for v in obj.odef.list_views],
            view=view.api_name if view else None, rows=rows, q=q,
            table=list_table(ctx, obj, columns, rows, headers, caption=title,
                             select="bulk-transfer" if transfer else None),
            sort=sort, page=page, pages=pages, total=found.total,
            first=(page - 1) * PAGE_SIZE + 1 if rows else 0,
            last=(page - 1) * PAGE_SIZE + len(rows), chips=chips,
            page_url=lambda n: url_for("objects_web.list_page", object_name=obj.name,
                                       **{**base, "page": n}),
            can_create=ctx.schema.access.allowed(actor, obj.name, "create"),
            can_transfer=transfer,
            new_args={c["field"]: c["value"] for c in chips if c["field"]},
            panels=render_panels("list", ctx, obj, base),  # the packages' actions (import…)
            on_board=False,
            list_href=url_for("objects_web.list_page", object_name=obj.name, **base),
            board_href=url_for("objects_web.list_page", object_name=obj.name,
                               board=grouping.name, view=view_name, q=q or None)
            if grouping is not None else None)


@web.get("/o/<object_name>/transfer")
@login_required
def transfer_people(actor: Actor, object_name: str) -> Any:
    """The options of a list's bulk transfer (the users one may give records to): loaded
    when the user is about to transfer, so a list page does not read every user."""
    with unit_of_work(actor) as ctx:
        obj = ctx.schema.object(object_name)
        ctx.schema.access.require(actor, obj.name, "edit")
        return render_template("transfer_people.html", people=people(ctx))


#: how many column sets a metadata version keeps the list page's values of
SHOWN_VALUES = 256


def shown_values(ctx: Context, obj: CompiledObject, columns: list[str]) -> Wanted:
    """What the list page reads of each record: its columns, the id and the name; as their
    Python values the columns whose cells show them as they show the JSON value (numbers
    at the scale the cell rounds to, days, timestamps shown in the user's zone), so no
    number or date is parsed back. Kept per metadata version, object and columns."""
    cache: dict[tuple[str, tuple[str, ...]], Wanted] = \
        ctx.schema.compiled.setdefault("list_values", {})
    key = (obj.name, tuple(columns))
    found = cache.get(key)
    if found is None:
        if len(cache) >= SHOWN_VALUES:
            cache.clear()
        name_field = obj.odef.name_field  # the record's name is its str(): JSON value
        native = set()
        for name in columns:
            kind = native_kind(obj, name)
            cf = obj.fields.get(name)
            widget = forms.SYSTEM_WIDGETS.get(name) if cf is None else forms.widget_of(cf)
            if kind is None or name == name_field:
                continue
            if kind[0] == "number" and widget in forms.NUMBER_WIDGETS and cf is not None \
                    and forms.scale_of(cf) == kind[1] or \
                    kind[0] == "day" and widget == "date" or \
                    kind[0] == "stamp" and widget == "datetime":
                native.add(name)
        keys = [*columns, name_field] if name_field else columns
        found = cache[key] = Wanted(tuple(dict.fromkeys(keys)), frozenset(native))
    return found


def _page_number(raw: str | None) -> int:
    """`?page=`: a whole number from 1 (past the last page the list is empty); 400 for
    anything else, so a page number no query can take never reaches the database."""
    return int_param("page", raw, 1, 1, MAX_PAGE)


def _parent_filters(ctx: Context, obj: CompiledObject) -> tuple[list[dict[str, Any]], list[str]]:
    """`?account=7` on a list: only the records pointing to that record (related lists)."""
    chips: list[dict[str, Any]] = []
    conditions: list[str] = []
    for name, raw in request.args.items():
        cf = obj.fields.get(name)
        value = record_key(raw)
        if cf is None or cf.ftype.widget != "lookup" or value is None:
            continue
        target = cf.fdef.target or ""
        # an id from the address bar: its name only if the actor may read that record
        names = forms.lookup_names(ctx, {target: {value}}, scoped=True)
        rest: dict[str, Any] = {k: v for k, v in request.args.items() if k not in (name, "page")}
        chips.append({"field": name, "value": value,
                      "label": cf.fdef.label.get(ctx.language),
                      "text": names.get((target, value), f"#{value}"),
                      "remove": url_for("objects_web.list_page", object_name=obj.name,
                                        **rest)})
        conditions.append(f"{name} = {value}")
    return chips, conditions


@web.get("/o/<object_name>/lookup")
@login_required
def lookup(actor: Actor, object_name: str) -> Any:
    """Matching records by name, as options for a lookup widget's type-ahead list."""
    text = request.args.get("q")
    if text is None:
        text = next((v for k, v in request.args.items() if k.startswith(forms.LOOKUP_SEARCH)),
                    "")
    text = text.strip()[:100]
    with unit_of_work(actor) as ctx:
        obj = ctx.schema.object(object_name)
        ctx.schema.access.require(actor, obj.name, "read")
        name_field = obj.odef.name_field
        search: dict[str, Any] = {"q": text or None}
        if name_field and _is_text(ctx, obj, name_field):
            search = {"filter": name_filter(name_field, text) if text else None,
                      "sort": name_field}
        allowed = _match_filter(ctx, request.args.get("source", ""),
                                request.args.get("field", ""), obj.name)
        if allowed:
            search["filter"] = " && ".join(f"({f})" for f in (search.get("filter"), allowed)
                                           if f)
        found = query.list_records(ctx, obj.name, limit=LOOKUP_ROWS, **search)
        options = [{"id": r["id"], "name": forms.record_name(obj, r, ctx.language)}
                   for r in found.records]
        return render_template("lookup_options.html", options=options, text=text,
                               label=obj.odef.label.get(ctx.language),
                               field=request.args.get("field", ""))


def _match_filter(ctx: Context, source: str, field: str, target: str) -> str | None:
    """The `match` of the form's lookup field, given the values the form holds now."""
    source_obj = ctx.schema.objects.get(source)
    cf = source_obj.fields.get(field) if source_obj is not None else None
    if source_obj is None or cf is None or cf.fdef.target != target:
        return None
    return reference_rules.match_filter(source_obj, cf, request.args)


def _is_text(ctx: Context, obj: CompiledObject, name: str) -> bool:
    spec = ctx.schema.catalog.field(obj.name, name)
    return spec is not None and spec.type.value == "text"


def name_filter(field: str, text: str) -> str:
    """A formula matching records whose `field` contains `text`, ignoring case."""
    literal = text.lower().replace("\\", "\\\\").replace('"', '\\"')
    return f'CONTAINS(LOWER({field}), "{literal}")'
