"""Working days: NETWORKDAYS WORKDAY, Monday to Friday or on a business calendar of the app
(calendars.py), named by an optional last argument: NETWORKDAYS(start, end, "cn").

SQL does calendars.py's integer arithmetic on day numbers; a calendar's exceptions become
a small literal table in a correlated subquery, so the result is exact on both databases.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import case, literal_column, select, union_all

from metabiz.errors import FormulaError
from metabiz.formulas.calendars import WEEKDAYS, Calendar
from metabiz.formulas.ftypes import Catalog, FType, calendar_of
from metabiz.formulas.functions.math import blank_safe
from metabiz.formulas.functions.registry import (
    DATELIKE,
    NUM,
    Resolved,
    SqlCall,
    expect,
    literal_text,
    node_error,
    register,
)
from metabiz.formulas.functions.sql_support import (
    as_date,
    bind,
    correlated,
    date_of_ordinal,
    day_ordinal,
    greatest,
    integer,
    whole,
)
from metabiz.formulas.nodes import Call, Constant
from metabiz.formulas.values import as_decimal, as_int


def _resolve_calendar(position: int) -> Any:
    def resolve(node: Call, catalog: Catalog) -> Resolved:
        if len(node.args) <= position:
            return Resolved({})
        name = literal_text(node, position, "the calendar")
        found = calendar_of(catalog, name)
        arg = node.args[position]
        if found is None:
            raise node_error(arg, f"unknown calendar {name!r} (calendars are declared in "
                                  "app.json under \"calendars\")")
        return Resolved({position: Constant(arg.span, found, name, ftype=FType.CALENDAR)})

    return resolve


def _typer(second: frozenset[FType], returns: FType) -> Any:
    def typer(types: Sequence[FType], node: Call) -> FType:
        expect(node, types, 0, DATELIKE)
        expect(node, types, 1, second)
        return returns

    return typer


def _as_day(value: Any) -> Any:
    return value.date() if hasattr(value, "date") else value


def _networkdays(start: Any, end: Any, calendar: Calendar = WEEKDAYS) -> Any:
    return as_decimal(calendar.networkdays(_as_day(start), _as_day(end)))


#: more working days than there are dates from 0001-01-01 to 9999-12-31
MAX_WORKDAYS = dt.date.max.toordinal()


def _workday(start: Any, days: Any, calendar: Calendar = WEEKDAYS) -> Any:
    count = as_int(days)
    if abs(count) > MAX_WORKDAYS:  # past the calendar's segments: no date to find
        raise FormulaError("WORKDAY: the date is out of range", kind="eval")
    return calendar.workday(_as_day(start), count)


# -- SQL ------------------------------------------------------------------------------------

def _number(value: int) -> Any:
    return literal_column(str(int(value)))


def _plain_index(ordinal: Any) -> Any:
    days = whole(ordinal) - 1
    rest = days % 7
    return days // 7 * 5 + case((rest > 4, 4), else_=rest) + 1


def _plain_inverse(count: Any) -> Any:
    before = whole(count) - 1  # below 1 this stays below 1: the date is out of range
    return before // 5 * 7 + before % 5 + 1


def _segments(calendar: Calendar) -> Any:
    rows = [select(_number(s.start).label("start"), _number(s.shift).label("shift"),
                   _number(s.last_index).label("last_index")) for s in calendar.segments]
    return union_all(*rows).subquery("segments")


def _index(ordinal: Any, calendar: Calendar) -> Any:
    """W(ordinal) (Calendar.index)."""
    if not calendar.exceptions:
        return _plain_index(ordinal)
    segments = _segments(calendar)
    shift = select(segments.c.shift).where(segments.c.start <= correlated(ordinal)) \
        .order_by(segments.c.start.desc()).limit(1).scalar_subquery()
    return _plain_index(ordinal) + shift


def _first_reaching(count: Any, calendar: Calendar, dialect: str) -> Any:
    """Calendar.first_reaching."""
    if not calendar.exceptions:
        return _plain_inverse(count)
    segments = _segments(calendar)
    count = correlated(count)
    found = greatest(segments.c.start, _plain_inverse(count - segments.c.shift), dialect)
    return select(found).where(segments.c.last_index >= count) \
        .order_by(segments.c.start).limit(1).scalar_subquery()


def _calendar(c: SqlCall) -> Calendar:
    return c.args[2] if len(c.args) > 2 else WEEKDAYS


def _networkdays_sql(c: SqlCall) -> Any:
    d, calendar = c.dialect, _calendar(c)

    def count(first: Any, last: Any) -> Any:
        forward = _index(last, calendar) - _index(first - 1, calendar)
        backward = -(_index(first, calendar) - _index(last - 1, calendar))
        return case((first <= last, forward), else_=backward)

    return bind([day_ordinal(as_date(v, t, d), d)
                 for v, t in zip(c.args[:2], c.types[:2], strict=True)], count)


def _workday_sql(c: SqlCall) -> Any:
    d, calendar = c.dialect, _calendar(c)

    def move(start: Any, ordinal: Any, days: Any) -> Any:
        # forward: W(start) + days; back: W of the day before start, moved back `days`
        target = case((days > 0, _index(ordinal, calendar) + days),
                      else_=_index(ordinal - 1, calendar) + days + 1)
        moved = bind([target], lambda count: date_of_ordinal(
            _first_reaching(count, calendar, d), d))
        return case((days.is_(None), None), (days == 0, start), else_=moved)

    start = as_date(c.args[0], c.types[0], d)
    return bind([start, day_ordinal(start, d), integer(c.args[1], d)], move)


register("NETWORKDAYS", 2, 3, _typer(DATELIKE, FType.NUMBER), blank_safe(_networkdays),
         _networkdays_sql, resolve=_resolve_calendar(2),
         summary="NETWORKDAYS(start, end[, calendar]): working days from start to end, "
                 "both included")
register("WORKDAY", 2, 3, _typer(NUM, FType.DATE), blank_safe(_workday), _workday_sql,
         resolve=_resolve_calendar(2),
         summary="WORKDAY(start, days[, calendar]): the date that many working days on")
