"""The builder's report and dashboard pages: a report as a form (object, groupings with date
buckets, measures, filter, sort, limit, chart) with a live preview of its result, and a
dashboard as a grid of report components for some roles; saved through the plan page.

Both are documents of the reports package (`reports/*.json`, `dashboards/*.json`); without
that package installed these pages are 404.
"""

from __future__ import annotations

import copy
import secrets
from typing import Any

from flask import render_template, request, url_for

from metabiz.builder_ui import documents
from metabiz.builder_ui.field_form import label_parts
from metabiz.builder_ui.object_pages import field_choices
from metabiz.builder_ui.problems import ConversionRefused, InvalidDocument, messages_under
from metabiz.builder_ui.report_form import (
    BUCKETS,
    CHART_TYPES,
    MEASURE_FUNCTIONS,
    WIDTHS,
    dashboard_from_form,
    dashboard_view,
    report_from_form,
    report_view,
)
from metabiz.builder_ui.report_preview import preview
from metabiz.builder_ui.texts import b
from metabiz.builder_ui.web import (
    admin_page,
    base_version,
    extensions,
    objects_of,
    review,
    stored,
    web,
)
from metabiz.errors import ConflictError, NotFound
from metabiz.formulas import FUNCTIONS
from metabiz.objects.work import unit_of_work
from metabiz.platform.access import Actor
from metabiz.platform.request_input import whole_number
from metabiz.platform.web import i18n
from metabiz.reports.pages import records_href
from metabiz.reports.presenting import present
from metabiz.reports.texts import text as report_text

#: system fields a report may group by beside the object's own
SYSTEM_KEYS = ("owner", "created_by", "created_at", "updated_at")


def _stored(kind: str, name: str | None) -> tuple[dict[str, Any] | None, int, dict[str, Any]]:
    """(a copy of the named document or None for a new one, metadata version, every document)."""
    documents.check_kind(extensions(), kind)
    current, version = stored()
    if name is None:
        return None, version, current
    key = documents.holder(current, f"{kind}/{name}.json")
    if key is None or not isinstance(current[key], dict):
        raise NotFound(f"no {kind[:-1]} named {name!r}")
    return copy.deepcopy(current[key]), version, current


def _names(current: dict[str, Any], folder: str) -> list[tuple[str, Any]]:
    """(api_name, label) of every stored document in `folder`, by name."""
    found = [(doc.get("api_name"), doc.get("label")) for key, doc in current.items()
             if key.partition("/")[2].startswith(folder + "/") and isinstance(doc, dict)]
    return sorted((str(n), label) for n, label in found if n)


def _save(actor: Actor, kind: str, name: str | None, new: dict[str, Any],
          page: str) -> tuple[Any, dict[str, list[str]], list[str]]:
    """The plan page for the document, or its problems (by pointer, and general ones)."""
    target = new["api_name"] or (name or "")
    if name is None and target and documents.holder(stored()[0], f"{kind}/{target}.json"):
        return None, {"/api_name": [b("name_taken", name=target)]}, []
    try:
        return review(actor, "put", kind=kind, name=target, document=new,
                      base_version=base_version(), done=url_for(page, name=target),
                      back=request.url, title=label_parts(new.get("label"))[0] or target), {}, []
    except (InvalidDocument, ConversionRefused) as err:
        fields = {k: v for k, v in err.fields.items() if k != "/"}
        return None, fields, err.fields.get("/", [])
    except ConflictError:
        return None, {}, [b("conflict")]


# -- reports -------------------------------------------------------------------------------


def _report_page(actor: Actor, name: str | None) -> Any:
    found, version, current = _stored("reports", name)
    doc = found or {"api_name": "", "object": "", "measures": []}
    if request.args.get("object"):  # the object picked in the form (it reloads with it)
        doc["object"] = request.args["object"]
    fields: dict[str, list[str]] = {}
    general: list[str] = []
    if request.method == "POST":
        new = report_from_form(request.form)
        if name is not None:
            new["api_name"] = name  # a report keeps its name (dashboards point to it)
        plan, fields, general = _save(actor, "reports", name, new, "builder_web.report_page")
        if plan is not None:
            return plan
        doc = new
    objects = objects_of(current)
    obj = objects.get(doc.get("object") or "")
    choices = field_choices(obj[1], current) if obj else []
    keys = choices + [{"path": k, "label": i18n.TEXTS[f"sys_{k}"], "type": "system"}
                      for k in SYSTEM_KEYS]
    return render_template(
        "builder/report.html", doc=doc, name=name, version=version, view=report_view(doc),
        object_names=list(objects), objects_docs=objects, field_choices=choices,
        key_choices=keys, functions=sorted(FUNCTIONS), buckets=BUCKETS,
        measure_functions=MEASURE_FUNCTIONS, chart_types=CHART_TYPES,
        under=messages_under(fields), general=general), 422 if fields or general else 200


