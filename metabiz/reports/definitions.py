"""Report and dashboard definitions: `reports/*.json` and `dashboards/*.json` as frozen
dataclasses, their document kinds, and the cross-document checks that need no compiled schema.

Type checks (a sum of text, a bucket on a non-date, formulas) need the compiled schema and run
in `compiled.check_reports`, the metadata check registered beside these kinds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from metabiz.platform.extensions import DocumentKind
from metabiz.platform.metadata.crosscheck import DocumentChecker
from metabiz.platform.metadata.model import Label, set_unless_default

SCHEMA_DIR = Path(__file__).with_name("schemas")
#: the kind names reports and dashboards are registered under
REPORT = "report"
DASHBOARD = "dashboard"

BUCKETS = ("day", "week", "month", "quarter", "year")
FUNCTIONS = ("count", "count_distinct", "sum", "avg", "min", "max")
CHART_TYPES = ("table", "bar", "line", "pie", "funnel", "kpi")


@dataclass(frozen=True)
class GroupDef:
    """One grouping level: a field path (`stage`, `account.industry`) or a formula."""

    api_name: str
    label: Label | None = None
    field: str | None = None
    formula: str | None = None
    bucket: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.field is not None:
            out["field"] = self.field
            if self.api_name != self.field:
                out["api_name"] = self.api_name
        else:
            out["formula"] = self.formula
            out["api_name"] = self.api_name
        if self.label is not None:
            out["label"] = self.label.to_json()
        set_unless_default(out, "bucket", self.bucket)
        return out


@dataclass(frozen=True)
class MeasureDef:
    api_name: str
    function: str
    label: Label | None = None
    field: str | None = None
    formula: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"api_name": self.api_name, "function": self.function}
        if self.label is not None:
            out["label"] = self.label.to_json()
        set_unless_default(out, "field", self.field)
        set_unless_default(out, "formula", self.formula)
        return out


@dataclass(frozen=True)
class ChartDef:
    type: str = "table"
    x: str | None = None
    y: tuple[str, ...] = ()
    horizontal: bool = False

    @classmethod
    def of(cls, raw: Mapping[str, Any] | None) -> ChartDef | None:
        if raw is None:
            return None
        return cls(raw["type"], raw.get("x"), tuple(raw.get("y", ())),
                   raw.get("horizontal", False))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        set_unless_default(out, "x", self.x)
        if self.y:
            out["y"] = list(self.y)
        set_unless_default(out, "horizontal", self.horizontal, False)
        return out


@dataclass(frozen=True)
class ReportDef:
    api_name: str
    object: str
    label: Label
    measures: tuple[MeasureDef, ...]
    group_by: tuple[GroupDef, ...] = ()
    filter: str | None = None
    sort: str | None = None
    limit: int | None = None
    chart: ChartDef = field(default_factory=ChartDef)
    description: Label | None = None

    def columns(self) -> list[str]:
        return [g.api_name for g in self.group_by] + [m.api_name for m in self.measures]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"api_name": self.api_name, "label": self.label.to_json()}
        if self.description is not None:
            out["description"] = self.description.to_json()
        out["object"] = self.object
        set_unless_default(out, "filter", self.filter)
        if self.group_by:
            out["group_by"] = [g.to_json() for g in self.group_by]
        out["measures"] = [m.to_json() for m in self.measures]
        set_unless_default(out, "sort", self.sort)
        set_unless_default(out, "limit", self.limit)
        out["chart"] = self.chart.to_json()
        return out


@dataclass(frozen=True)
class ComponentDef:
    report: str
    title: Label | None = None
    chart: ChartDef | None = None
    width: int = 6

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"report": self.report}
        if self.title is not None:
            out["title"] = self.title.to_json()
        if self.chart is not None:
            out["chart"] = self.chart.to_json()
        set_unless_default(out, "width", self.width, 6)
        return out


@dataclass(frozen=True)
class DashboardDef:
    api_name: str
    label: Label
    components: tuple[ComponentDef, ...]
    roles: tuple[str, ...] = ()
    description: Label | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"api_name": self.api_name, "label": self.label.to_json()}
        if self.description is not None:
            out["description"] = self.description.to_json()
        if self.roles:
            out["roles"] = list(self.roles)
        out["components"] = [c.to_json() for c in self.components]
        return out


def _label(raw: Any) -> Label | None:
    return None if raw is None else Label.of(raw)


def build_report(d: Mapping[str, Any]) -> ReportDef:
    """The report a `reports/*.json` (already valid against report.json) describes."""
    groups = tuple(GroupDef(api_name=g.get("api_name") or g.get("field", ""),
                            label=_label(g.get("label")), field=g.get("field"),
                            formula=g.get("formula"), bucket=g.get("bucket"))
                   for g in d.get("group_by", ()))
    measures = tuple(MeasureDef(m["api_name"], m["function"], _label(m.get("label")),
                                m.get("field"), m.get("formula")) for m in d["measures"])
    return ReportDef(api_name=d["api_name"], object=d["object"],
                     label=Label.of(d.get("label"), d["api_name"]), measures=measures,
                     group_by=groups, filter=d.get("filter"), sort=d.get("sort"),
                     limit=d.get("limit"), chart=ChartDef.of(d.get("chart")) or ChartDef(),
                     description=_label(d.get("description")))


def build_dashboard(d: Mapping[str, Any]) -> DashboardDef:
    components = tuple(ComponentDef(c["report"], _label(c.get("title")),
                                    ChartDef.of(c.get("chart")), c.get("width", 6))
                       for c in d["components"])
    return DashboardDef(api_name=d["api_name"], label=Label.of(d.get("label"), d["api_name"]),
                        components=components, roles=tuple(d.get("roles", ())),
                        description=_label(d.get("description")))


def check_report(rdef: ReportDef, checker: DocumentChecker) -> None:
    """Names inside one report: its object, duplicate columns, the chart's and sort's
    columns (fields and formulas are checked against the compiled schema)."""
    checker.object(("object",), rdef.object)
    names = [(("group_by", i, "api_name" if g.formula else "field"), g.api_name)
             for i, g in enumerate(rdef.group_by)]
    names += [(("measures", i, "api_name"), m.api_name) for i, m in enumerate(rdef.measures)]
    checker.duplicates(names, "column")
    _check_chart(rdef, rdef.chart, ("chart",), checker)
    columns = rdef.columns()
    for part in (rdef.sort or "").split(","):
        name = part.strip().lstrip("-")
        if name and name not in columns:
            checker.problem(("sort",), f"unknown column {name!r}: sort by one of "
                                       + ", ".join(columns))


def _check_chart(rdef: ReportDef, chart: ChartDef, path: tuple[Any, ...],
                 checker: DocumentChecker) -> None:
    keys = [g.api_name for g in rdef.group_by]
    measures = [m.api_name for m in rdef.measures]
    if chart.x is not None and chart.x not in keys:
        checker.problem(path + ("x",), f"unknown grouping {chart.x!r}: x is one of "
                                       + (", ".join(keys) or "(the report has no group_by)"))
    for i, name in enumerate(chart.y):
        if name not in measures:
            checker.problem(path + ("y", i), f"unknown measure {name!r}: y names measures ("
                                             + ", ".join(measures) + ")")
    if chart.type not in ("table", "kpi") and not keys:
        checker.problem(path + ("type",), f"a {chart.type} chart needs a group_by; "
                                          "a report without one is a kpi or a table")


def check_dashboard(ddef: DashboardDef, checker: DocumentChecker) -> None:
    """A component's own chart fits its report (that reports and roles exist is checked on
    the compiled schema, which holds every installed app's)."""
    for i, component in enumerate(ddef.components):
        rdef = checker.definition(REPORT, component.report)
        if rdef is not None and component.chart is not None:
            _check_chart(rdef, component.chart, ("components", i, "chart"), checker)


REPORT_KIND = DocumentKind(name=REPORT, folder="reports", schema=SCHEMA_DIR / "report.json",
                           build=build_report, check=check_report, marker="measures")
DASHBOARD_KIND = DocumentKind(name=DASHBOARD, folder="dashboards",
                              schema=SCHEMA_DIR / "dashboard.json", build=build_dashboard,
                              check=check_dashboard, marker="components")
