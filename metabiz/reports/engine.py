"""Running a report: one SQL query built from the formula SQL back end, with the user's record
access and field security inside it, and exact decimals on SQLite and PostgreSQL.

The query: an inner SELECT of each record's keys and measure inputs (the actor's scope, the
report's filter and `?filter=` in its WHERE), grouped by an outer SELECT whose window
aggregates carry the totals of every group (before LIMIT), so no record is read twice
(a distinct count's total is the one scalar subquery over the same records). Text keys are
grouped as stored first and made blank on the groups (`_regrouped`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import case, distinct, false, func, literal, select
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from metabiz.errors import PermissionDenied
from metabiz.formulas import SQLITE_HEADROOM, FType, to_json_value
from metabiz.objects import query
from metabiz.objects.context import Context
from metabiz.objects.vlookups import readable_rows
from metabiz.platform.db import users
from metabiz.platform.exact_numbers import exact_sum
from metabiz.reports.buckets import bucket_key, day_text, local_date
from metabiz.reports.compiled import CompiledKey, CompiledMeasure, CompiledReport

DEFAULT_LIMIT = 1000


@dataclass
class ReportResult:
    """A report's rows as JSON values, its totals, and what a page needs to draw it."""

    report: CompiledReport
    columns: list[str]
    rows: list[list[Any]]
    totals: dict[str, Any]
    groups: int  # how many groups matched (rows may stop at the limit)
    filter: str | None = None  # the run's `?filter=`
    #: the record names of lookup keys: {column: {id: name}}
    labels: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def truncated(self) -> bool:
        return self.groups > len(self.rows)

    def to_json(self) -> dict[str, Any]:
        out = {"report": self.report.name, "columns": self.columns, "rows": self.rows,
               "totals": self.totals, "groups": self.groups, "truncated": self.truncated}
        if self.labels:
            out["labels"] = self.labels
        return out


def run(ctx: Context, report: CompiledReport, *, filter: str | None = None) -> ReportResult:
    """The report's result for the actor of `ctx` (403 for a hidden field it reads, 400 for a
    `filter` that does not parse or check)."""
    _refuse_hidden(ctx, report)
    built = _Query(ctx, report, filter)
    return built.read(ctx.conn.execute(built.statement()).all())


def _refuse_hidden(ctx: Context, report: CompiledReport) -> None:
    schema, actor = ctx.schema, ctx.actor
    schema.access.require(actor, report.object, "read")
    reads: set[str] = set()
    for checked in report.formulas():
        reads |= schema._dependencies(report.object, checked)
    hidden = sorted(n.removeprefix(f"{report.object}.")
                    for n in schema.access.hidden_among(actor, reads))
    if hidden:
        raise PermissionDenied(f"the report {report.name!r} reads fields hidden for your "
                               "role: " + ", ".join(hidden),
                               fields={n: ["hidden for your role"] for n in hidden})