@web.route("/reports/new", methods=["GET", "POST"])
@admin_page
def new_report(actor: Actor) -> Any:
    return _report_page(actor, None)


@web.route("/reports/<name>", methods=["GET", "POST"])
@admin_page
def report_page(actor: Actor, name: str) -> Any:
    return _report_page(actor, name)


@web.post("/reports/<name>/delete")
@admin_page
def delete_report(actor: Actor, name: str) -> Any:
    _stored("reports", name)
    return review(actor, "delete", kind="reports", name=name, base_version=base_version(),
                  done=url_for("builder_web.overview"),
                  back=url_for("builder_web.report_page", name=name), title=b("delete"))


@web.post("/report-preview")
@admin_page
def preview_report(actor: Actor) -> Any:
    """The htmx fragment under the report form: the chart and table the report would show,
    or what stops it, by the part of the form it belongs to."""
    documents.check_kind(extensions(), "reports")
    doc = report_from_form(request.form)
    lang = i18n.language()
    with unit_of_work(actor) as ctx:
        if doc["object"] not in ctx.schema.objects:
            return render_template("builder/report_preview.html", problems=[
                (b("report_object"), [b("choose_object")])], shown=None)
        found = preview(ctx, doc)
        if found.problems or found.result is None or found.chart is None:
            return render_template("builder/report_preview.html", shown=None, problems=[
                (_where(at), messages) for at, messages in found.problems.items()])
        shown = present(found.result, found.chart, lang)
        hrefs = [records_href(doc["object"], f) for f in shown.filters]
        shown.chart["hrefs"] = hrefs
        # a new id each time: htmx would carry the old chart's (ECharts') style attribute over
        # to an element of the same id, which the Content-Security-Policy refuses
        return render_template("builder/report_preview.html", shown=shown, hrefs=hrefs,
                               result=found.result, kind=found.chart["type"], problems=[],
                               rt=report_text, chart_id=f"preview-{secrets.token_hex(4)}")


def _where(at: str) -> str:
    """Where in the form a JSON pointer of a report points: "Grouping 1", "Measure 2"…"""
    parts = at.strip("/").split("/")
    head = parts[0]
    if head in ("group_by", "measures") and len(parts) > 1 and whole_number(parts[1]) is not None:
        what = b("group_n" if head == "group_by" else "measure_n", n=int(parts[1]) + 1)
        return " · ".join([what, *parts[2:]])
    return {"": b("report"), "filter": b("report_filter"), "sort": b("view_sort"),
            "limit": b("report_limit"), "chart": b("chart"), "object": b("report_object"),
            "api_name": b("api_name"), "label": b("label")}.get(head, at)


# -- dashboards ----------------------------------------------------------------------------


def _dashboard_page(actor: Actor, name: str | None) -> Any:
    found, version, current = _stored("dashboards", name)
    doc = found or {"api_name": "", "components": []}
    fields: dict[str, list[str]] = {}
    general: list[str] = []
    if request.method == "POST":
        new = dashboard_from_form(request.form, found)
        if name is not None:
            new["api_name"] = name
        plan, fields, general = _save(actor, "dashboards", name, new,
                                      "builder_web.dashboard_page")
        if plan is not None:
            return plan
        doc = new
    reports = _names(current, "reports")
    roles = [("admin", {"en": "Administrator", "zh": "管理员"}), *_names(current, "roles")]
    return render_template(
        "builder/dashboard.html", doc=doc, name=name, version=version, view=dashboard_view(doc),
        reports=reports, report_labels=dict(reports), roles=roles, widths=WIDTHS,
        chart_types=CHART_TYPES, under=messages_under(fields), general=general), \
        422 if fields or general else 200


@web.route("/dashboards/new", methods=["GET", "POST"])
@admin_page
def new_dashboard(actor: Actor) -> Any:
    return _dashboard_page(actor, None)


@web.route("/dashboards/<name>", methods=["GET", "POST"])
@admin_page
def dashboard_page(actor: Actor, name: str) -> Any:
    return _dashboard_page(actor, name)


@web.post("/dashboards/<name>/delete")
@admin_page
def delete_dashboard(actor: Actor, name: str) -> Any:
    _stored("dashboards", name)
    return review(actor, "delete", kind="dashboards", name=name, base_version=base_version(),
                  done=url_for("builder_web.overview"),
                  back=url_for("builder_web.dashboard_page", name=name), title=b("delete"))
