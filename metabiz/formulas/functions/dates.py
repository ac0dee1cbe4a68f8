"""Date functions: TODAY NOW DATE DATEVALUE DATETIMEVALUE YEAR MONTH DAY WEEKDAY ADDMONTHS
HOUR MINUTE. Datetimes are UTC; WEEKDAY is 1 for Sunday to 7 for Saturday.
"""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import literal

from metabiz.errors import FormulaError
from metabiz.formulas.ftypes import FType
from metabiz.formulas.functions.math import blank_safe
from metabiz.formulas.functions.registry import (
    DATELIKE,
    DATETIME,
    NUM,
    TEXT,
    SqlCall,
    fixed,
    register,
)
from metabiz.formulas.functions.sql_support import date_literal, date_part, datetime_literal
from metabiz.formulas.values import parse_date, parse_datetime, utc


def _as_date(value: dt.date) -> dt.date:
    return utc(value).date() if isinstance(value, dt.datetime) else value


def _make_date(year: Decimal, month: Decimal, day: Decimal) -> dt.date:
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError:
        raise FormulaError(f"DATE: {int(year)}-{int(month):02d}-{int(day):02d} is not a valid "
                           "date", kind="eval") from None


def _datevalue(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return utc(value).date()
    if isinstance(value, dt.date):
        return value
    return parse_date(str(value), "DATEVALUE")


def _datetimevalue(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return utc(value)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(), dt.UTC)
    return parse_datetime(str(value), "DATETIMEVALUE")


def add_months(value: dt.date, months: Decimal) -> dt.date:
    """Keeps the day of the month, clamped to the last day of the target month."""
    total = value.year * 12 + (value.month - 1) + int(months)
    year, month = divmod(total, 12)
    if not 1 <= year <= 9999:
        raise FormulaError("ADDMONTHS: the date is out of range", kind="eval")
    day = min(value.day, calendar.monthrange(year, month + 1)[1])
    return value.replace(year=year, month=month + 1, day=day)


def _weekday(value: dt.date) -> Decimal:
    return Decimal(_as_date(value).isoweekday() % 7 + 1)


def _part(part: str) -> Any:
    def build(c: SqlCall) -> Any:
        return date_part(part, c.args[0], c.dialect)

    return build


def _weekday_sql(c: SqlCall) -> Any:
    return date_part("dow", c.args[0], c.dialect) + literal(1)


date_arg = fixed([DATELIKE], FType.NUMBER)

register("TODAY", 0, 0, fixed([], FType.DATE), lambda ctx, args, node: ctx.current_time().date(),
         lambda c: date_literal(c.now.date(), c.dialect), lazy=True,
         summary="TODAY(): the current date (UTC)")
register("NOW", 0, 0, fixed([], FType.DATETIME), lambda ctx, args, node: ctx.current_time(),
         lambda c: datetime_literal(c.now, c.dialect), lazy=True,
         summary="NOW(): the current date and time (UTC)")
register("DATE", 3, 3, fixed([NUM, NUM, NUM], FType.DATE), blank_safe(_make_date),
         summary="DATE(year, month, day)")
register("DATEVALUE", 1, 1, fixed([TEXT | DATETIME], FType.DATE), blank_safe(_datevalue),
         summary='DATEVALUE(text or datetime): DATEVALUE("2020-02-29")')
register("DATETIMEVALUE", 1, 1, fixed([TEXT | DATELIKE], FType.DATETIME),
         blank_safe(_datetimevalue),
         summary='DATETIMEVALUE(text or date): DATETIMEVALUE("2020-02-29 17:05:00Z")')
register("YEAR", 1, 1, date_arg, blank_safe(lambda v: Decimal(_as_date(v).year)),
         _part("year"), summary="YEAR(date)")
register("MONTH", 1, 1, date_arg, blank_safe(lambda v: Decimal(_as_date(v).month)),
         _part("month"), summary="MONTH(date): 1 to 12")
register("DAY", 1, 1, date_arg, blank_safe(lambda v: Decimal(_as_date(v).day)),
         _part("day"), summary="DAY(date): 1 to 31")
register("WEEKDAY", 1, 1, date_arg, blank_safe(_weekday), _weekday_sql,
         summary="WEEKDAY(date): 1 = Sunday ... 7 = Saturday")
register("ADDMONTHS", 2, 2, fixed([DATELIKE, NUM], lambda types: types[0]),
         blank_safe(add_months), summary="ADDMONTHS(date, months): day clamped to month end")
register("HOUR", 1, 1, fixed([DATETIME], FType.NUMBER),
         blank_safe(lambda v: Decimal(utc(v).hour)), _part("hour"),
         summary="HOUR(datetime): 0 to 23 (UTC)")
register("MINUTE", 1, 1, fixed([DATETIME], FType.NUMBER),
         blank_safe(lambda v: Decimal(utc(v).minute)), _part("minute"),
         summary="MINUTE(datetime): 0 to 59")
