"""The import page (`/o/<object>/import`: upload, map columns, preview, progress, error
report), the export download, and the Import/Export buttons on list pages.

The import itself runs as a background job; the page polls its status with htmx.
"""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from markupsafe import Markup

from metabiz.errors import MetabizError, NotFound
from metabiz.objects.context import Context
from metabiz.objects.schema import CompiledObject
from metabiz.objects.work import unit_of_work
from metabiz.platform.access import Actor
from metabiz.platform.web import i18n
from metabiz.platform.web.session import login_required
from metabiz.platform.web.shell import render_kept
from metabiz.spreadsheets import store
from metabiz.spreadsheets.api import flag, start_import
from metabiz.spreadsheets.background import enqueue, options_of
from metabiz.spreadsheets.columns import FILE_TYPES, field_names
from metabiz.spreadsheets.exporter import MEDIA_TYPES, ExportRequest, check_format, export
from metabiz.spreadsheets.importer import ImportOptions, check_rights, plan_columns, run_import
from metabiz.spreadsheets.report import error_report, messages_by_row
from metabiz.spreadsheets.sheets import SheetRejected, column_letter, open_sheet
from metabiz.spreadsheets.texts import note, outcome, text

web = Blueprint("spreadsheets_web", __name__, template_folder="templates")

PREVIEW_ROWS = 8
SHOWN_ERRORS = 50


@web.context_processor
def _texts() -> dict[str, Any]:
    return {"st": text}


def list_actions(ctx: Context, obj: CompiledObject, args: dict[str, Any]) -> Markup | None:
    """The Import and Export buttons of a list page (a `list` panel)."""
    access = ctx.schema.access
    can_import = access.allowed(ctx.actor, obj.name, "import") and \
        access.allowed(ctx.actor, obj.name, "create")
    can_export = access.allowed(ctx.actor, obj.name, "export")
    if not (can_import or can_export):
        return None
    keep = tuple((k, v) for k, v in args.items() if k in ("view", "q", "sort"))
    return render_kept("sheet_actions.html", object_name=obj.name, st=text,
                       can_import=can_import, can_export=can_export, keep=keep)


# -- export ---------------------------------------------------------------------------------


@web.get("/o/<object_name>/export")
@login_required
def export_download(actor: Actor, object_name: str) -> Any:
    args = request.args
    fmt = check_format(args.get("format"))
    body = io.BytesIO()
    with unit_of_work(actor) as ctx:
        export(ctx, object_name, ExportRequest(
            format=fmt, view=args.get("view"), q=args.get("q"), sort=args.get("sort"),
            headers=args.get("headers") or "api", base_url=request.url_root), body)
        name = ctx.schema.object(object_name).name
    return Response(body.getvalue(), mimetype=MEDIA_TYPES[fmt], headers={
        "Content-Disposition": f'attachment; filename="{name}.{fmt}"'})


# -- import: upload ---------------------------------------------------------------------------


def _object(ctx: Context, object_name: str) -> CompiledObject:
    obj = ctx.schema.object(object_name)
    check_rights(ctx, obj, ImportOptions())
    return obj


def _key_choices(obj: CompiledObject, lang: str) -> list[tuple[str, str]]:
    keys = [("id", "ID")]
    keys += [(cf.name, cf.fdef.label.get(lang)) for cf in obj.fields.values()
             if cf.fdef.unique and cf.ftype.writable]
    if obj.odef.name_field in obj.fields and obj.odef.name_field not in dict(keys):
        cf = obj.fields[obj.odef.name_field]
        keys.append((cf.name, cf.fdef.label.get(lang)))
    return keys


def _upload_page(actor: Actor, object_name: str, error: list[str] | None = None,
                 status: int = 200) -> Any:
    lang = i18n.language()
    with unit_of_work(actor) as ctx:
        obj = _object(ctx, object_name)
        recent = store.recent(ctx.conn, actor, obj.name)
        page = render_template("sheet_upload.html", obj=obj, label=obj.odef.label.get(lang),
                               keys=_key_choices(obj, lang), recent=recent, error=error,
                               form=request.form)
    return page, status


@web.get("/o/<object_name>/import")
@login_required
def import_page(actor: Actor, object_name: str) -> Any:
    return _upload_page(actor, object_name)


