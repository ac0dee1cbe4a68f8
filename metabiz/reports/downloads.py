"""A report result as a CSV or XLSX file: column labels in the user's language, keys as
people read them (picklist labels), numbers as numbers, and a last row of totals.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from flask import Response
from openpyxl import Workbook
from openpyxl.styles import Font

from metabiz.errors import BadRequest
from metabiz.formulas import ExactNumber
from metabiz.reports.engine import ReportResult
from metabiz.reports.presenting import TOTAL, key_text
from metabiz.reports.texts import text

FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def table(result: ReportResult, lang: str) -> tuple[list[str], list[list[Any]]]:
    """The header and the rows of a download (the totals row last, saying so when the rows
    stop at the report's limit)."""
    report = result.report
    header = [k.label(lang) for k in report.keys] + [m.label(lang) for m in report.measures]
    width = len(report.keys)
    rows = [[key_text(k, v, lang, result.labels.get(k.column))
             for k, v in zip(report.keys, raw[:width], strict=True)]
            + [_number(v) for v in raw[width:]] for raw in result.rows]
    if report.keys:
        label = TOTAL.get(lang, TOTAL["en"]) if not result.truncated else text(
            "total_of_all", lang, total=result.groups, shown=len(result.rows))
        rows.append([label] + [""] * (width - 1)
                    + [_number(result.totals.get(m.name)) for m in report.measures])
    return header, rows


def _number(value: Any) -> Any:
    if isinstance(value, ExactNumber):  # more digits than a float: all of them
        return value.exact
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


def download(result: ReportResult, fmt: str | None, lang: str) -> Response:
    fmt = (fmt or "csv").lower()
    if fmt not in FORMATS:
        raise BadRequest("format must be csv or xlsx", fields={"format": ["csv or xlsx"]})
    header, rows = table(result, lang)
    body = _csv(header, rows) if fmt == "csv" else _xlsx(header, rows, result.report.name)
    filename = f"{result.report.name}.{fmt}"
    return Response(body, mimetype=FORMATS[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _csv(header: list[str], rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # the BOM lets Excel read UTF-8


def _xlsx(header: list[str], rows: list[list[Any]], title: str) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([float(v) if isinstance(v, Decimal) else v for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
