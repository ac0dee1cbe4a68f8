"""The spreadsheets' endpoints in the OpenAPI document: start an import, its status and error
report, and the records' CSV/XLSX export.

Registered with `Extensions.add_openapi`; the import and export paths are listed for the
objects the caller may read.
"""

from __future__ import annotations

from typing import Any

from metabiz.objects.openapi import ok, responses
from metabiz.objects.schema import RuntimeSchema
from metabiz.platform.access import Actor
from metabiz.spreadsheets.exporter import MEDIA_TYPES

#: a downloaded sheet, in either format
SHEET = {"description": "the file", "content": {
    media.split(";")[0]: {"schema": {"type": "string", "format": "binary"}}
    for media in MEDIA_TYPES.values()}}
STATUS = {"type": "object", "properties": {
    "id": {"type": "integer"}, "object": {"type": "string"},
    "status": {"enum": ["running", "done", "failed"]},
    "total": {"type": ["integer", "null"]}, "processed": {"type": ["integer", "null"]},
    "created": {"type": ["integer", "null"]}, "updated": {"type": ["integer", "null"]},
    "errors": {"type": "array", "items": {"type": "object"}}}}
#: the formats `exporter.check_format` takes: csv or xlsx in any case, after any dots
FORMAT_PATTERN = "^\\.*([Cc][Ss][Vv]|[Xx][Ll][Ss][Xx])?$"
IMPORT_ID = [{"name": "import", "in": "path", "required": True, "schema": {"type": "integer"}}]


def openapi_paths(schema: RuntimeSchema, actor: Actor | None) -> dict[str, Any]:
    """The spreadsheets' paths; import and export for the objects `actor` may read."""
    paths: dict[str, Any] = {
        "/imports/{import}": {"parameters": IMPORT_ID, "get": {
            "summary": "An import's progress and the problems of its rows (405: the path "
                       "names an object, whose imports are started with POST)",
            "tags": ["imports"], "responses": responses(ok(STATUS), 401, 404, 405)}},
        "/imports/{import}/report": {"parameters": IMPORT_ID, "get": {
            "summary": "The imported file back, with an errors column saying what is wrong "
                       "with each row", "tags": ["imports"],
            "responses": responses({"200": SHEET}, 401, 404)}},
    }
    if actor is None:
        return paths
    for obj in schema.objects.values():
        if not schema.access.allowed(actor, obj.name, "read"):
            continue
        paths[f"/imports/{obj.name}"] = {"post": {
            "summary": f"Import {obj.odef.label.get('en')} records from a CSV or XLSX file "
                       "(needs the import right); runs in the background",
            "tags": [obj.name],
            "requestBody": {"required": True, "content": {"multipart/form-data": {
                "schema": {"type": "object", "required": ["file"], "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "key": {"type": "string", "description": "a field: rows whose value "
                            "matches a record update it"},
                    "dry_run": {"enum": ["true", "false"]},
                    "skip_bad_rows": {"enum": ["true", "false"]}}}}}},
            "responses": responses(ok(STATUS, "202", "Accepted"), 400, 401, 403, 404, 413,
                                   422)}}
        paths[f"/records/{obj.name}/export"] = {"get": {
            "summary": f"Export the {obj.odef.label.get('en')} records the user may read "
                       "(needs the export right)", "tags": [obj.name],
            "parameters": [
                {"name": "format", "in": "query", "description": "csv (default) or xlsx",
                 "schema": {"type": "string", "pattern": FORMAT_PATTERN}},
                {"name": "filter", "in": "query", "schema": {"type": "string"},
                 "description": "a formula, e.g. amount > 1000"},
                {"name": "fields", "in": "query", "schema": {"type": "string"},
                 "description": "the columns: name,amount"},
                {"name": "sort", "in": "query", "schema": {"type": "string"}},
                {"name": "q", "in": "query", "schema": {"type": "string"}},
                {"name": "view", "in": "query", "schema": {"type": "string"},
                 "description": "a list view's api_name"},
                {"name": "headers", "in": "query", "schema": {"enum": ["api", "labels"]}}],
            "responses": responses({"200": SHEET}, 400, 401, 403, 404)}}
    return paths
