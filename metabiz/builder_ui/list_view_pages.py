"""The builder's list view pages: columns in a dragged order, a filter written in the formula
editor, a sort, and a live preview of the first rows as the view will show them.

Saved through the plan page like every change to an object.
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request, url_for

from metabiz.builder_ui.field_form import label_from, label_parts
from metabiz.builder_ui.object_pages import Problems, editor_context, form_problems, object_document
from metabiz.builder_ui.problems import ConversionRefused, InvalidDocument
from metabiz.builder_ui.texts import TEXTS, b
from metabiz.builder_ui.web import admin_page, base_version, review, web
from metabiz.errors import ConflictError, MetabizError, NotFound
from metabiz.objects import query
from metabiz.objects.work import unit_of_work
from metabiz.platform.access import Actor
from metabiz.platform.web import i18n

#: how many records the preview shows
PREVIEW_ROWS = 10
#: the name of the view added before an object's first filtered view
ALL = "all"
#: the system columns a view may show, after the object's fields (id and version are not
#: for people)
SYSTEM_COLUMNS = ("owner", "created_at", "created_by", "updated_at", "updated_by",
                  "approval_status")


def _columns(doc: dict[str, Any]) -> list[str]:
    """What a view of `doc` may show: its fields, then the system columns."""
    return [f.get("api_name") for f in doc.get("fields", [])] + list(SYSTEM_COLUMNS)


def _view_from_form(form: Any, names: list[str]) -> dict[str, Any]:
    view: dict[str, Any] = {"api_name": (form.get("api_name") or "").strip()}
    label = label_from(form, "label")
    if label is not None:
        view["label"] = label
    columns = [c for c in form.getlist("columns") if c in names]
    if columns:
        view["columns"] = columns
    for key in ("filter", "sort"):
        value = (form.get(key) or "").strip()
        if value:
            view[key] = value
    return view


def _all_records(first: dict[str, Any]) -> dict[str, Any]:
    """The view that comes before an object's first filtered one: the list shows its first
    view by default, and without this one the records the filter leaves out would have no
    list at all (Salesforce's "All" view)."""
    view: dict[str, Any] = {"api_name": ALL, "label": dict(TEXTS["all_records"])}
    if first.get("columns"):
        view["columns"] = list(first["columns"])
    return view


def _list_view_page(actor: Actor, name: str, view_name: str | None) -> Any:
    app, doc, version, documents = object_document(name)
    views = doc.setdefault("list_views", [])
    index = next((i for i, v in enumerate(views) if v.get("api_name") == view_name), None)
    if view_name is not None and index is None:
        raise NotFound(f"no list view {view_name!r} on {name}")
    names = _columns(doc)
    view = views[index] if index is not None else {"api_name": "", "columns": names[:5]}
    errors: Problems = ({}, [], [])
    if request.method == "POST":
        view = _view_from_form(request.form, names)
        if index is None and not views and view.get("filter") and view["api_name"] != ALL:
            views.append(_all_records(view))
        position = len(views) if index is None else index
        if index is None:
            views.append(view)
        else:
            views[index] = view
        try:
            return review(actor, "put", kind="objects", name=name, document=doc,
                          base_version=base_version(),
                          done=url_for("builder_web.object_page", name=name), back=request.url,
                          title=b("list_views"))
        except (InvalidDocument, ConversionRefused, ConflictError) as err:
            errors = form_problems(err, f"/list_views/{position}")
    chosen = list(view.get("columns") or [])
    ordered = chosen + [n for n in names if n not in chosen]
    labels = {f.get("api_name"): f.get("label") or f.get("api_name")
              for f in doc.get("fields", [])}
    for column in ordered:  # owner, approval_status…: the labels lists show them under
        if column not in labels and f"sys_{column}" in i18n.TEXTS:
            labels[column] = i18n.TEXTS[f"sys_{column}"]
    label_en, label_zh = label_parts(view.get("label"))
    return render_template(
        "builder/list_view.html", name=name, doc=doc, view=view, view_name=view_name,
        version=version, ordered=ordered, chosen=chosen, labels=labels, label_en=label_en,
        label_zh=label_zh, errors=errors[0], general=errors[1],
        **editor_context(name, doc, documents)), 422 if errors[1] or errors[0] else 200


@web.route("/objects/<name>/views/new", methods=["GET", "POST"])
@admin_page
def new_list_view(actor: Actor, name: str) -> Any:
    return _list_view_page(actor, name, None)


@web.route("/objects/<name>/views/<view_name>", methods=["GET", "POST"])
@admin_page
def list_view_page(actor: Actor, name: str, view_name: str) -> Any:
    return _list_view_page(actor, name, view_name)


@web.post("/objects/<name>/views/<view_name>/delete")
@admin_page
def delete_list_view(actor: Actor, name: str, view_name: str) -> Any:
    app, doc, version, _ = object_document(name)
    doc["list_views"] = [v for v in doc.get("list_views", []) if v.get("api_name") != view_name]
    if not doc["list_views"]:
        del doc["list_views"]
    page = url_for("builder_web.object_page", name=name)
    return review(actor, "put", kind="objects", name=name, document=doc,
                  base_version=base_version(), done=page, back=page, title=b("delete"))


@web.post("/objects/<name>/views/preview")
@admin_page
def preview_list_view(actor: Actor, name: str) -> Any:
    """The htmx fragment under the list view form: the first rows as the view would show."""
    _, doc, _, _ = object_document(name)
    names = _columns(doc)
    view = _view_from_form(request.form, names)
    columns = view.get("columns") or names[:5]
    with unit_of_work(actor) as ctx:
        if name not in ctx.schema.objects:
            return render_template("builder/list_preview.html", error=b("apply_object_first"))
        try:
            page = query.list_records(ctx, name, filter=view.get("filter"),
                                      sort=view.get("sort"), limit=PREVIEW_ROWS,
                                      fields=",".join(c for c in columns
                                                      if c in ctx.schema.objects[name].fields))
        except MetabizError as err:
            return render_template("builder/list_preview.html", error=err.message)
    return render_template("builder/list_preview.html", columns=columns, records=page.records,
                           total=page.total, error=None)
