"""Working hours: ADDWORKHOURS(datetime, hours, calendar), the moment that many hours of
working time on, within the hours of a business calendar's working days (calendars.py).

SQL does Calendar.add_work_ms's integer arithmetic on milliseconds from 0001-01-01 UTC,
with the day counting of WORKDAY (workdays.py), so the result is exact on both databases.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import ROUND_HALF_UP
from typing import Any

from sqlalchemy import BigInteger, Float, case, cast, func, literal, literal_column, or_

from metabiz.errors import FormulaError
from metabiz.formulas.calendars import DAY_MS, Calendar
from metabiz.formulas.ftypes import Catalog, FType, calendar_of
from metabiz.formulas.functions.math import blank_safe
from metabiz.formulas.functions.registry import (
    DATETIME,
    NUM,
    Resolved,
    SqlCall,
    expect,
    literal_text,
    node_error,
    register,
)
from metabiz.formulas.functions.sql_support import (
    ORDINAL_JULIAN,
    bind,
    date_of_ordinal,
    datetime_of_date,
    greatest,
    whole,
)
from metabiz.formulas.functions.workdays import _first_reaching, _index
from metabiz.formulas.nodes import Call, Constant
from metabiz.formulas.values import as_decimal, utc

HOUR_MS = 3_600_000
#: a day number past 9999-12-31: what a moment out of range falls on (a blank result)
PAST_DATES = dt.date.max.toordinal() + 1
#: more working time than there is from 0001-01-01 to 9999-12-31
MAX_MS = DAY_MS * dt.date.max.toordinal()


def _resolve(node: Call, catalog: Catalog) -> Resolved:
    name = literal_text(node, 2, "the calendar")
    found = calendar_of(catalog, name)
    arg = node.args[2]
    if found is None:
        raise node_error(arg, f"unknown calendar {name!r} (calendars are declared in "
                              "app.json under \"calendars\")")
    if found.hours is None:
        raise node_error(arg, f"calendar {name!r} has no working hours (declare them in "
                              "app.json, e.g. \"hours\": [\"09:00\", \"18:00\"])")
    return Resolved({2: Constant(arg.span, found, name, ftype=FType.CALENDAR)})


def _typer(types: Sequence[FType], node: Call) -> FType:
    expect(node, types, 0, DATETIME)
    expect(node, types, 1, NUM)
    return FType.DATETIME


def _addworkhours(start: Any, hours: Any, calendar: Calendar) -> Any:
    value = utc(start)
    since_midnight = value - value.replace(hour=0, minute=0, second=0, microsecond=0)
    moment = value.date().toordinal() * DAY_MS + since_midnight // dt.timedelta(milliseconds=1)
    amount = (as_decimal(hours) * HOUR_MS).to_integral_value(ROUND_HALF_UP)  # to the ms
    if amount > MAX_MS:
        raise FormulaError("ADDWORKHOURS: the date is out of range", kind="eval")
    day, ms = divmod(calendar.add_work_ms(moment, int(amount)), DAY_MS)
    if not 1 <= day <= dt.date.max.toordinal():
        raise FormulaError("ADDWORKHOURS: the date is out of range", kind="eval")
    return dt.datetime.combine(dt.date.fromordinal(day), dt.time(), dt.UTC) \
        + dt.timedelta(milliseconds=ms)


# -- SQL ------------------------------------------------------------------------------------

def _n(value: int) -> Any:
    return literal_column(str(int(value)))


def _moment_sql(day: Any, ms: Any, d: str) -> Any:
    """The datetime of a day number and milliseconds after (or before) its midnight (UTC)."""
    valid = day.between(1, dt.date.max.toordinal())
    if d == "sqlite":  # a Julian day number
        return case((valid, day + literal(ORDINAL_JULIAN) + cast(ms, Float()) / literal(
            float(DAY_MS))), else_=None)
    midnight = datetime_of_date(date_of_ordinal(day, d), d)
    return midnight + ms * literal_column("interval '1 millisecond'")


def _utc_ms(value: Any, d: str) -> Any:
    """A datetime as milliseconds from 0001-01-01 00:00 UTC less a day (day number × DAY_MS
    + milliseconds after midnight), rounded to the millisecond."""
    if d == "sqlite":
        return cast(func.round((value - literal(ORDINAL_JULIAN)) * _n(DAY_MS)), BigInteger())
    epoch_ms = dt.date(1970, 1, 1).toordinal() * DAY_MS
    return cast(func.round(func.extract("epoch", value) * _n(1000)), BigInteger()) \
        + _n(epoch_ms)


def _addworkhours_sql(c: SqlCall) -> Any:
    d, calendar = c.dialect, c.args[2]
    assert calendar.hours is not None
    start, end = calendar.hours
    window = end - start

    def local(start_at: Any, hours: Any) -> Any:
        # blank inputs count as 0 inside (SQLite's FLOOR fails on NULL); the result is blank
        least = func.min if d == "sqlite" else func.least
        ms = least(greatest(hours * _n(HOUR_MS), _n(0), d), _n(MAX_MS))
        amount = func.coalesce(cast(func.round(ms), BigInteger()), _n(0))
        moment = whole(func.coalesce(_utc_ms(start_at, d), _n(0)) + _n(calendar.offset))
        day = whole(moment // _n(DAY_MS))
        known = case((or_(start_at.is_(None), hours.is_(None)), _n(0)), else_=_n(1))
        return bind([day, moment % _n(DAY_MS), amount, _index(day, calendar),
                     _index(day - 1, calendar), known], clip)

    def clip(day: Any, clock: Any, amount: Any, index: Any, before_index: Any,
             known: Any) -> Any:
        # W of the day and of the day before: a working day is one that W counts
        day, clock, index = whole(day), whole(clock), whole(index)
        working = index - whole(before_index) == 1
        before = (working & (clock < _n(start)))
        off = (~working) | (clock >= _n(end))
        next_day = func.coalesce(_first_reaching(index + 1, calendar, d), _n(PAST_DATES))
        clock_from = case((before | off, _n(start)), else_=clock)
        # past the rest of that day: whole working days, then what is left of the last
        over = whole(amount - (_n(end) - clock_from))
        return bind([case((off, next_day), else_=day), clock_from, amount,
                     case((off, index + 1), else_=index), over // _n(window),
                     over % _n(window), known], count)

    def count(day: Any, clock: Any, amount: Any, index: Any, whole_days: Any,
              rest: Any, known: Any) -> Any:
        target = whole(index) + whole(whole_days) + case((rest == 0, _n(0)), else_=_n(1))
        later_day = func.coalesce(_first_reaching(target, calendar, d), _n(PAST_DATES))
        later_clock = case((rest == 0, _n(end)), else_=_n(start) + rest)
        within = amount <= _n(end) - clock
        # a blank start or hours: no day, so a blank result
        return _moment_sql(case((known == 0, None), (within, day), else_=later_day),
                           case((within, clock + amount), else_=later_clock)
                           - _n(calendar.offset), d)

    return local(c.args[0], c.args[1])


register("ADDWORKHOURS", 3, 3, _typer, blank_safe(_addworkhours), _addworkhours_sql,
         resolve=_resolve,
         summary="ADDWORKHOURS(start, hours, calendar): the moment that many working hours "
                 "after start, within the calendar's working hours of its working days")
