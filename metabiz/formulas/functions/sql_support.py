"""The dialect differences the SQL back end needs, in one small place (SQLite, PostgreSQL).

On SQLite, dates are 'YYYY-MM-DD' text and datetimes are handled as Julian day numbers,
so that arithmetic and comparisons are plain numbers; on PostgreSQL they are native types.
SQLite numbers are binary floats: `exact` and `exact_sum` round computed values back to
the 15 significant digits a double holds, so that `0.1 + 0.2 = 0.3` there too.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Date,
    DateTime,
    Float,
    Numeric,
    String,
    Text,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    literal_column,
    not_,
    or_,
)
from sqlalchemy import Integer as SAInteger
from sqlalchemy.sql.elements import Grouping, Null

from metabiz.formulas.ftypes import TEXTLIKE, FType

TEXTISH = TEXTLIKE | {FType.MULTI_PICKLIST}


def truthy(expr: Any) -> Any:
    """A boolean that is never NULL: blank counts as false (IF, AND, OR, NOT, filters)."""
    return func.coalesce(expr, false())


def negate(expr: Any) -> Any:
    """NOT expr, parenthesised: SQLAlchemy writes `NOT x IS NULL`, which means NOT (x IS NULL)."""
    return Grouping(not_(expr))


def is_null_literal(expr: Any) -> bool:
    return isinstance(expr, Null)


def number_literal(value: Decimal, dialect: str) -> Any:
    if dialect == "sqlite":
        return literal(int(value) if value == value.to_integral_value() else float(value))
    return literal(value, Numeric())


def text_literal(value: str) -> Any:
    return literal(value, String())


def blank_text(expr: Any) -> Any:
    """Text with blank as ''."""
    return func.coalesce(expr, literal(""))


def numeric(expr: Any, dialect: str) -> Any:
    """Make sure division and rounding do not run as integer arithmetic."""
    if dialect == "sqlite":
        return expr * literal(1.0)
    return cast(expr, Numeric())


def exact(expr: Any, dialect: str) -> Any:
    """A computed number rid of binary-float noise (SQLite; PostgreSQL numerics are exact).

    SQLite writes a real as text with 15 significant digits, so the round trip turns
    0.30000000000000004 back into 0.3; NULL stays NULL.
    """
    if dialect == "sqlite":
        return cast(cast(expr, Text()), Float())
    return expr


#: decimals a SQLite sum keeps when its operands are computed (see exact_sum)
SUM_DECIMALS = 10


def exact_sum(values: list[Any], signs: list[int], dialect: str, *, simple: bool,
              skip_blanks: bool = False) -> Any:
    """Σ sign·value: blank if any value is blank (with skip_blanks: blank values count as
    0, and the caller decides what all-blank gives).

    On SQLite, cancellation leaves float noise in a small difference of large operands
    (24.95 - 24 = 0.9499999999999993). When the operands are `simple` (columns and
    literals, cheap to name twice) the sum is rounded to the 15 significant digits a
    double holds *of the largest operand*; otherwise to SUM_DECIMALS decimals, which
    stored values (at most 4 decimals) and their sums fit while operands stay below 1e5.
    """
    terms = [func.coalesce(v, literal(0)) if skip_blanks else v for v in values]
    total: Any = None
    for term, sign in zip(terms, signs, strict=True):
        if total is None:
            total = term if sign > 0 else -term
        else:
            total = total + term if sign > 0 else total - term
    if dialect != "sqlite":
        return total
    if not simple:
        return exact(func.round(total, SUM_DECIMALS), dialect)
    largest = func.max(*(func.abs(t) for t in terms), literal(1))
    # log10 of a number >= 1 is >= 0: the cast truncates like floor (SQLAlchemy replaces
    # SQLite's floor() by Python's math.floor, which fails on NULL)
    decimals = literal(14) - cast(func.log10(largest), SAInteger())
    return exact(func.round(total, decimals), dialect)


def integer(expr: Any, dialect: str) -> Any:
    """Truncate towards zero, as Python's int() does."""
    if dialect == "sqlite":
        return cast(expr, SAInteger())
    return cast(func.trunc(cast(expr, Numeric())), SAInteger())


def greatest(a: Any, b: Any, dialect: str) -> Any:
    """The larger of two non-blank values."""
    return func.max(a, b) if dialect == "sqlite" else func.greatest(a, b)


def power_of_ten(digits: Any, dialect: str) -> Any:
    return func.pow(literal(10), digits) if dialect == "sqlite" \
        else func.power(literal(10, Numeric()), digits)


def position(search: Any, text: Any, dialect: str) -> Any:
    """1-based position of search in text (0 when absent); blank text is ''."""
    search, text = blank_text(search), blank_text(text)
    return func.instr(text, search) if dialect == "sqlite" else func.strpos(text, search)