class _Query:
    """The one statement of a run, and how to read its rows back.

    Its columns: the keys, each measure's aggregates, their totals over every group (window
    aggregates, before LIMIT), the keys' display names, and how many groups matched.
    """

    def __init__(self, ctx: Context, report: CompiledReport, filter: str | None) -> None:
        self.ctx, self.report = ctx, report
        self.filter = filter.strip() if filter and filter.strip() else None
        self.obj = ctx.schema.object(report.object)
        self.rows_of = readable_rows(ctx.schema, ctx.actor)
        self.conditions = query.scope(ctx, self.obj)
        if report.filter is not None:
            self.conditions.append(func.coalesce(self.sql(report.filter), false()))
        if self.filter:
            self.conditions.append(query.compile_filter(ctx, self.obj, self.filter,
                                                        sqlite_headroom=SQLITE_HEADROOM))
        self.lookups = [i for i, k in enumerate(report.keys) if _may_name(ctx, k)]
        self.people = [i for i, k in enumerate(report.keys) if k.holds_user]
        # measures over the same source read one column (a sum and an average of the amount)
        first_of: dict[tuple[Any, ...], int] = {}
        self.inputs: dict[int, int] = {}
        for i, m in enumerate(report.measures):
            if m.checked is not None:
                self.inputs[i] = first_of.setdefault((m.mdef.field, m.mdef.formula), i)
        self.width = 0  # how many aggregates (an average is two)

    def sql(self, checked: Any) -> ColumnElement[Any]:
        return self.ctx.schema.formula_sql(checked, self.obj.name, rows=self.rows_of,
                                           now=self.ctx.now)

    def records(self, keys: list[ColumnElement[Any]]) -> Any:
        """Each record the actor may read and the filters keep: its `keys` and measure inputs.

        On SQLite a number field's measure is its stored integers (summed exactly); a
        computed measure is a binary float, rounded to the field's scale (exact while totals
        stay below about 1e12); its datetimes are Julian day numbers."""
        report = self.report
        columns = [key.label(f"k{i}") for i, key in enumerate(keys)]
        columns += [self.sql(report.measures[i].checked).label(f"m{i}")
                    for i in sorted(set(self.inputs.values()))]
        if not columns:
            columns = [self.obj.table.c.id.label("row")]
        return select(*columns).select_from(self.obj.table).where(*self.conditions).subquery()

    def statement(self) -> Any:
        report, dialect = self.report, self.ctx.schema.dialect
        keyed = [_key_sql(k, self.sql(k.checked), report.zone, dialect) for k in report.keys]
        # A text key is NULLIF(text, ''): blank text and no text are one group. Computed on
        # every record it costs as much as the rest of the grouping on SQLite, so records are
        # grouped by the text itself first and the few groups made blank after (a sum of
        # sums, a count of counts); a distinct count cannot be added up, so not with one.
        # (A user key stays as it is: PostgreSQL names its users in a subquery per group,
        # which may only read the grouped column itself.)
        plain = [None if k.holds_user else _text_of_blank(key)
                 for k, key in zip(report.keys, keyed, strict=True)]
        two_stage = any(p is not None for p in plain) and not any(
            m.function == "count_distinct" for m in report.measures)
        rows_in = self.records([p if two_stage and p is not None else key
                                for key, p in zip(keyed, plain, strict=True)])
        source = self._regrouped(rows_in) if two_stage else rows_in
        keys = [source.c[f"k{i}"] for i in range(len(report.keys))]
        if two_stage:
            keys = [func.nullif(key, literal("")) if p is not None else key
                    for key, p in zip(keys, plain, strict=True)]
        aggregates: list[ColumnElement[Any]] = []
        totals: list[ColumnElement[Any]] = []
        for i, m in enumerate(report.measures):
            j = self.inputs.get(i)
            parts = (_aggregates_of_groups(m, source, j, dialect) if two_stage else
                     _aggregates(m, rows_in.c[f"m{j}"] if j is not None else None, dialect))
            aggregates.extend(parts)
            if keys and m.function == "count_distinct":
                # the one total groups cannot give: a distinct count over the same records
                again = self.records(keyed)
                totals.append(select(func.count(distinct(again.c[f"m{j}"])))
                              .scalar_subquery())
            elif keys:
                totals.extend(_window_total(m, part, self.ctx.schema.dialect)
                              for part in parts)
        self.width = len(aggregates)
        names: list[Any] = [self.record_name(report.keys[i], keys[i]) for i in self.lookups]
        names += [select(users.c.display_name).where(users.c.name == keys[i])
                  .scalar_subquery() for i in self.people]
        statement: Any = select(*keys, *aggregates, *totals, *names,
                                *([func.count().over()] if keys else [])).select_from(source)
        if keys:
            statement = (statement.group_by(*keys)
                         .order_by(*_order(report, keys, aggregates, dialect))
                         .limit(report.rdef.limit or DEFAULT_LIMIT))
        return statement

    def record_name(self, key: CompiledKey, value: Any) -> Any:
        """The name of the record a lookup key's group is of: read once per group, not once
        per record."""
        assert key.name_of is not None
        target, field_name = key.name_of
        alias = self.ctx.schema.object(target).table.alias()
        name = self.ctx.schema.sql_columns(target, alias, rows=self.rows_of)((field_name,))
        return select(name).where(alias.c.id == value).scalar_subquery()

    def _regrouped(self, rows_in: Any) -> Any:
        """The records grouped by their keys as stored, with what each measure adds up."""
        report = self.report
        keys = [rows_in.c[f"k{i}"] for i in range(len(report.keys))]
        columns: dict[str, ColumnElement[Any]] = {"count": func.count()}
        for i, m in enumerate(report.measures):
            j = self.inputs.get(i)
            if j is None:
                continue
            value = rows_in.c[f"m{j}"]
            for part in _PARTS[m.function]:
                columns.setdefault(f"{part}{j}", exact_sum(value, self.ctx.schema.dialect)
                                   if part == "sum" else getattr(func, part)(value))
        return (select(*(k.label(f"k{i}") for i, k in enumerate(keys)),
                       *(c.label(name) for name, c in columns.items()))
                .group_by(*keys).subquery())

    def read(self, fetched: Sequence[Any]) -> ReportResult:
        report, width, k = self.report, self.width, len(self.report.keys)
        named = self.lookups + self.people
        labels: dict[str, dict[str, str]] = {report.keys[i].column: {} for i in named}
        rows: list[list[Any]] = []
        for row in fetched:
            for j, i in enumerate(named):
                if row[i] is not None and row[k + 2 * width + j] is not None:
                    labels[report.keys[i].column][str(row[i])] = str(row[k + 2 * width + j])
            rows.append([_key_value(key, row[i]) for i, key in enumerate(report.keys)]
                        + _measure_values(report.measures, row[k:k + width]))
        if not k:
            total_values, groups = (rows[0][:] if rows else []), 1
        elif fetched:
            total_values = _measure_values(report.measures, fetched[0][k + width:k + 2 * width])
            groups = int(fetched[0][-1])
        else:
            total_values = [0 if m.function in ("count", "count_distinct") else None
                            for m in report.measures]
            groups = 0
        totals = {m.name: v for m, v in zip(report.measures, total_values, strict=True)}
        return ReportResult(report, report.rdef.columns(), rows, totals, groups,
                            filter=self.filter, labels=labels)


