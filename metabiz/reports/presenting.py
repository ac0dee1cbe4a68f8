"""A report result as people read it: column labels, picklist labels, formatted numbers, and
for each row the filter formula that opens its records (the drill-down of charts and tables).

Pages, downloads and the chart data attribute all come from `present`.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from metabiz.formulas import FType
from metabiz.reports.buckets import bounds, utc_start
from metabiz.reports.compiled import CompiledKey, CompiledMeasure, CompiledReport, field_scale
from metabiz.reports.engine import ReportResult

BLANK = {"en": "(blank)", "zh": "（空）"}
YES_NO = {"en": ("Yes", "No"), "zh": ("是", "否")}
TOTAL = {"en": "Total", "zh": "合计"}


@dataclass
class Presented:
    """What a page draws: headers, rows of (display text, value), each row's record filter,
    the totals, and the chart's data."""

    headers: list[str]
    kinds: list[str]  # "key" or "measure", per column
    rows: list[list[tuple[str, Any]]]
    filters: list[str | None]
    totals: list[str]
    chart: dict[str, Any]

    def chart_json(self) -> str:
        return json.dumps(self.chart, ensure_ascii=False)


def present(result: ReportResult, chart: dict[str, Any], lang: str) -> Presented:
    report = result.report
    keys, measures = report.keys, report.measures
    headers = [k.label(lang) for k in keys] + [m.label(lang) for m in measures]
    kinds = ["key"] * len(keys) + ["measure"] * len(measures)
    rows: list[list[tuple[str, Any]]] = []
    filters: list[str | None] = []
    for raw in result.rows:
        cells = [(key_text(k, v, lang, result.labels.get(k.column)), v)
                 for k, v in zip(keys, raw, strict=False)]
        cells += [(number_text(v, shown_decimals(m)), v)
                  for m, v in zip(measures, raw[len(keys):], strict=False)]
        rows.append(cells)
        filters.append(drill_filter(report, raw[:len(keys)], result.filter))
    totals = [number_text(result.totals.get(m.name), shown_decimals(m)) for m in measures]
    labels = {"total": TOTAL.get(lang, TOTAL["en"])}
    data = {"chart": chart, "columns": result.columns, "headers": headers,
            "keys": [k.column for k in keys], "measures": [m.name for m in measures],
            "rows": [[c[0] if i < len(keys) else c[1] for i, c in enumerate(r)] for r in rows],
            "totals": result.totals, "filters": filters, "labels": labels,
            "object": report.object}
    return Presented(headers, kinds, rows, filters, totals, data)


def key_text(key: CompiledKey, value: Any, lang: str,
             names: dict[str, str] | None = None) -> str:
    if value is None:
        return BLANK.get(lang, BLANK["en"])
    if names and names.get(str(value)):
        return names[str(value)]
    if key.name_of is not None:
        return f"#{value}"
    if key.ftype is FType.BOOLEAN:
        yes, no = YES_NO.get(lang, YES_NO["en"])
        return yes if value else no
    if key.ftype is FType.PICKLIST and key.fdef is not None:
        for option in key.fdef.values:
            if option.value == value:
                return option.label.get(lang)
    return str(value)


def shown_decimals(m: CompiledMeasure) -> int | None:
    """How many decimals a page shows of a measure: its field's scale, and at least two;
    an average or a formula's result computed to six decimals reads 14.29, not 14.285714
    (the API and the downloads keep every decimal)."""
    return max(field_scale(m.fdef) or 0, 2) if m.decimals is not None else None


def number_text(value: Any, at_most: int | None = None) -> str:
    """A measure for people: thousands separated, its decimals kept (at most `at_most`)."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return str(value)
    exact = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    decimals = max(0, -exact.as_tuple().exponent)  # type: ignore[operator]
    if at_most is not None and decimals > at_most:
        exact = exact.quantize(Decimal(1).scaleb(-at_most), rounding=ROUND_HALF_UP)
        decimals = at_most
    return f"{exact:,.{decimals}f}"


def drill_filter(report: CompiledReport, key_values: list[Any],
                 run_filter: str | None) -> str | None:
    """A filter formula matching the records of one row: the report's filter, the run's, and
    each key equal to the row's (a date bucket as its range, in the app's time zone)."""
    parts = [f"({report.rdef.filter})"] if report.rdef.filter else []
    if run_filter:
        parts.append(f"({run_filter})")
    for key, value in zip(report.keys, key_values, strict=False):
        condition = _key_condition(key, value, report.zone)
        if condition is None:
            return None
        parts.append(condition)
    return " && ".join(parts) if parts else None


def _key_condition(key: CompiledKey, value: Any, zone: str) -> str | None:
    source = key.gdef.field or f"({key.gdef.formula})"
    if value is None:
        return f"ISBLANK({source})"
    if key.ftype in (FType.DATE, FType.DATETIME):
        try:
            first, after = bounds(str(value), key.bucket or "day")
        except ValueError:
            return None
        if key.ftype is FType.DATE:
            return (f"{source} >= {_date(first)} && {source} < {_date(after)}")
        return (f"{source} >= {_moment(first, zone)} && {source} < {_moment(after, zone)}")
    if key.ftype is FType.BOOLEAN:
        return source if value else f"{source} = FALSE"  # NOT(blank) would be true
    if key.ftype is FType.NUMBER:
        return f"{source} = {value}"
    if key.ftype is FType.PICKLIST:
        return f"ISPICKVAL({source}, {_text(value)})"
    if key.ftype in (FType.TEXT,):
        return f"{source} = {_text(value)}"
    return None  # lists, times: no drill-down


def _text(value: Any) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _date(day: dt.date) -> str:
    return f"DATE({day.year}, {day.month}, {day.day})"


def _moment(day: dt.date, zone: str) -> str:
    """The UTC instant a local day starts, as a formula the database can run: the UTC date,
    plus the minutes past its midnight as a fraction of a day."""
    start = utc_start(day, zone) if zone != "UTC" else dt.datetime(
        day.year, day.month, day.day, tzinfo=ZoneInfo("UTC"))
    midnight = f"DATETIMEVALUE({_date(start.date())})"
    minutes = start.hour * 60 + start.minute
    return f"({midnight} + {minutes}/1440)" if minutes else midnight
