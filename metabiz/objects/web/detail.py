"""The record page: fields by layout, related lists, and the packages' panels.

Panels registered for the "record" slot (the owner card, approvals, the activity timeline
with the record's history) render in the side column; the page itself knows none of them.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template, url_for

from metabiz.objects import forms, query, recent_views, records
from metabiz.objects.context import Context
from metabiz.objects.forms import SectionView
from metabiz.objects.schema import CompiledObject
from metabiz.objects.web.blueprint import web
from metabiz.objects.web.board import stage_path
from metabiz.objects.web.navigation import plural
from metabiz.objects.web.table_markup import table_markup
from metabiz.objects.web.tables import list_columns, table_rows
from metabiz.objects.work import unit_of_work
from metabiz.platform.access import Actor
from metabiz.platform.auth import display_names
from metabiz.platform.db import writer
from metabiz.platform.web import i18n
from metabiz.platform.web.session import login_required
from metabiz.platform.web.shell import render_panels

RELATED_ROWS = 5

#: the query parameter of a related list's "New": the parent record to come back to
BACK = "_back"


@web.get("/o/<object_name>/<record_id>")
@login_required
def detail(actor: Actor, object_name: str, record_id: str) -> Any:
    lang = i18n.language()
    with unit_of_work(actor) as ctx:
        obj = ctx.schema.object(object_name)
        ctx.schema.access.require(actor, obj.name, "read")
        values = records.load(ctx, obj, record_id)
        _viewed(actor, obj.name, values["id"])
        record = records.serialise(ctx, obj, values, rich=True)
        names = forms.lookup_names(ctx, forms.wanted_lookups(obj, [record], obj.fields))
        # every lookup links, as in Salesforce: a record the user may not open answers with
        # the 403 page saying so (and a way back), its name shown here all the same
        linked = list(ctx.schema.objects)
        sections = [SectionView(s.label, s.columns, [
            (forms.field_label(obj, n, lang),
             forms.display(obj.fields[n], record.get(n), lang=lang, names=names,
                           readable=linked, zone=ctx.zone), _help(obj, n, lang))
            for n in s.fields]) for s in layout(ctx, obj, record)]
        people: dict[Any, str] = display_names(
            ctx.conn, (record.get(n) for n in ("owner", "created_by", "updated_by")))
        system = [(forms.field_label(obj, n, lang),
                   forms.display(None, people.get(record.get(n), record.get(n)), lang=lang,
                                 widget=forms.SYSTEM_WIDGETS[n], zone=ctx.zone))
                  for n in ("owner", "created_by", "created_at", "updated_by", "updated_at")]
        related = [r for r in (_related(ctx, obj, record, child, link)
                               for child, link in obj.children) if r is not None]
        access = ctx.schema.access
        locked = bool(values.get("locked")) and not actor.is_admin
        panels = render_panels("record", ctx, obj, record)
        return render_template(
            "detail.html", obj=obj, record=record, label=obj.odef.label.get(lang),
            title=plural(obj, lang), name=forms.record_name(obj, record, lang),
            sections=sections, system=system, related=related,
            panels=panels, locked=bool(values.get("locked")),
            path=stage_path(ctx, obj, record, locked),
            status=forms.display(None, record.get("approval_status"), lang=lang,
                                 widget="approval_status"),
            can_edit=access.allowed(actor, obj.name, "edit") and not locked,
            can_delete=access.allowed(actor, obj.name, "delete") and not locked)


def _viewed(actor: Actor, object_name: str, record_id: int) -> None:
    """Note the view for "recently viewed" on home: a short write of its own, since the page
    reads in a deferred SQLite transaction that cannot take the write lock once it has read."""
    with writer(current_app.extensions["metabiz"].engine).begin() as conn:
        recent_views.record_view(conn, actor.name, object_name, record_id)


def _help(obj: CompiledObject, name: str, lang: str) -> str | None:
    text = obj.fields[name].fdef.help
    return text.get(lang) if text is not None else None


def layout(ctx: Context, obj: CompiledObject, record: dict[str, Any] | None,
           *, editing: bool = False, creating: bool = False) -> list[SectionView]:
    """The default layout's sections (or one section of every field), minus hidden fields."""
    hidden = ctx.schema.access.hidden_fields(ctx.actor, obj.name, obj.fields)
    defined = obj.odef.layout("default")
    sections = ([(s.label.get(ctx.language), s.columns, s.fields) for s in defined.sections]
                if defined else [("", 2, tuple(obj.fields))])
    out = []
    for label, columns, names in sections:
        kept = [n for n in names if n in obj.fields and n not in hidden
                and (not creating or editable(ctx, obj, n))
                and (record is None or editing or n in record)]
        if kept:
            out.append(SectionView(label, columns, kept))
    return out


def editable(ctx: Context, obj: CompiledObject, name: str) -> bool:
    cf = obj.fields[name]
    return cf.ftype.writable and ctx.schema.access.field_rule(ctx.actor, obj.name, name) is None


def _related(ctx: Context, obj: CompiledObject, record: dict[str, Any], child_name: str,
             link: str) -> dict[str, Any] | None:
    child = ctx.schema.object(child_name)
    access = ctx.schema.access
    if not access.allowed(ctx.actor, child.name, "read") or \
            access.field_rule(ctx.actor, child.name, link) == "hidden":
        return None
    view = child.odef.list_views[0] if child.odef.list_views else None
    columns = list_columns(ctx, child, view.columns if view else (), skip=(link, "owner"),
                           limit=4)[:5]
    found = query.list_records(ctx, child.name, filter=f"{link} = {record['id']}",
                               sort=view.sort if view else None, limit=RELATED_ROWS,
                               rich=True)
    lang = ctx.language
    link_label = child.fields[link].fdef.label.get(lang)
    title = plural(child, lang)
    if sum(1 for c, _ in obj.children if c == child.name) > 1:
        title = f"{title} ({link_label})"
    headers = [{"label": forms.field_label(child, n, lang),
                "numeric": forms.widget_of(child.fields[n]) in forms.NUMBER_WIDGETS
                if n in child.fields else False} for n in columns]
    rows = table_rows(ctx, child, columns, found.records)
    return {"object": child.name, "link": link, "title": title,
            "label": child.odef.label.get(lang), "total": found.total,
            "shown": len(rows), "table": table_markup(headers, rows, caption=title),
            "new_href": url_for("objects_web.new_record", object_name=child.name,
                                **{link: record["id"], BACK: url_for(
                                    "objects_web.detail", object_name=obj.name,
                                    record_id=record["id"])})
            if access.allowed(ctx.actor, child.name, "create") and
            editable(ctx, child, link) else None,
            "all_href": url_for("objects_web.list_page", object_name=child.name,
                                **{link: record["id"]})}
