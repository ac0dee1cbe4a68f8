"""Date functions: TODAY NOW DATE DATEVALUE DATETIMEVALUE YEAR MONTH DAY WEEKDAY ADDMONTHS
EOMONTH DATEDIF ISOWEEK ISOYEAR DAYOFYEAR UNIXTIMESTAMP FROMUNIXTIME. Datetimes are UTC;
WEEKDAY is 1 for Sunday to 7 for Saturday. Times of day are times.py's.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Float,
    String,
    case,
    cast,
    func,
    literal,
    literal_column,
    null,
)
from sqlalchemy import Integer as SAInteger

from metabiz.errors import FormulaError
from metabiz.formulas.ftypes import FType
from metabiz.formulas.functions.math import blank_safe
from metabiz.formulas.functions.registry import (
    DATELIKE,
    DATETIME,
    NUM,
    TEXT,
    TIME,
    SqlCall,
    expect,
    fixed,
    literal_text,
    node_error,
    register,
)
from metabiz.formulas.functions.sql_support import (
    add_months as add_months_sql,
)
from metabiz.formulas.functions.sql_support import (
    as_date,
    bind,
    date_literal,
    date_of_datetime,
    date_part,
    datetime_literal,
    datetime_of_date,
    day_ordinal,
    integer,
    make_date,
    months_in_range,
    whole,
)
from metabiz.formulas.nodes import Call
from metabiz.formulas.values import (
    as_decimal,
    as_int,
    ms_of_time,
    parse_date,
    parse_datetime,
    utc,
)

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
EPOCH_ORDINAL = EPOCH.date().toordinal()
#: the seconds FROMUNIXTIME accepts: 0001-01-01 00:00:00 to 9999-12-31 23:59:59 (UTC)
UNIX_RANGE = (-62135596800, 253402300799)


def _as_date(value: dt.date) -> dt.date:
    return utc(value).date() if isinstance(value, dt.datetime) else value


def _make_date(year: Decimal, month: Decimal, day: Decimal) -> dt.date:
    return date_of_ints(as_int(year), as_int(month), as_int(day))


def date_of_ints(year: int, month: int, day: int) -> dt.date:
    """DATE once its arguments are whole numbers (compiled formulas call it directly)."""
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise FormulaError(f"DATE: {year}-{month:02d}-{day:02d} is not a valid date",
                           kind="eval") from None


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


def _month_shift(value: dt.date, months: Decimal, function: str) -> tuple[int, int, int]:
    """The year and month `months` on from value's, and that month's last day."""
    total = value.year * 12 + (value.month - 1) + as_int(months)
    year, month = divmod(total, 12)
    if not 1 <= year <= 9999:
        raise FormulaError(f"{function}: the date is out of range", kind="eval")
    return year, month + 1, calendar.monthrange(year, month + 1)[1]


def add_months(value: dt.date, months: Decimal) -> dt.date:
    """Keeps the day of the month, clamped to the last day of the target month; from the
    last day of a month, gives the last day of the target month (as Salesforce does)."""
    year, month, last = _month_shift(value, months, "ADDMONTHS")
    month_end = value.day == calendar.monthrange(value.year, value.month)[1]
    return value.replace(year=year, month=month, day=last if month_end else min(value.day, last))


def _eomonth(value: dt.date, months: Decimal) -> dt.date:
    year, month, last = _month_shift(_as_date(value), months, "EOMONTH")
    return dt.date(year, month, last)


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
    return bind([c.args[0], c.args[1]], lambda value, months: add_months_sql(
        value, months, c.types[0] is FType.DATETIME, c.dialect))


date_arg = fixed([DATELIKE], FType.NUMBER)


def eomonth_sql(value: Any, months: Any, dialect: str) -> Any:
    return bind([value, integer(months, dialect)],
                lambda v, count: _eomonth_of(v, count, dialect))


def _eomonth_of(value: Any, count: Any, dialect: str) -> Any:
    end: Any
    if dialect == "sqlite":
        shift = cast(count + 1, String()).concat(literal(" months"))
        end = func.date(value, literal("start of month"), shift, literal("-1 days"))
    else:
        month = func.date_trunc("month", value) + (count + 1) * literal_column_interval("month")
        end = cast(month - literal_column_interval("day"), Date())
    return case((months_in_range(value, count, dialect), end), else_=None)


def literal_column_interval(unit: str) -> Any:
    return literal_column(f"interval '1 {unit}'")


# -- DATEDIF --------------------------------------------------------------------------------

DATEDIF_UNITS = ("Y", "M", "D")


def _datedif_type(types: Sequence[FType], node: Call) -> FType:
    expect(node, types, 0, DATELIKE)
    expect(node, types, 1, DATELIKE)
    unit = literal_text(node, 2, "the unit")
    if unit.upper() not in DATEDIF_UNITS:
        raise node_error(node.args[2], 'the unit of DATEDIF must be "Y", "M" or "D"')
    return FType.NUMBER


def _whole_months(start: dt.date, end: dt.date) -> int:
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - 1 if end.day < start.day else months


def _datedif(start: Any, end: Any, unit: Any) -> Decimal | None:
    if start is None or end is None:
        return None
    first, last = _as_date(start), _as_date(end)
    if first > last:
        raise FormulaError("DATEDIF: the start date is after the end date", kind="eval")
    kind = str(unit).upper()
    if kind == "D":
        return as_decimal((last - first).days)
    months = _whole_months(first, last)
    return as_decimal(months // 12 if kind == "Y" else months)


def _datedif_sql(c: SqlCall) -> Any:
    d = c.dialect
    if FType.NULL in c.types[:2]:
        return null()
    kind = literal_text(c.node, 2, "the unit").upper()
    return bind([as_date(v, t, d) for v, t in zip(c.args[:2], c.types[:2], strict=True)],
                lambda first, last: _datedif_of(first, last, kind, d))


def _datedif_of(first: Any, last: Any, kind: str, d: str) -> Any:
    if kind == "D":
        value = day_ordinal(last, d) - day_ordinal(first, d)
    else:
        months = (date_part("year", last, d) - date_part("year", first, d)) * 12 \
            + date_part("month", last, d) - date_part("month", first, d) \
            - case((date_part("day", last, d) < date_part("day", first, d), 1), else_=0)
        value = whole(months) // 12 if kind == "Y" else months
    return case((day_ordinal(first, d) > day_ordinal(last, d), None), else_=value)


# -- ISO weeks --------------------------------------------------------------------------------

def _iso_sql(c: SqlCall, *, week: bool) -> Any:
    value = as_date(c.args[0], c.types[0], c.dialect)
    if c.dialect == "postgresql":
        return cast(func.extract("week" if week else "isoyear", value), SAInteger())
    return bind([value], lambda v: _iso_sqlite(v, week=week))


def _iso_sqlite(value: Any, *, week: bool) -> Any:
    # the ISO week is the week of its Thursday, and the ISO year that Thursday's year
    back = (date_part("dow", value, "sqlite") + 6) % 7
    thursday = func.date(value, literal("-").concat(cast(back, String())).concat(
        literal(" days")), literal("+3 days"))
    if not week:
        return date_part("year", thursday, "sqlite")
    return (date_part("doy", thursday, "sqlite") - 1) // 7 + 1


# -- Unix time --------------------------------------------------------------------------------

def _unixtimestamp(value: Any) -> Decimal:
    if isinstance(value, dt.datetime):
        delta = utc(value) - EPOCH
        return as_decimal(delta.days * 86400 + delta.seconds)
    if isinstance(value, dt.date):
        return as_decimal((value.toordinal() - EPOCH_ORDINAL) * 86400)
    return as_decimal(ms_of_time(value) // 1000)


def _unixtimestamp_sql(c: SqlCall) -> Any:
    value, kind, d = c.args[0], c.types[0], c.dialect
    if kind is FType.DATE:
        return (day_ordinal(value, d) - EPOCH_ORDINAL) * 86400
    if kind is FType.TIME:
        return whole(value) // 1000
    if d == "postgresql":
        return cast(func.floor(func.extract("epoch", value)), BigInteger())
    ms = whole(func.round((value - literal(2440587.5)) * 86_400_000))
    return (ms - (ms % 1000 + 1000) % 1000) // 1000  # floor, for dates before 1970 too


def _fromunixtime(seconds: Decimal) -> dt.datetime:
    if not UNIX_RANGE[0] <= seconds <= UNIX_RANGE[1]:
        raise FormulaError(f"FROMUNIXTIME: {seconds} is out of range", kind="eval")
    micro = int((seconds * 1_000_000).to_integral_value())
    return EPOCH + dt.timedelta(microseconds=micro)


def _fromunixtime_sql(c: SqlCall) -> Any:
    seconds = c.args[0]
    if c.dialect == "sqlite":
        value = seconds / literal(86400.0) + literal(2440587.5)
    else:
        value = literal(dt.datetime(1970, 1, 1), DateTime()) \
            + cast(seconds, Float()) * literal_column_interval("second")
    return case((seconds.between(*UNIX_RANGE), value), else_=None)

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
register("EOMONTH", 2, 2, fixed([DATELIKE, NUM], FType.DATE), blank_safe(_eomonth),
         lambda c: eomonth_sql(as_date(c.args[0], c.types[0], c.dialect), c.args[1], c.dialect),
         summary="EOMONTH(date, months): the last day of the month, months on")
register("DATEDIF", 3, 3, _datedif_type, _datedif, _datedif_sql,
         summary='DATEDIF(start, end, "Y"|"M"|"D"): whole years, months or days between')
register("ISOWEEK", 1, 1, date_arg, blank_safe(lambda v: SMALL[_as_date(v).isocalendar()[1]]),
         lambda c: _iso_sql(c, week=True),
         summary="ISOWEEK(date): the ISO 8601 week, 1 to 53 (weeks start on Monday)")
register("ISOYEAR", 1, 1, date_arg,
         blank_safe(lambda v: as_decimal(_as_date(v).isocalendar()[0])),
         lambda c: _iso_sql(c, week=False),
         summary="ISOYEAR(date): the year of the ISO 8601 week")
register("DAYOFYEAR", 1, 1, date_arg,
         blank_safe(lambda v: as_decimal(_as_date(v).timetuple().tm_yday)), _part("doy"),
         summary="DAYOFYEAR(date): 1 to 366")
register("UNIXTIMESTAMP", 1, 1, fixed([DATELIKE | TIME], FType.NUMBER),
         blank_safe(_unixtimestamp), _unixtimestamp_sql,
         summary="UNIXTIMESTAMP(date, datetime or time): seconds since 1970-01-01 00:00 "
                 "UTC (of a time: since midnight)")
register("FROMUNIXTIME", 1, 1, fixed([NUM], FType.DATETIME), blank_safe(_fromunixtime),
         _fromunixtime_sql, summary="FROMUNIXTIME(seconds): the datetime, UTC")