@web.post("/o/<object_name>/import")
@login_required
def upload(actor: Actor, object_name: str) -> Any:
    file = request.files.get("file")
    if file is None or not file.filename:
        return _upload_page(actor, object_name, [text("choose_file")], 422)
    options = {"key": request.form.get("key") or None,
               "dry_run": flag(request.form.get("dry_run")),
               "skip_bad_rows": flag(request.form.get("skip_bad_rows"))}
    try:
        import_id = start_import(actor, object_name, file.filename, file.read(), options,
                                 status="draft")
    except SheetRejected as err:
        return _upload_page(actor, object_name, err.problems, 422)
    return redirect(url_for(".import_detail", object_name=object_name, import_id=import_id))


# -- import: mapping, preview, start ------------------------------------------------------------


def _load(ctx: Context, actor: Actor, object_name: str, import_id: int,
          with_data: bool = False) -> dict[str, Any]:
    row = store.load(ctx.conn, import_id, actor, with_data=with_data)
    if row["object"] != ctx.schema.object(object_name).name:
        raise NotFound(f"no import with id {import_id}")
    return row


def _mapping_from_form(header: list[str]) -> dict[int, str | None]:
    return {index: (request.form.get(f"map-{index}") or None) for index in range(len(header))}


def _suggested(obj: CompiledObject, header: list[str]) -> dict[int, str | None]:
    names = field_names(obj)
    found = {index: names.get(" ".join(h.split()).casefold()) for index, h in enumerate(header)}
    return {index: None if _is_file(obj, name) else name for index, name in found.items()}


def _is_file(obj: CompiledObject, name: str | None) -> bool:
    """A file or image field: its column (an export's links) is not imported."""
    return name in obj.fields and obj.fields[name].fdef.type in FILE_TYPES


def _mapping_page(ctx: Context, obj: CompiledObject, row: dict[str, Any],
                  mapping: dict[int, str | None] | None, options: dict[str, Any],
                  problems: list[str] | None = None, fragment: bool = False) -> str:
    lang = i18n.language()
    sheet = open_sheet(row["filename"], row["data"])
    header = sheet.header
    lines = []
    for line in sheet.rows:
        if any(c is not None and c.strip() for c in line.cells):
            lines.append(line)
        if len(lines) >= PREVIEW_ROWS:
            break
    chosen = mapping if mapping is not None else _suggested(obj, header)
    access = ctx.schema.access
    fields = [(name, obj.fields[name].fdef.label.get(lang)) for name in obj.fields
              if obj.fields[name].ftype.writable and not _is_file(obj, name)
              and access.field_rule(ctx.actor, obj.name, name) is None]
    names = field_names(obj)
    fields += [("owner", text("owner")), ("id", "ID")]
    errors: dict[int | None, list[str]] = {}
    problems = list(problems or [])
    if not problems:
        choices = ImportOptions(key=options.get("key"), mapping=chosen, dry_run=True)
        try:
            with ctx.conn.begin_nested() as preview:
                result = run_import(ctx, obj.name, row["filename"], row["data"], choices,
                                    limit=PREVIEW_ROWS)
                preview.rollback()
            errors = messages_by_row([{**e.to_json(), "message": i18n.message(e.message)}
                                      for e in result.errors])
        except SheetRejected as err:
            problems = err.problems
        except MetabizError as err:
            problems = [err.message]
    columns = [{"index": i, "header": h or column_letter(i), "letter": column_letter(i),
                "field": chosen.get(i),
                "files": _is_file(obj, names.get(" ".join(h.split()).casefold()))}
               for i, h in enumerate(header)]
    return render_template(
        "sheet_mapping_body.html" if fragment else "sheet_mapping.html", obj=obj,
        label=obj.odef.label.get(lang), row=row, columns=columns, fields=fields,
        lines=[{"number": line.number, "cells": line.cells + [None] * (len(header) -
                                                                         len(line.cells)),
                "errors": errors.get(line.number, [])} for line in lines],
        problems=problems, options=options, keys=_key_choices(obj, lang))


