"""The reports' pages: the list of reports and dashboards, a report (chart, table, filter,
CSV/XLSX download), a dashboard, and what reports add to the shell (the "Reports" navigation
and the home page's dashboard).

Charts are drawn in the browser by static/reports.js with the vendored ECharts, from the JSON
each page carries; every row and bar links to the list of its records.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, render_template, request, url_for

from metabiz.errors import BadRequest, MetabizError, PermissionDenied
from metabiz.objects.context import Context
from metabiz.objects.web.navigation import kept_nav_links
from metabiz.objects.work import unit_of_work
from metabiz.platform.access import Actor
from metabiz.platform.extensions import NavLink
from metabiz.platform.web import i18n
from metabiz.platform.web.session import login_required
from metabiz.reports import library
from metabiz.reports.compiled import CompiledReport
from metabiz.reports.downloads import download
from metabiz.reports.engine import ReportResult
from metabiz.reports.presenting import Presented, present
from metabiz.reports.texts import text

web = Blueprint("reports_web", __name__, template_folder="templates", static_folder="static",
                static_url_path="/static/reports")


def records_href(object_name: str, filter: str | None) -> str | None:
    """The list page of the records a row or bar stands for."""
    if filter is None:
        return None
    return url_for("objects_web.list_page", object_name=object_name) + "?" + urlencode(
        {"filter": filter})


def _view(result: ReportResult, chart: dict[str, Any], lang: str) -> dict[str, Any]:
    shown: Presented = present(result, chart, lang)
    obj = result.report.object
    shown.chart["hrefs"] = [records_href(obj, f) for f in shown.filters]
    return {"shown": shown, "hrefs": shown.chart["hrefs"], "result": result}


def _object_label(ctx: Context, report: CompiledReport) -> str:
    obj = ctx.schema.objects.get(report.object)
    return obj.odef.label.get(ctx.language) if obj is not None else report.object


# -- pages -------------------------------------------------------------------------------


@web.get("/reports")
@login_required
def index(actor: Actor) -> Any:
    lang = i18n.language()
    with unit_of_work(actor) as ctx:
        reports = [{"name": r.name, "label": r.rdef.label.get(lang),
                    "object": _object_label(ctx, r), "chart": r.rdef.chart.type,
                    "description": r.rdef.description.get(lang) if r.rdef.description else ""}
                   for r in library.reports_for(ctx)]
        boards = [{"name": d.api_name, "label": d.label.get(lang),
                   "count": len(d.components)} for d in library.dashboards_for(ctx)]
    return render_template("reports_index.html", reports=reports, dashboards=boards, rt=text)


@web.get("/reports/<name>")
@login_required
def report_page(actor: Actor, name: str) -> Any:
    lang = i18n.language()
    run_filter = (request.args.get("filter") or "").strip() or None
    error: MetabizError | None = None
    status = 200
    with unit_of_work(actor) as ctx:
        compiled = library.report(ctx, name)
        chart = library.chart_of(compiled)
        try:
            result = library.result(ctx, name, filter=run_filter)
        except (BadRequest, PermissionDenied) as err:
            if run_filter is None:
                raise
            # the filter box: say what is wrong with it (where it does not parse, a field
            # hidden from the user) under it, and show the report unfiltered
            error, status = err, err.status
            result = library.result(ctx, name)
        view = _view(result, chart, lang)
        args: dict[str, Any] = {"filter": run_filter} if run_filter else {}
        page = render_template(
            "reports_report.html", report=compiled, label=compiled.rdef.label.get(lang),
            description=compiled.rdef.description.get(lang) if compiled.rdef.description
            else "", object_label=_object_label(ctx, compiled), chart=chart,
            run_filter=run_filter or "", error=error, rt=text,
            csv_href=url_for("reports_web.export", name=name, format="csv", **args),
            xlsx_href=url_for("reports_web.export", name=name, format="xlsx", **args),
            **view)
    return page, status


@web.get("/reports/<name>/export")
@login_required
def export(actor: Actor, name: str) -> Any:
    with unit_of_work(actor) as ctx:
        result = library.result(ctx, name, filter=request.args.get("filter"))
        return download(result, request.args.get("format"), ctx.language)


@web.get("/dashboards/<name>")
@login_required
def dashboard_page(actor: Actor, name: str) -> Any:
    lang = i18n.language()
    with unit_of_work(actor) as ctx:
        board = library.dashboard(ctx, name)
        cards = _cards(ctx, library.components(ctx, board), lang)
        return render_template("reports_dashboard.html", board=board,
                               label=board.label.get(lang), cards=cards, rt=text,
                               description=board.description.get(lang)
                               if board.description else "")


def _cards(ctx: Context, parts: list[library.ComponentResult], lang: str) -> list[dict[str, Any]]:
    cards = []
    for i, part in enumerate(parts):
        card: dict[str, Any] = {"id": f"c{i}", "title": part.title(lang),
                                "width": part.component.width,
                                "href": url_for("reports_web.report_page",
                                                name=part.component.report)
                                if part.report is not None else None}
        if part.result is not None and part.report is not None:
            card.update(_view(part.result, library.chart_of(part.report, part.component.chart),
                              lang))
        elif part.error is not None:
            card["error"] = i18n.message(part.error.message, lang)
        cards.append(card)
    return cards


# -- what reports add to the shell -------------------------------------------------------


def nav_links(actor: Actor) -> list[NavLink]:
    """"Reports" and each dashboard of the user's roles (none when there is nothing to run)."""
    lang = i18n.language()
    return kept_nav_links(actor, "reports", lambda ctx: _nav_links(ctx, actor, lang))


def _nav_links(ctx: Context, actor: Actor, lang: str) -> list[NavLink]:
    if not library.reports_for(ctx):
        return []
    links = [NavLink(href=url_for("reports_web.dashboard_page", name=d.api_name),
                     label=d.label.get(lang), icon="chart")
             for d in library.dashboards_for(ctx) if not d.roles or
             set(d.roles) & actor.roles]
    return [NavLink(href=url_for("reports_web.index"), label=text("all_reports"),
                    icon="chart"), *links]


def home_panel(actor: Actor) -> str | None:
    """The first dashboard of the user's roles, at the top of home."""
    lang = i18n.language()
    with unit_of_work(actor) as ctx:
        board = library.home_dashboard(ctx)
        if board is None:
            return None
        cards = _cards(ctx, library.components(ctx, board), lang)
        return render_template("reports_home.html", board=board, label=board.label.get(lang),
                               cards=cards, rt=text)
