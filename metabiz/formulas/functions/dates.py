"""Date functions: TODAY NOW DATE DATEVALUE DATETIMEVALUE YEAR MONTH DAY WEEKDAY ADDMONTHS
HOUR MINUTE. Datetimes are UTC; WEEKDAY is 1 for Sunday to 7 for Saturday.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
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
from metabiz.formulas.functions.sql_support import (
    add_months as add_months_sql,
)
from metabiz.formulas.functions.sql_support import (
    date_literal,
    date_of_datetime,
    date_part,
    datetime_literal,
    datetime_of_date,
    make_date,
)
from metabiz.formulas.values import as_decimal, as_int, parse_date, parse_datetime, utc


def _as_date(value: dt.date) -> dt.date:
    return utc(value).date() if isinstance(value, dt.datetime) else value


def _make_date(year: Decimal, month: Decimal, day: Decimal) -> dt.date:
    try:
        return dt.date(as_int(year), as_int(month), as_int(day))
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
    total = value.year * 12 + (value.month - 1) + as_int(months)
    year, month = divmod(total, 12)
    if not 1 <= year <= 9999:
        raise FormulaError("ADDMONTHS: the date is out of range", kind="eval")
    day = min(value.day, calendar.monthrange(year, month + 1)[1])
    return value.replace(year=year, month=month + 1, day=day)


SMALL = tuple(Decimal(i) for i in range(61))  # date parts without a Decimal() per call


def _weekday(value: dt.date) -> Decimal:
    return SMALL[_as_date(value).isoweekday() % 7 + 1]


def _year(value: dt.date) -> Decimal:
    return as_decimal((value if value.__class__ is dt.date else _as_date(value)).year)


def _month(value: dt.date) -> Decimal:
    return SMALL[(value if value.__class__ is dt.date else _as_date(value)).month]


def _day(value: dt.date) -> Decimal:
    return SMALL[(value if value.__class__ is dt.date else _as_date(value)).day]


def _part(part: str) -> Any:
    def build(c: SqlCall) -> Any:
        return date_part(part, c.args[0], c.dialect)

    return build


def _weekday_sql(c: SqlCall) -> Any:
    return date_part("dow", c.args[0], c.dialect) + literal(1)


def _not_text(types: Sequence[FType]) -> bool:
    """Parsing text into dates stays in Python: databases parse and fail differently."""
    return types[0] is not FType.TEXT and types[0] is not FType.PICKLIST


def _datevalue_sql(c: SqlCall) -> Any:
    if c.types[0] is FType.DATETIME:
        return date_of_datetime(c.args[0], c.dialect)
    return c.args[0]


def _datetimevalue_sql(c: SqlCall) -> Any:
    if c.types[0] is FType.DATE:
        return datetime_of_date(c.args[0], c.dialect)
    return c.args[0]


def _addmonths_sql(c: SqlCall) -> Any:
    return add_months_sql(c.args[0], c.args[1], c.types[0] is FType.DATETIME, c.dialect)


date_arg = fixed([DATELIKE], FType.NUMBER)

register("TODAY", 0, 0, fixed([], FType.DATE), lambda ctx, args, node: ctx.current_time().date(),
         lambda c: date_literal(utc(c.now).date(), c.dialect), lazy=True,
         summary="TODAY(): the current date (UTC)")
register("NOW", 0, 0, fixed([], FType.DATETIME), lambda ctx, args, node: ctx.current_time(),
         lambda c: datetime_literal(c.now, c.dialect), lazy=True,
         summary="NOW(): the current date and time (UTC)")
register("DATE", 3, 3, fixed([NUM, NUM, NUM], FType.DATE), blank_safe(_make_date),
         lambda c: make_date(c.args[0], c.args[1], c.args[2], c.dialect),
         summary="DATE(year, month, day)")
register("DATEVALUE", 1, 1, fixed([TEXT | DATETIME], FType.DATE), blank_safe(_datevalue),
         _datevalue_sql, sql_accepts=_not_text,
         summary='DATEVALUE(text or datetime): DATEVALUE("2020-02-29")')
register("DATETIMEVALUE", 1, 1, fixed([TEXT | DATELIKE], FType.DATETIME),
         blank_safe(_datetimevalue), _datetimevalue_sql, sql_accepts=_not_text,
         summary='DATETIMEVALUE(text or date): DATETIMEVALUE("2020-02-29 17:05:00Z")')
register("YEAR", 1, 1, date_arg, blank_safe(_year),
         _part("year"), summary="YEAR(date)")
register("MONTH", 1, 1, date_arg, blank_safe(_month),
         _part("month"), summary="MONTH(date): 1 to 12")
register("DAY", 1, 1, date_arg, blank_safe(_day),
         _part("day"), summary="DAY(date): 1 to 31")
register("WEEKDAY", 1, 1, date_arg, blank_safe(_weekday), _weekday_sql,
         summary="WEEKDAY(date): 1 = Sunday ... 7 = Saturday")
register("ADDMONTHS", 2, 2, fixed([DATELIKE, NUM], lambda types: types[0]),
         blank_safe(add_months), _addmonths_sql, summary="ADDMONTHS(date, months): day clamped to month end")
register("HOUR", 1, 1, fixed([DATETIME], FType.NUMBER),
         blank_safe(lambda v: SMALL[utc(v).hour]), _part("hour"),
         summary="HOUR(datetime): 0 to 23 (UTC)")
register("MINUTE", 1, 1, fixed([DATETIME], FType.NUMBER),
         blank_safe(lambda v: SMALL[utc(v).minute]), _part("minute"),
         summary="MINUTE(datetime): 0 to 59")