def _may_name(ctx: Context, key: CompiledKey) -> bool:
    """Whether a lookup key's record names may be shown to the actor (the records
    themselves are read through the actor's scope: one they may not read has no name)."""
    if key.name is None or key.name_of is None:
        return False
    target, field_name = key.name_of
    access = ctx.schema.access
    return access.allowed(ctx.actor, target, "read") and \
        access.field_rule(ctx.actor, target, field_name) != "hidden"


# -- keys --------------------------------------------------------------------------------

def _key_sql(key: CompiledKey, value: Any, zone: str, dialect: str) -> ColumnElement[Any]:
    """A key as it is grouped: dates as their bucket's text, in the app's time zone."""
    if key.ftype is FType.DATETIME:
        return bucket_key(local_date(value, zone, dialect), key.bucket or "day", dialect)
    if key.ftype is FType.DATE:
        if key.bucket is None:
            return day_text(value, dialect)
        return bucket_key(value, key.bucket, dialect)
    if key.ftype is FType.BOOLEAN:
        return case((value.is_(None), None), (value, literal(1)), else_=literal(0))
    return value


def _text_of_blank(key: ColumnElement[Any]) -> ColumnElement[Any] | None:
    """The text of a key that is `NULLIF(text, '')` (a text field as formulas read it)."""
    if isinstance(key, FunctionElement) and key.name.lower() == "nullif":
        text, blank = key.clauses.clauses
        if isinstance(blank, BindParameter) and blank.value == "":
            return text  # type: ignore[no-any-return]
    return None


def _key_value(key: CompiledKey, raw: Any) -> Any:
    if raw is None:
        return None
    if key.ftype is FType.BOOLEAN:
        return bool(raw)
    if key.ftype is FType.NUMBER:
        return to_json_value(_decimal(raw))
    if isinstance(raw, dt.time):
        return raw.isoformat()
    return raw


def _order(report: CompiledReport, keys: list[Any], aggregates: list[Any],
           dialect: str) -> list[Any]:
    """The report's `sort` (default: its keys in order; picklists in their values' order,
    blank last), then the keys to break ties."""
    by_key = {k.column: i for i, k in enumerate(report.keys)}
    positions = _aggregate_positions(report.measures)
    clauses: list[Any] = []
    named: list[int] = []
    for part in (report.rdef.sort or "").split(","):
        name = part.strip().lstrip("-")
        if not name:
            continue
        descending = part.strip().startswith("-")
        if name in by_key:
            named.append(by_key[name])
            clauses.extend(_key_order(report.keys[by_key[name]], keys[by_key[name]],
                                      descending, dialect))
        elif name in positions:
            column = aggregates[positions[name]]
            clauses.append(column.is_(None))
            clauses.append(column.desc() if descending else column.asc())
    for i, key in enumerate(report.keys):
        if i not in named:
            clauses.extend(_key_order(key, keys[i], False, dialect))
    return clauses


