"""The report form's live preview: the report being edited, checked and run for the admin
against the applied schema without saving anything, or its problems by JSON pointer.

The same checks as applying (the report schema, the report kind's own check, the compiled
keys and measures) and the same engine as `/reports/<name>`, so what it shows is what the
saved report will show; it opens no write transaction, so typing never blocks an apply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from metabiz.builder_ui.problems import split
from metabiz.errors import MetabizError
from metabiz.objects.context import Context
from metabiz.platform.metadata.crosscheck import References
from metabiz.platform.metadata.documents import Doc
from metabiz.platform.metadata.problems import pointer
from metabiz.platform.metadata.validation import kind_validator, schema_problems
from metabiz.reports import library
from metabiz.reports.compiled import CompiledReport, app_zone, compile_report
from metabiz.reports.definitions import REPORT, REPORT_KIND, build_report, check_report
from metabiz.reports.engine import ReportResult, run

#: what a report being typed is called until it has a name of its own
UNNAMED = "unnamed_report"


@dataclass
class Preview:
    """The run's result and chart, or the problems (pointer → messages) that stop it."""

    problems: dict[str, list[str]] = field(default_factory=dict)
    report: CompiledReport | None = None
    result: ReportResult | None = None
    chart: dict[str, Any] | None = None


def _problem(found: Preview, at: str, message: str) -> None:
    found.problems.setdefault(at, []).append(message)


def preview(ctx: Context, document: dict[str, Any]) -> Preview:
    """Check the report document as applying would, then run it as the signed-in admin."""
    content = {**document, "api_name": document.get("api_name") or UNNAMED}
    found = Preview()
    for path, message in schema_problems(kind_validator(REPORT_KIND.schema), content):
        _problem(found, pointer(path), message)
    if found.problems:
        return found
    rel = f"reports/{content['api_name']}.json"
    doc = Doc(rel, rel, REPORT, content, valid=True)
    known = {name: obj.odef for name, obj in ctx.schema.objects.items()}
    rdef = build_report(content)
    check_report(rdef, References([doc], {"object": {}, REPORT: {}}, known,
                                  in_folder=False).checker(doc))
    for problem in doc.problems:
        _problem(found, pointer(problem.path), problem.message)
    lines: list[str] = []
    compiled = compile_report(rdef, ctx.schema, app_zone(ctx.schema), lines)
    for line in lines:
        _, at, message = split(line)
        if message not in found.problems.get(at, []):
            _problem(found, at, message)
    if found.problems or compiled is None:
        return found
    try:
        found.result = run(ctx, compiled)
    except MetabizError as err:
        _problem(found, "/", err.message)
        return found
    found.report, found.chart = compiled, library.chart_of(compiled)
    return found
