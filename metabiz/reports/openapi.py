"""The reports' endpoints in the OpenAPI document: the report list, a report's result and its
download, the dashboards and a dashboard with each component's result.

Registered with `Extensions.add_openapi`; the report and dashboard names the caller may open
are listed as the path parameters' values.
"""

from __future__ import annotations

from typing import Any

from metabiz.objects.openapi import ok, responses
from metabiz.objects.schema import RuntimeSchema
from metabiz.platform.access import Actor
from metabiz.reports.compiled import compiled_reports
from metabiz.reports.definitions import DASHBOARD
from metabiz.reports.downloads import FORMATS
from metabiz.reports.library import may_open, may_run

ERROR_BODY = {"type": "object", "properties": {
    "code": {"type": "string"}, "message": {"type": "string"}}}
CHART = {"type": "object", "properties": {
    "type": {"enum": ["table", "bar", "line", "pie", "funnel", "kpi"]},
    "x": {"type": ["string", "null"]}, "y": {"type": "array", "items": {"type": "string"}},
    "horizontal": {"type": "boolean"}}}
RESULT = {"type": "object", "required": ["report", "columns", "rows", "totals", "groups",
                                         "truncated"], "properties": {
    "report": {"type": "string"},
    "columns": {"type": "array", "items": {"type": "string"},
                "description": "the keys' columns, then the measures'"},
    "rows": {"type": "array", "items": {"type": "array"},
             "description": "one per group: its key values (a month \"2026-11\", a week "
                            "\"2026-W48\", blank null), then its measures"},
    "totals": {"type": "object", "description": "each measure over every group"},
    "groups": {"type": "integer", "description": "how many groups matched"},
    "truncated": {"type": "boolean", "description": "whether rows stop at the limit"},
    "labels": {"type": "object", "description": "lookup and user keys' names: {column: "
                                                "{value: name}}"}}}
FILTER = {"name": "filter", "in": "query", "schema": {"type": "string"},
          "description": "a formula narrowing the run, e.g. amount > 1000 (400 with its line "
                         "and column when it does not parse or check)"}
#: the formats `downloads.download` takes: csv or xlsx in any case
FORMAT_PATTERN = "^([Cc][Ss][Vv]|[Xx][Ll][Ss][Xx])?$"
TAGS = ["reports"]


def openapi_paths(schema: RuntimeSchema, actor: Actor | None) -> dict[str, Any]:
    """The reports' and dashboards' paths, their names those `actor` may open."""
    reports = sorted(r.name for r in compiled_reports(schema).reports.values()
                     if actor is not None and may_run(schema, actor, r))
    boards = [d.api_name for d in schema.bundle.definitions(DASHBOARD)
              if actor is not None and may_open(actor, d)]
    report_name = [{"name": "name", "in": "path", "required": True,
                    "schema": _names(reports), "description": "the report's api_name"}]
    board_name = [{"name": "name", "in": "path", "required": True,
                   "schema": _names(boards), "description": "the dashboard's api_name"}]
    return {
        "/reports": {"get": {
            "summary": "The reports the current user may run", "tags": TAGS,
            "responses": responses(ok({"type": "object", "properties": {
                "reports": {"type": "array", "items": {"type": "object", "properties": {
                    "api_name": {"type": "string"}, "label": {"type": "string"},
                    "object": {"type": "string"}, "chart": CHART}}}}}), 401)}},
        "/reports/{name}": {"parameters": report_name, "get": {
            "summary": "Run a report: its groups and totals, in one query over the records "
                       "the user may read", "tags": TAGS, "parameters": [FILTER],
            "responses": responses(ok(RESULT), 400, 401, 403, 404)}},
        "/reports/{name}/export": {"parameters": report_name, "get": {
            "summary": "Download a report's rows and totals as CSV or XLSX", "tags": TAGS,
            "parameters": [FILTER, {"name": "format", "in": "query",
                                    "description": "csv (default) or xlsx",
                                    "schema": {"type": "string", "pattern": FORMAT_PATTERN}}],
            "responses": responses({"200": {"description": "the file", "content": {
                media.split(";")[0]: {"schema": {"type": "string", "format": "binary"}}
                for media in FORMATS.values()}}}, 400, 401, 403, 404)}},
        "/dashboards": {"get": {
            "summary": "The dashboards of the current user's roles", "tags": TAGS,
            "responses": responses(ok({"type": "object", "properties": {
                "dashboards": {"type": "array", "items": {"type": "object", "properties": {
                    "api_name": {"type": "string"}, "label": {"type": "string"},
                    "roles": {"type": "array", "items": {"type": "string"}}}}}}}), 401)}},
        "/dashboards/{name}": {"parameters": board_name, "get": {
            "summary": "A dashboard with each component's result (a component the user may "
                       "not see carries its error)", "tags": TAGS,
            "responses": responses(ok({"type": "object", "properties": {
                "api_name": {"type": "string"}, "label": {"type": "string"},
                "roles": {"type": "array", "items": {"type": "string"}},
                "components": {"type": "array", "items": {"type": "object", "properties": {
                    "report": {"type": "string"}, "title": {"type": "string"},
                    "width": {"type": "integer"}, "chart": CHART, "result": RESULT,
                    "error": ERROR_BODY}}}}}), 401, 404)}},
    }


def _names(names: list[str]) -> dict[str, Any]:
    """A name parameter's schema: one of `names` (any text when there are none: a 404)."""
    return {"type": "string", "enum": names} if names else {"type": "string"}

