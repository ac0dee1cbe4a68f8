"""The reports' REST endpoints: the reports a user may run and their results, CSV/XLSX
downloads, and dashboards with each component's result.

Thin views: parse the request, open a unit of work, call reports.library, serialise.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from metabiz.objects.work import unit_of_work
from metabiz.platform.api import API_PREFIX, require_actor
from metabiz.reports import library
from metabiz.reports.downloads import download

api = Blueprint("reports_api", __name__, url_prefix=API_PREFIX)


@api.get("/reports")
def list_reports() -> Any:
    with unit_of_work(require_actor()) as ctx:
        lang = ctx.language
        return jsonify({"reports": [
            {"api_name": r.name, "label": r.rdef.label.get(lang), "object": r.object,
             "chart": library.chart_of(r)} for r in library.reports_for(ctx)]})


@api.get("/reports/<name>")
def run_report(name: str) -> Any:
    with unit_of_work(require_actor()) as ctx:
        result = library.result(ctx, name, filter=request.args.get("filter"))
        return jsonify(result.to_json())


@api.get("/reports/<name>/export")
def export_report(name: str) -> Any:
    """`?format=csv|xlsx&filter=`: the report as a file, labels in the user's language."""
    with unit_of_work(require_actor()) as ctx:
        result = library.result(ctx, name, filter=request.args.get("filter"))
        return download(result, request.args.get("format"), ctx.language)


@api.get("/dashboards")
def list_dashboards() -> Any:
    with unit_of_work(require_actor()) as ctx:
        lang = ctx.language
        return jsonify({"dashboards": [
            {"api_name": d.api_name, "label": d.label.get(lang), "roles": list(d.roles)}
            for d in library.dashboards_for(ctx)]})


@api.get("/dashboards/<name>")
def get_dashboard(name: str) -> Any:
    with unit_of_work(require_actor()) as ctx:
        board = library.dashboard(ctx, name)
        lang = ctx.language
        return jsonify({"api_name": board.api_name, "label": board.label.get(lang),
                        "roles": list(board.roles),
                        "components": [c.to_json(lang)
                                       for c in library.components(ctx, board)]})
