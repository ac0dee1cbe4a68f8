"""The spreadsheets' REST API: start an import (202), read its status, download its error
report, and export records as CSV or XLSX.

Views parse the request and call the importer, the store or the exporter; errors are mapped
to responses by the kernel (platform/web/errors.py).
"""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.routing import BaseConverter

from metabiz.errors import BadRequest
from metabiz.objects.work import unit_of_work
from metabiz.platform.access import Actor
from metabiz.platform.api import API_PREFIX, require_actor
from metabiz.spreadsheets import store
from metabiz.spreadsheets.background import enqueue
from metabiz.spreadsheets.exporter import MEDIA_TYPES, ExportRequest, check_format, export
from metabiz.spreadsheets.importer import ImportOptions, check_rights, plan_columns
from metabiz.spreadsheets.report import error_report
from metabiz.spreadsheets.sheets import open_sheet

api = Blueprint("spreadsheets_api", __name__, url_prefix=API_PREFIX)


class ImportObjectConverter(BaseConverter):
    """The object of `POST /imports/<object>`: an api_name, never an import's number, so
    `POST /imports/7` is a 405 (that path is an import's) rather than an unknown object."""

    regex = "[a-z][a-z0-9_]*"

_TRUE = ("1", "true", "yes", "on")


def flag(value: str | None) -> bool:
    return (value or "").strip().lower() in _TRUE


def uploaded() -> tuple[str, bytes]:
    """The multipart `file`: its name and content; 400 when there is none."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise BadRequest("send the file as multipart form data under 'file'",
                         fields={"file": ["required"]})
    return upload.filename, upload.read()


def start_import(actor: Actor, object_name: str, filename: str, data: bytes,
                 options: dict[str, Any], status: str = "queued") -> int:
    """Check the rights, the file and its header now (a 4xx, nothing stored), then keep
    the file as an import: queued (and on the job queue), or a draft for the import page."""
    with unit_of_work(actor, write=True) as ctx:
        obj = ctx.schema.object(object_name)
        choices = ImportOptions(key=options.get("key") or None,
                                mapping=options.get("mapping"))
        check_rights(ctx, obj, choices)
        sheet = open_sheet(filename, data)
        if status == "queued":
            plan_columns(ctx, obj, sheet.header, choices)
        import_id = store.create(ctx.conn, object_name=obj.name, actor=actor.name,
                                 filename=filename, data=data, options=options, status=status)
        if status == "queued":
            enqueue(current_app.extensions["metabiz"].runtime.extensions, ctx.conn,
                    import_id)
    return import_id


@api.post("/imports/<import_object:object_name>")
def create_import(object_name: str) -> Any:
    actor = require_actor()
    filename, data = uploaded()
    form = request.form
    options = {"key": form.get("key") or None, "dry_run": flag(form.get("dry_run")),
               "skip_bad_rows": flag(form.get("skip_bad_rows"))}
    import_id = start_import(actor, object_name, filename, data, options)
    response = jsonify({"id": import_id, "status": "running"})
    response.status_code = 202
    response.headers["Location"] = f"{API_PREFIX}/imports/{import_id}"
    return response


@api.get("/imports/<int:import_id>")
def import_status(import_id: int) -> Any:
    actor = require_actor()
    with store_connection() as conn:
        return jsonify(store.status_json(store.load(conn, import_id, actor)))


@api.get("/imports/<int:import_id>/report")
def import_report(import_id: int) -> Any:
    """The uploaded file back, with an `errors` column saying what is wrong with each row."""
    actor = require_actor()
    with store_connection() as conn:
        row = store.load(conn, import_id, actor, with_data=True)
    name, media, content = error_report(row)
    return Response(content, mimetype=media, headers={
        "Content-Disposition": f'attachment; filename="{name}"'})


@api.get("/records/<object_name>/export")
def export_records(object_name: str) -> Any:
    args = request.args
    fmt = check_format(args.get("format"))
    body = io.BytesIO()
    with unit_of_work(require_actor()) as ctx:
        export(ctx, object_name, ExportRequest(
            format=fmt, filter=args.get("filter"), fields=args.get("fields"),
            view=args.get("view"), q=args.get("q"), sort=args.get("sort"),
            headers=args.get("headers", "api"), base_url=request.url_root), body)
        name = ctx.schema.object(object_name).name
    return Response(body.getvalue(), mimetype=MEDIA_TYPES[fmt], headers={
        "Content-Disposition": f'attachment; filename="{name}.{fmt}"'})


def store_connection() -> Any:
    return current_app.extensions["metabiz"].engine.connect()
