"""Reports and dashboards ↔ the builder's forms: a report's object, groupings (fields or
formulas, date buckets), measures, filter, sort, limit and chart; a dashboard's roles and its
grid of report components.

Pure functions over posted form data (a `MultiDict`) and documents; no database, no Flask.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from werkzeug.datastructures import MultiDict

from metabiz.builder_ui.field_form import label_from, label_parts
from metabiz.platform.request_input import whole_number

#: grouping levels a report may have (the contract's "at most two")
GROUP_LEVELS = 2
BUCKETS = ("day", "week", "month", "quarter", "year")
MEASURE_FUNCTIONS = ("count", "count_distinct", "sum", "avg", "min", "max")
CHART_TYPES = ("table", "bar", "line", "pie", "funnel", "kpi")
WIDTHS = (3, 4, 6, 8, 12)
#: blank rows offered beside the existing ones
SPARE_MEASURES = 2
SPARE_COMPONENTS = 2


def _text(form: Mapping[str, Any], key: str) -> str:
    return (form.get(key) or "").strip()


def _with_label(item: dict[str, Any], label: Any) -> dict[str, Any]:
    if label is not None:
        item["label"] = label
    return item


def _document_head(form: MultiDict[str, str]) -> dict[str, Any]:
    """What a report's and a dashboard's form start with: name, label and description."""
    doc: dict[str, Any] = {"api_name": _text(form, "api_name")}
    _with_label(doc, label_from(form, "label"))
    description = label_from(form, "description")
    if description is not None:
        doc["description"] = description
    return doc


def _group(form: MultiDict[str, str], i: int) -> dict[str, Any] | None:
    """Grouping level i: a formula (with its column name) when one is typed, else a field."""
    formula, field = _text(form, f"group{i}_formula"), _text(form, f"group{i}_field")
    if formula:
        group: dict[str, Any] = {"formula": formula, "api_name": _text(form, f"group{i}_api_name")}
    elif field:
        group = {"field": field}
    else:
        return None
    bucket = _text(form, f"group{i}_bucket")
    if bucket:
        group["bucket"] = bucket
    return _with_label(group, label_from(form, f"group{i}_label"))


def _measures(form: MultiDict[str, str]) -> list[dict[str, Any]]:
    """The measure rows in the order posted; a count reads no field (its source is dropped)."""
    rows = zip(form.getlist("measure_api_name"), form.getlist("measure_function"),
               form.getlist("measure_field"), form.getlist("measure_formula"),
               form.getlist("measure_label_en"), form.getlist("measure_label_zh"), strict=False)
    out = []
    for name, function, field, formula, en, zh in rows:
        name, field, formula = name.strip(), field.strip(), formula.strip()
        if not (name or field or formula):
            continue
        measure: dict[str, Any] = {"api_name": name, "function": function or "count"}
        if measure["function"] != "count":
            if formula:
                measure["formula"] = formula
            elif field:
                measure["field"] = field
        out.append(_with_label(measure, label_from({"l_en": en, "l_zh": zh}, "l")))
    return out


def report_from_form(form: MultiDict[str, str]) -> dict[str, Any]:
    """The report document the form describes (problems are left to the schema and checks)."""
    doc = _document_head(form)
    doc["object"] = _text(form, "object")
    condition = _text(form, "filter")
    if condition:
        doc["filter"] = condition
    groups = [g for g in (_group(form, i) for i in range(GROUP_LEVELS)) if g is not None]
    if groups:
        doc["group_by"] = groups
    doc["measures"] = _measures(form)
    sort = _text(form, "sort").replace(" ", "")
    if sort:
        doc["sort"] = sort
    limit = _text(form, "limit")
    if limit:
        number = whole_number(limit)
        doc["limit"] = limit if number is None else number  # text: the schema names it
    chart: dict[str, Any] = {"type": _text(form, "chart_type") or "table"}
    if _text(form, "chart_x"):
        chart["x"] = _text(form, "chart_x")
    y = [name for name in form.getlist("chart_y") if name.strip()]
    if y:
        chart["y"] = y
    if form.get("chart_horizontal"):
        chart["horizontal"] = True
    doc["chart"] = chart
    return doc


def report_view(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A report document as the form's inputs (two grouping levels, spare measure rows)."""
    groups = []
    stored = [g for g in doc.get("group_by") or [] if isinstance(g, dict)]
    for i in range(GROUP_LEVELS):
        g = stored[i] if i < len(stored) else {}
        groups.append({"field": g.get("field", ""), "formula": g.get("formula", ""),
                       "api_name": g.get("api_name", "") if g.get("formula") else "",
                       "bucket": g.get("bucket", ""), "label": label_parts(g.get("label"))})
    measures = [{"api_name": m.get("api_name", ""), "function": m.get("function", "count"),
                 "field": m.get("field", ""), "formula": m.get("formula", ""),
                 "label": label_parts(m.get("label"))}
                for m in doc.get("measures") or [] if isinstance(m, dict)]
    if not measures:
        measures.append({"api_name": "records", "function": "count", "field": "",
                         "formula": "", "label": ("Records", "记录数")})
    measures += [{"api_name": "", "function": "sum", "field": "", "formula": "",
                  "label": ("", "")} for _ in range(SPARE_MEASURES)]
    raw_chart = doc.get("chart")
    chart: Mapping[str, Any] = raw_chart if isinstance(raw_chart, dict) else {}
    return {"groups": groups, "measures": measures,
            "label": label_parts(doc.get("label")),
            "description": label_parts(doc.get("description")),
            "chart": {"type": chart.get("type", "table"), "x": chart.get("x", ""),
                      "y": list(chart.get("y") or []),
                      "horizontal": bool(chart.get("horizontal"))},
            "columns": [g.get("api_name") or g.get("field") for g in stored],
            "measure_names": [m["api_name"] for m in measures if m["api_name"]]}