def _key_order(key: CompiledKey, column: Any, descending: bool, dialect: str) -> list[Any]:
    values = key.fdef.picklist_values() if key.fdef is not None else ()
    if key.ftype is FType.PICKLIST and values:
        ordered: Any = case(*((column == literal(v), literal(i)) for i, v in enumerate(values)),
                            else_=literal(len(values)))
    elif dialect == "postgresql" and key.ftype in (FType.TEXT, FType.PICKLIST,
                                                   FType.MULTI_PICKLIST, FType.DATE,
                                                   FType.DATETIME):
        ordered = column.collate("C")  # the same order as SQLite's, whatever the locale
    else:
        ordered = column
    return [column.is_(None), ordered.desc() if descending else ordered.asc()]


# -- measures ----------------------------------------------------------------------------

def _aggregates(m: CompiledMeasure, value: Any, dialect: str) -> list[ColumnElement[Any]]:
    """The SQL aggregates of one measure (an average is its sum and its count; sums of
    SQLite's exact columns add their integers)."""
    if m.function == "count":
        return [func.count()]
    if m.function == "count_distinct":
        return [func.count(distinct(value))]
    if m.function == "avg":
        return [exact_sum(value, dialect), func.count(value)]
    if m.function == "sum":
        return [exact_sum(value, dialect)]
    return [getattr(func, m.function)(value)]


#: what groups of records hand on for each measure function to add up (`_regrouped`)
_PARTS = {"count": (), "sum": ("sum",), "avg": ("sum", "count"), "min": ("min",),
          "max": ("max",)}


def _aggregates_of_groups(m: CompiledMeasure, groups: Any, j: int | None,
                          dialect: str) -> list[Any]:
    """A measure's aggregates over groups of records (`_regrouped`): a count is the sum of
    their counts, a sum the sum of their sums, a minimum the least of their minimums."""
    if m.function == "count":
        return [func.sum(groups.c["count"])]
    if m.function == "avg":
        return [exact_sum(groups.c[f"sum{j}"], dialect), func.sum(groups.c[f"count{j}"])]
    if m.function in ("min", "max"):
        return [getattr(func, m.function)(groups.c[f"{m.function}{j}"])]
    return [exact_sum(groups.c[f"sum{j}"], dialect)]


def _aggregate_positions(measures: tuple[CompiledMeasure, ...]) -> dict[str, int]:
    """Where each measure's (first) aggregate stands among the aggregates."""
    positions, at = {}, 0
    for m in measures:
        positions[m.name] = at
        at += 2 if m.function == "avg" else 1
    return positions


def _window_total(m: CompiledMeasure, part: Any, dialect: str) -> ColumnElement[Any]:
    """The total over every group of one aggregate (computed before LIMIT)."""
    if m.function in ("min", "max"):
        return getattr(func, m.function)(part).over()
    return exact_sum(part, dialect, window=True)


def _measure_values(measures: tuple[CompiledMeasure, ...], raw: Any) -> list[Any]:
    values: list[Any] = []
    at = 0
    for m in measures:
        if m.function == "avg":
            total, count = raw[at], raw[at + 1]
            at += 2
            values.append(_average(m, total, count))
            continue
        value = raw[at]
        at += 1
        values.append(_measure_value(m, value))
    return values


def _average(m: CompiledMeasure, total: Any, count: Any) -> Any:
    if total is None or not count:
        return None
    decimals = m.decimals if m.decimals is not None else 6
    exact = _decimal(total)
    return to_json_value(_quantize(exact / Decimal(int(count)), decimals))


def _measure_value(m: CompiledMeasure, value: Any) -> Any:
    if value is None:
        return 0 if m.function in ("count", "count_distinct") else None
    if m.function in ("count", "count_distinct"):
        return int(value)
    if m.ftype is FType.NUMBER:
        exact = _decimal(value)
        return to_json_value(_quantize(exact, m.decimals if m.decimals is not None else 6))
    if m.ftype is FType.DATETIME:
        return _datetime_json(value)
    if m.ftype is FType.DATE:
        return value.isoformat() if isinstance(value, dt.date) else str(value)
    return to_json_value(value)


def _datetime_json(value: Any) -> str:
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    # SQLite: a Julian day number
    seconds = round((float(value) - 2440587.5) * 86400)
    moment = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _decimal(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def _quantize(value: Decimal, decimals: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)

