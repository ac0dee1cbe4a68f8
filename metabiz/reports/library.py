"""The reports and dashboards a user may open, and their results: what the API and pages call.

A report is runnable by whoever may read its object; a dashboard is for the users holding one
of its roles (every user when it names none); a user's home dashboard is the first of those
naming one of their roles. A component that fails for the user (a field hidden from them)
carries its error, and the rest of the dashboard still shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from metabiz.errors import MetabizError, NotFound
from metabiz.objects.context import Context
from metabiz.objects.schema import RuntimeSchema
from metabiz.platform.access import Actor
from metabiz.reports.compiled import CompiledReport, compiled_reports
from metabiz.reports.definitions import DASHBOARD, REPORT, ChartDef, ComponentDef, DashboardDef
from metabiz.reports.engine import ReportResult, run


def reports_for(ctx: Context) -> list[CompiledReport]:
    """The reports the actor may run, in label order."""
    found = [r for r in compiled_reports(ctx.schema).reports.values()
             if may_run(ctx.schema, ctx.actor, r)]
    return sorted(found, key=lambda r: r.rdef.label.get(ctx.language).lower())


def may_run(schema: RuntimeSchema, actor: Actor, compiled: CompiledReport) -> bool:
    """Whether `actor` may run the report: they may read its object."""
    return compiled.object in schema.objects and schema.access.allowed(
        actor, compiled.object, "read")


def report(ctx: Context, name: str) -> CompiledReport:
    """One report by name: 404 when unknown or when the actor may not read its object."""
    found = compiled_reports(ctx.schema).report(name)
    if not may_run(ctx.schema, ctx.actor, found):
        raise NotFound(f"unknown report {name!r}")
    return found


def result(ctx: Context, name: str, *, filter: str | None = None) -> ReportResult:
    return run(ctx, report(ctx, name), filter=filter)


def chart_of(compiled: CompiledReport, chart: ChartDef | None = None) -> dict[str, Any]:
    """The chart to draw, its x and y spelt out (x: the first key; y: every measure)."""
    chosen = chart or compiled.rdef.chart
    keys = [k.column for k in compiled.keys]
    measures = [m.name for m in compiled.measures]
    return {"type": chosen.type, "x": chosen.x or (keys[0] if keys else None),
            "y": list(chosen.y) or (measures[:1] if chosen.type in ("pie", "funnel", "kpi")
                                    else measures),
            "horizontal": chosen.horizontal}


def dashboards_for(ctx: Context) -> list[DashboardDef]:
    """The dashboards the actor may open, in metadata order."""
    return [d for d in ctx.schema.bundle.definitions(DASHBOARD) if may_open(ctx.actor, d)]


def may_open(actor: Actor, ddef: DashboardDef) -> bool:
    """Whether `actor` may open the dashboard: it names one of their roles, or none."""
    return actor.is_admin or not ddef.roles or bool(set(ddef.roles) & actor.roles)


def dashboard(ctx: Context, name: str) -> DashboardDef:
    found = ctx.schema.bundle.definition(DASHBOARD, name)
    if found is None or not may_open(ctx.actor, found):
        raise NotFound(f"unknown dashboard {name!r}")
    return found


def home_dashboard(ctx: Context) -> DashboardDef | None:
    """The first dashboard naming one of the actor's roles (admins: one naming `admin`, else
    the first with any role)."""
    boards = ctx.schema.bundle.definitions(DASHBOARD)
    for ddef in boards:
        if set(ddef.roles) & ctx.actor.roles:
            return ddef
    if ctx.actor.is_admin:
        return next((d for d in boards if d.roles), None)
    return None


@dataclass
class ComponentResult:
    component: ComponentDef
    report: CompiledReport | None
    result: ReportResult | None
    error: MetabizError | None

    def title(self, lang: str) -> str:
        if self.component.title is not None:
            return self.component.title.get(lang)
        if self.report is not None:
            return self.report.rdef.label.get(lang)
        return self.component.report

    def to_json(self, lang: str) -> dict[str, Any]:
        out: dict[str, Any] = {"report": self.component.report, "title": self.title(lang),
                               "width": self.component.width}
        if self.report is not None:
            out["chart"] = chart_of(self.report, self.component.chart)
        if self.result is not None:
            out["result"] = self.result.to_json()
        if self.error is not None:
            out["error"] = self.error.to_dict()["error"]
        return out


def components(ctx: Context, ddef: DashboardDef) -> list[ComponentResult]:
    """Each component's result, or the error it gives this user (one query per component)."""
    out = []
    for component in ddef.components:
        try:
            compiled = report(ctx, component.report)
        except MetabizError as err:
            out.append(ComponentResult(component, None, None, err))
            continue
        try:
            out.append(ComponentResult(component, compiled, run(ctx, compiled), None))
        except MetabizError as err:
            out.append(ComponentResult(component, compiled, None, err))
    return out


__all__ = ["REPORT", "ComponentResult", "chart_of", "components", "dashboard",
           "dashboards_for", "home_dashboard", "may_open", "may_run", "report", "reports_for",
           "result"]