def dashboard_from_form(form: MultiDict[str, str],
                        original: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The dashboard document: its roles (in the order it had them, new ones after) and the
    component rows in the order posted (the order the admin dragged them into)."""
    doc = _document_head(form)
    before = list((original or {}).get("roles") or [])
    roles = sorted((r for r in form.getlist("roles") if r),
                   key=lambda r: before.index(r) if r in before else len(before))
    if roles:
        doc["roles"] = roles
    components = []
    rows = zip(form.getlist("component_report"), form.getlist("component_title_en"),
               form.getlist("component_title_zh"), form.getlist("component_width"),
               form.getlist("component_chart"), form.getlist("component_chart_kept"),
               strict=False)
    for report, en, zh, width, chart, kept in rows:
        if not report.strip():
            continue
        component: dict[str, Any] = {"report": report.strip()}
        title = label_from({"t_en": en, "t_zh": zh}, "t")
        if title is not None:
            component["title"] = title
        number = whole_number(width.strip())
        if width.strip():
            component["width"] = width.strip() if number is None else number
        if chart:
            component["chart"] = _kept_chart(kept, chart)
        components.append(component)
    doc["components"] = components
    return doc


def _kept_chart(kept: str, chart_type: str) -> dict[str, Any]:
    """A component's chart: the one it had (its x and y kept) while its type is unchanged."""
    try:
        before = json.loads(kept) if kept else None
    except ValueError:
        before = None
    if isinstance(before, dict) and before.get("type") == chart_type:
        return before
    return {"type": chart_type}


def dashboard_view(doc: Mapping[str, Any]) -> dict[str, Any]:
    components = []
    for c in doc.get("components") or []:
        if isinstance(c, dict):
            chart = c.get("chart") if isinstance(c.get("chart"), dict) else None
            components.append({"report": c.get("report", ""),
                               "title": label_parts(c.get("title")),
                               "width": c.get("width", 6),
                               "chart": chart.get("type", "") if chart else "",
                               "kept": json.dumps(chart) if chart else ""})
    components += [{"report": "", "title": ("", ""), "width": 6, "chart": "", "kept": ""}
                   for _ in range(SPARE_COMPONENTS)]
    return {"components": components, "roles": list(doc.get("roles") or []),
            "label": label_parts(doc.get("label")),
            "description": label_parts(doc.get("description"))}