@web.get("/o/<object_name>/import/<int:import_id>")
@login_required
def import_detail(actor: Actor, object_name: str, import_id: int) -> Any:
    with unit_of_work(actor) as ctx:  # no write lock: on SQLite a running import holds it
        obj = _object(ctx, object_name)
        row = _load(ctx, actor, object_name, import_id)
        if row["status"] != "draft":
            return render_template("sheet_progress.html", obj=obj,
                                   label=obj.odef.label.get(i18n.language()),
                                   status=_status_view(row))
    with unit_of_work(actor, write=True) as ctx:  # the preview writes, then rolls back
        row = _load(ctx, actor, object_name, import_id, with_data=True)
        return _mapping_page(ctx, _object(ctx, object_name), row, None, row["options"])


def _options_from_form(row: dict[str, Any], header: list[str]) -> dict[str, Any]:
    return {"key": request.form.get("key") or None,
            "dry_run": flag(request.form.get("dry_run")),
            "skip_bad_rows": flag(request.form.get("skip_bad_rows")),
            "mapping": {str(i): v for i, v in _mapping_from_form(header).items()}}


@web.post("/o/<object_name>/import/<int:import_id>/preview")
@login_required
def preview(actor: Actor, object_name: str, import_id: int) -> Any:
    """The mapping form's body again, checked with the columns as now chosen (htmx)."""
    with unit_of_work(actor, write=True) as ctx:
        obj = _object(ctx, object_name)
        row = _load(ctx, actor, object_name, import_id, with_data=True)
        header = open_sheet(row["filename"], row["data"]).header
        options = _options_from_form(row, header)
        return _mapping_page(ctx, obj, row, _mapping_from_form(header), options,
                             fragment=True)


@web.post("/o/<object_name>/import/<int:import_id>/start")
@login_required
def start(actor: Actor, object_name: str, import_id: int) -> Any:
    with unit_of_work(actor, write=True) as ctx:
        obj = _object(ctx, object_name)
        row = _load(ctx, actor, object_name, import_id, with_data=True)
        if row["status"] != "draft":
            return redirect(url_for(".import_detail", object_name=object_name,
                                    import_id=import_id))
        header = open_sheet(row["filename"], row["data"]).header
        options = _options_from_form(row, header)
        mapping = _mapping_from_form(header)
        try:
            plan_columns(ctx, obj, header, options_of(options))
        except SheetRejected as err:
            return _mapping_page(ctx, obj, row, mapping, options, err.problems), 422
        store.set_options(ctx.conn, import_id, options, "queued")
        enqueue(current_app.extensions["metabiz"].runtime.extensions, ctx.conn, import_id)
    return redirect(url_for(".import_detail", object_name=object_name, import_id=import_id))


# -- import: progress and report ---------------------------------------------------------------


def _status_view(row: dict[str, Any]) -> dict[str, Any]:
    status = store.status_json(row)
    errors = list(status["errors"])
    status.update(
        raw_status=row["status"], bad=len({e["row"] for e in errors}),
        shown_errors=[{**e, "message": i18n.message(e["message"])}
                      for e in errors[:SHOWN_ERRORS]],
        more=max(len(errors) - SHOWN_ERRORS, 0),
        finished=row["status"] in store.FINISHED,
        dry_run=bool(row["options"].get("dry_run")),
        percent=int(100 * row["processed"] / row["total"]) if row["total"] else 0,
        shown_message=_MESSAGES[row["message"]]() if row["message"] in _MESSAGES
        else (outcome(row["message"]) or i18n.message(row["message"])) if row["message"]
        else None,
        notes=[note(n) for n in status["notes"]])
    return status


#: the imports' own messages, in the user's language
_MESSAGES = {store.RESTARTED: lambda: text("restarted"),
             store.WORKER_STOPPED: lambda: text("worker_stopped")}


@web.get("/o/<object_name>/import/<int:import_id>/progress")
@login_required
def progress(actor: Actor, object_name: str, import_id: int) -> Any:
    with unit_of_work(actor) as ctx:
        obj = ctx.schema.object(object_name)
        row = _load(ctx, actor, object_name, import_id)
        return render_template("sheet_status.html", obj=obj, status=_status_view(row))


@web.get("/o/<object_name>/import/<int:import_id>/report")
@login_required
def report(actor: Actor, object_name: str, import_id: int) -> Any:
    with unit_of_work(actor) as ctx:
        row = _load(ctx, actor, object_name, import_id, with_data=True)
    name, media, content = error_report(row, i18n.language())
    return Response(content, mimetype=media, headers={
        "Content-Disposition": f'attachment; filename="{name}"'})