def equal(left: Any, right: Any, lt: FType | None, rt: FType | None, dialect: str) -> Any:
    """`=` as the formula language means it: blank equals blank (and "") and never NULL."""
    if lt in TEXTISH or rt in TEXTISH:
        return blank_text(left) == blank_text(right)
    if lt is FType.NULL or is_null_literal(left):
        return right.is_(None)
    if rt is FType.NULL or is_null_literal(right):
        return left.is_(None)
    return or_(and_(left.is_(None), right.is_(None)), truthy(left == right))


def date_literal(value: dt.date, dialect: str) -> Any:
    if dialect == "sqlite":
        return literal(value.isoformat(), String())
    return literal(value, Date())


def datetime_literal(value: dt.datetime, dialect: str) -> Any:
    naive = value.astimezone(dt.UTC).replace(tzinfo=None)
    if dialect == "sqlite":
        return func.julianday(literal(naive.strftime("%Y-%m-%d %H:%M:%S.%f"), String()))
    return literal(naive, DateTime())


def datetime_column(expr: Any, dialect: str) -> Any:
    """A stored datetime as the back end's working representation."""
    return func.julianday(expr) if dialect == "sqlite" else expr


def add_days_to_date(date: Any, days: Any, dialect: str) -> Any:
    if dialect == "sqlite":
        return func.date(date, cast(integer(days, dialect), String()).concat(literal(" days")))
    return date + integer(days, dialect)


def add_days_to_datetime(value: Any, days: Any, dialect: str) -> Any:
    if dialect == "sqlite":
        return value + days
    return value + cast(days, Float()) * literal_column("interval '1 day'")


def days_between_dates(a: Any, b: Any, dialect: str) -> Any:
    if dialect == "sqlite":
        return exact(func.julianday(a) - func.julianday(b), dialect)
    return a - b


def days_between_datetimes(a: Any, b: Any, dialect: str) -> Any:
    if dialect == "sqlite":
        return exact(a - b, dialect)
    return func.extract("epoch", a - b) / literal(86400, Numeric())


def date_part(part: str, value: Any, dialect: str) -> Any:
    """year/month/day/hour/minute/dow of a date or datetime, as an integer."""
    if dialect == "sqlite":
        fmt = {"year": "%Y", "month": "%m", "day": "%d", "hour": "%H", "minute": "%M",
               "dow": "%w"}[part]
        return cast(func.strftime(fmt, value), SAInteger())
    return cast(func.extract(part, value), SAInteger())


def make_date(year: Any, month: Any, day: Any, dialect: str) -> Any:
    """DATE(year, month, day); NULL for a day that does not exist (Python: an error)."""
    if dialect == "sqlite":
        # date() keeps '2020-02-30' as it is but a modifier rolls it over to March:
        # a real date is one that survives '+0 days' unchanged
        text = func.printf(literal("%04d-%02d-%02d"), year, month, day)
        valid = and_(func.date(text, literal("+0 days")) == text, text >= literal("0001-01-01"))
        return case((valid, text), else_=None)
    y, m, d = (integer(v, dialect) for v in (year, month, day))
    first = func.make_date(y, m, literal(1))
    value = first + (d - literal(1))
    in_range = and_(y.between(1, 9999), m.between(1, 12), d.between(1, 31))
    same_month = cast(func.extract("month", value), SAInteger()) == m
    return case((in_range, case((same_month, value), else_=None)), else_=None)


def date_of_datetime(value: Any, dialect: str) -> Any:
    return func.date(value) if dialect == "sqlite" else cast(value, Date())


def datetime_of_date(value: Any, dialect: str) -> Any:
    return func.julianday(value) if dialect == "sqlite" else cast(value, DateTime())


def add_months(value: Any, months: Any, is_datetime: bool, dialect: str) -> Any:
    """ADDMONTHS: the same day of the month, clamped to the target month's last day."""
    count = integer(months, dialect)
    if dialect == "postgresql":
        shifted = value + count * literal_column("interval '1 month'")
        return shifted if is_datetime else cast(shifted, Date())
    day = date_part("day", value, dialect)
    first = func.date(value, literal("start of month"), cast(count, String()).concat(literal(" months")))
    same_day = func.date(first, cast(day - literal(1), String()).concat(literal(" days")))
    month_end = func.date(first, literal("+1 months"), literal("-1 days"))
    result = func.min(same_day, month_end)
    if not is_datetime:
        return result
    return func.julianday(result) + (value - func.julianday(func.date(value)))


def float_of(expr: Any) -> Any:
    return cast(expr, Float())
