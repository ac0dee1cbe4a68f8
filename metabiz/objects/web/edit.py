"""Create, edit and delete pages: generated forms, inline errors, the delete confirmation.

Every save goes through the record service; a successful save redirects to the record.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from flask import Response, flash, redirect, render_template, request, url_for

from metabiz.errors import (
    ConflictError,
    MetabizError,
    PermissionDenied,
    RecordLocked,
    ValidationError,
)
from metabiz.objects import files, forms, record_scope, records
from metabiz.objects.api import evaluate
from metabiz.objects.context import Context
from metabiz.objects.forms import FieldView, SectionView
from metabiz.objects.record_input import record_key
from metabiz.objects.records import RECORD_KEY
from metabiz.objects.schema import CompiledObject
from metabiz.objects.web.blueprint import web
from metabiz.objects.web.detail import BACK, editable, layout
from metabiz.objects.web.navigation import plural, readable
from metabiz.objects.work import app_storage, unit_of_work
from metabiz.platform.access import Actor
from metabiz.platform.auth import user_names
from metabiz.platform.request_input import whole_number
from metabiz.platform.web import i18n
from metabiz.platform.web.session import login_required, safe_next

log = logging.getLogger(__name__)


@web.route("/o/<object_name>/new", methods=["GET", "POST"])
@login_required
def new_record(actor: Actor, object_name: str) -> Any:
    errors: dict[str, list[str]] = {}
    banner = None
    status = 200
    # "New" of a related list: saving or cancelling goes back to the parent record
    back = safe_next(request.args.get(BACK))
    with unit_of_work(actor) as ctx:
        obj = ctx.schema.object(object_name)
        ctx.schema.access.require(actor, obj.name, "create")
        names = [n for n in obj.fields if editable(ctx, obj, n)]
        if request.method == "POST":
            data = forms.parse(obj, request.form, names, ctx.zone)
            values = forms.kept_input(obj, request.form, names)
        else:
            values = {**_defaults(ctx, obj, names), **forms.prefill(obj, request.args, names)}
    if request.method == "POST":
        try:
            with unit_of_work(actor, write=True) as ctx:
                created = records.create(ctx, obj.name, data)
                created = _store_uploads(ctx, obj, created, names) or created
                name = forms.record_name(ctx.schema.object(obj.name), created, ctx.language)
                # assignment rules may have given it to someone whose records she cannot see
                visible = record_scope.can_read(ctx, obj.name, created["id"])
        except (ValidationError, ConflictError, PermissionDenied) as err:
            errors, banner, status = _form_failure(err)
        else:
            label = obj.odef.label.get(i18n.language())
            if not visible:
                flash(i18n.text("created_for_other", object=label, name=name,
                                owner=created["owner"]), "success")
                return redirect(url_for("objects_web.list_page", object_name=obj.name))
            flash(i18n.text("created", object=label, name=name), "success")
            return redirect(back or url_for("objects_web.detail", object_name=obj.name,
                                            record_id=created["id"]))
    with unit_of_work(actor) as ctx:
        obj = ctx.schema.object(object_name)
        page = _form_page(ctx, obj, None, values, errors, banner, creating=True, back=back)
    return Response(page, status=status, mimetype="text/html")


@web.route("/o/<object_name>/<record_id>/edit", methods=["GET", "POST"])
@login_required
def edit_record(actor: Actor, object_name: str, record_id: str) -> Any:
    errors: dict[str, list[str]] = {}
    banner = None
    status = 200
    with unit_of_work(actor) as ctx:
        obj = ctx.schema.object(object_name)
        ctx.schema.access.require(actor, obj.name, "edit")
        stored = records.load(ctx, obj, record_id)
        record = records.serialise(ctx, obj, stored, rich=True)
        # a record locked by a pending approval says so and offers nothing to change
        if stored.get("locked") and not actor.is_admin:
            banner = "locked"
        names = [n for n in obj.fields if editable(ctx, obj, n)]
        version = record["version"]
        if request.method == "POST":
            data = forms.parse(obj, request.form, names, ctx.zone)
            # a value the user left as the form showed it is not sent: an input shows less
            # than the field holds (a datetime's seconds), and saving it would change it
            shown = _inputs(obj, record, names, ctx.zone)
            typed = forms.kept_input(obj, request.form, names)
            data = {k: v for k, v in data.items() if k not in shown or typed.get(k) != shown[k]}
            sent = request.form.get("version", "").strip()
            if (number := whole_number(sent)) is not None:
                version = data["version"] = number
            values = {**shown, **typed}
        else:
            values = _inputs(obj, record, names, ctx.zone)
    if request.method == "POST":
        try:
            with unit_of_work(actor, write=True) as ctx:
                # files first (a rule may want the signature the same save completes),
                # after the version check that the save itself would make
                if "version" in data:
                    records.update(ctx, obj.name, record["id"], {"version": data["version"]})
                if _store_uploads(ctx, obj, record, names) is not None:
                    data.pop("version", None)
                saved = records.update(ctx, obj.name, record["id"], data)
                name = forms.record_name(ctx.schema.object(obj.name), saved, ctx.language)
        except (ValidationError, ConflictError, PermissionDenied) as err:
            errors, banner, status = _form_failure(err)
        else:
            key = "saved" if saved["version"] != record["version"] else "no_changes"
            flash(i18n.text(key, object=obj.odef.label.get(i18n.language()), name=name),
                  "success")
            return redirect(url_for("objects_web.detail", object_name=obj.name,
                                    record_id=record["id"]))
    with unit_of_work(actor) as ctx:
        obj = ctx.schema.object(object_name)
        page = _form_page(ctx, obj, record, values, errors, banner, version=version,
                          locked=banner == "locked")
    return Response(page, status=status, mimetype="text/html")


def _store_uploads(ctx: Context, obj: CompiledObject, record: dict[str, Any],
                   names: Iterable[str]) -> dict[str, Any] | None:
    """The files chosen in the form, and the ones ticked for removal, written to the saved
    record in the same transaction (a refused file undoes the whole save)."""
    saved = None
    for name in names:
        if forms.widget_of(obj.fields[name]) not in forms.FILE_WIDGETS:
            continue
        sent = request.files.get(name)
        if sent is not None and sent.filename:
            saved = files.attach(ctx, app_storage(), obj.name, record["id"], name,
                                 sent.filename, sent.read(), sent.mimetype)
        elif request.form.get(forms.REMOVE_FILE + name) and record.get(name):
            saved = files.remove(ctx, obj.name, record["id"], name)
    return saved


def _inputs(obj: CompiledObject, record: dict[str, Any], names: Iterable[str],
            zone: dt.tzinfo) -> dict[str, Any]:
    return {n: forms.to_input(obj.fields[n], record.get(n), zone) for n in names if n in record}


def _defaults(ctx: Context, obj: CompiledObject, names: Iterable[str]) -> dict[str, Any]:
    """Default values shown on a new form, so the user sees what will be saved."""
    out: dict[str, Any] = {}
    for name in names:
        cf = obj.fields[name]
        if not cf.fdef.default:
            continue
        try:
            result = evaluate(ctx, obj, cf.fdef.default, {})
        except MetabizError as err:
            log.info("default of %s.%s not shown: %s", obj.name, name, err.message)
            continue
        if result["value"] is not None:
            out[name] = forms.to_input(cf, result["value"], ctx.zone)
    return out


def _form_failure(err: MetabizError) -> tuple[dict[str, list[str]], str | None, int]:
    """Field errors, a banner (conflict, lock, record-level) and the status for a failed save."""
    if isinstance(err, RecordLocked):
        return {}, "locked", 409
    if isinstance(err, ConflictError) and "version" in err.fields:
        return {}, "conflict", 409
    if isinstance(err, PermissionDenied) and not err.fields:
        raise err
    fields = dict(err.fields)
    if not fields:
        fields = {RECORD_KEY: [err.message]}
    return fields, None, err.status


def _form_page(ctx: Context, obj: CompiledObject, record: dict[str, Any] | None,
               values: dict[str, Any], errors: dict[str, list[str]], banner: str | None, *,
               creating: bool = False, version: int | None = None,
               locked: bool = False, back: str | None = None) -> str:
    lang = ctx.language
    sections = layout(ctx, obj, record, editing=True, creating=creating)
    shown_fields = {n for s in sections for n in s.fields}
    lookups: dict[str, set[Any]] = {}
    given: dict[str, set[Any]] = {}  # ids typed into the form or the address bar
    for name in shown_fields:
        cf = obj.fields[name]
        raw = str(values.get(name) if editable(ctx, obj, name) else
                  (record or {}).get(name) or "")
        key = record_key(raw)
        if cf.ftype.widget == "lookup" and cf.fdef.target and key is not None:
            stored = record is not None and str((record or {}).get(name)) == raw
            (lookups if stored else given).setdefault(cf.fdef.target, set()).add(key)
    # a record's own references show their names (as on its page); an id from the request
    # only when the actor may read that record, so walking ids reveals nothing
    names = {**forms.lookup_names(ctx, given, scoped=True), **forms.lookup_names(ctx, lookups)}
    readable_names = [o.name for o in readable(ctx)]
    views = []
    for section in sections:
        fields: list[FieldView] = []
        for name in section.fields:
            cf = obj.fields[name]
            if editable(ctx, obj, name):
                value = values.get(name, forms.to_input(cf, None))
                text = ""
                key = record_key(str(value or ""))
                if cf.ftype.widget == "lookup" and key is not None:
                    text = names.get((cf.fdef.target or "", key), f"#{value}")
                fields.append(forms.field_view(ctx, obj, cf, value, errors=errors,
                                               read_only=None, lookup_text=text))
            else:
                reason = "computed" if not cf.ftype.writable else "role"
                shown = forms.display(cf, (record or {}).get(name), lang=lang, names=names,
                                      readable=readable_names, zone=ctx.zone)
                fields.append(forms.field_view(ctx, obj, cf, None, errors=errors,
                                               read_only=reason, shown=shown))
        views.append(SectionView(section.label, section.columns, fields))
    # errors on fields the form does not show go on top, with the field's label
    general = [i18n.message(m, lang) for m in errors.get(RECORD_KEY, [])]
    for name, messages in errors.items():
        if name != RECORD_KEY and name not in shown_fields:
            label = forms.field_label(obj, name, lang)
            general.extend(f"{label}: {i18n.message(m, lang)}" for m in messages)
    users = sorted(n for n in user_names(ctx.conn) if n != "system") \
        if any(f.widget == "user" for s in views for f in s.fields) else []
    name = forms.record_name(obj, record, lang) if record else None
    return render_template(
        "form.html", obj=obj, record=record, sections=views, label=obj.odef.label.get(lang),
        title=plural(obj, lang), name=name, general=general, banner=banner,
        has_errors=bool(errors), version=version, users=users, locked=locked,
        multipart=any(f.widget in forms.FILE_WIDGETS for s in views for f in s.fields),
        action=url_for("objects_web.new_record", object_name=obj.name)
        + (f"?{urlencode({BACK: back})}" if back else "") if creating else
        url_for("objects_web.edit_record", object_name=obj.name, record_id=record["id"]
                if record else 0),
        cancel=url_for("objects_web.detail", object_name=obj.name, record_id=record["id"])
        if record else back or url_for("objects_web.list_page", object_name=obj.name))


@web.route("/o/<object_name>/<record_id>/delete", methods=["GET", "POST"])
@login_required
def delete_record(actor: Actor, object_name: str, record_id: str) -> Any:
    lang = i18n.language()
    with unit_of_work(actor) as ctx:
        obj = ctx.schema.object(object_name)
        ctx.schema.access.require(actor, obj.name, "delete")
        record = records.get(ctx, obj.name, record_id, rich=True)
        name = forms.record_name(obj, record, lang)
        details = [plural(ctx.schema.object(c), lang) for c, link in obj.children
                   if ctx.schema.object(c).fields[link].fdef.type == "master_detail"]
    if request.method == "POST":
        try:
            with unit_of_work(actor, write=True) as ctx:
                records.delete(ctx, obj.name, record["id"])
        except ConflictError as err:
            flash(err.message, "error")
            return redirect(url_for("objects_web.detail", object_name=obj.name,
                                    record_id=record["id"]))
        flash(i18n.text("deleted", object=obj.odef.label.get(lang), name=name), "success")
        return redirect(url_for("objects_web.list_page", object_name=obj.name))
    return render_template("delete.html", obj=obj, record=record, name=name,
                           label=obj.odef.label.get(lang), title=plural(obj, lang),
                           children=", ".join(details))
