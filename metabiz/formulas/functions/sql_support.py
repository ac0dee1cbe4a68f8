"""The dialect differences the SQL back end needs, in one small place (SQLite, PostgreSQL).

On SQLite, dates are 'YYYY-MM-DD' text and datetimes are handled as Julian day numbers,
so that arithmetic and comparisons are plain numbers; on PostgreSQL they are native types.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import Float, Numeric, String, cast, false, func, literal, literal_column
from sqlalchemy import Integer as SAInteger


def truthy(expr: Any) -> Any:
    """A boolean that is never NULL: blank counts as false (IF, AND, OR, NOT, filters)."""
    return func.coalesce(expr, false())


def number_literal(value: Decimal, dialect: str) -> Any:
    if dialect == "sqlite":
        return literal(int(value) if value == value.to_integral_value() else float(value))
    return literal(value, Numeric())


def text_literal(value: str) -> Any:
    return literal(value, String())


def numeric(expr: Any, dialect: str) -> Any:
    """Make sure division and rounding do not run as integer arithmetic."""
    if dialect == "sqlite":
        return expr * literal(1.0)
    return cast(expr, Numeric())


def integer(expr: Any, dialect: str) -> Any:
    """Truncate towards zero, as Python's int() does."""
    if dialect == "sqlite":
        return cast(expr, SAInteger())
    return cast(func.trunc(cast(expr, Numeric())), SAInteger())


def date_literal(value: dt.date, dialect: str) -> Any:
    if dialect == "sqlite":
        return literal(value.isoformat(), String())
    return literal(value)


def datetime_literal(value: dt.datetime, dialect: str) -> Any:
    naive = value.astimezone(dt.UTC).replace(tzinfo=None)
    if dialect == "sqlite":
        return func.julianday(literal(naive.strftime("%Y-%m-%d %H:%M:%S.%f"), String()))
    return literal(naive)


def datetime_column(expr: Any, dialect: str) -> Any:
    """A stored datetime as the back end's working representation."""
    return func.julianday(expr) if dialect == "sqlite" else expr


def add_days_to_date(date: Any, days: Any, dialect: str) -> Any:
    if dialect == "sqlite":
        return func.date(date, cast(integer(days, dialect), String()) + literal(" days"))
    return date + integer(days, dialect)


def add_days_to_datetime(value: Any, days: Any, dialect: str) -> Any:
    if dialect == "sqlite":
        return value + days
    return value + days * literal_column("interval '1 day'")


def days_between_dates(a: Any, b: Any, dialect: str) -> Any:
    if dialect == "sqlite":
        return func.julianday(a) - func.julianday(b)
    return a - b


def days_between_datetimes(a: Any, b: Any, dialect: str) -> Any:
    if dialect == "sqlite":
        return a - b
    return func.extract("epoch", a - b) / literal(86400, Numeric())


def date_part(part: str, value: Any, dialect: str) -> Any:
    """year/month/day/hour/minute/dow of a date or datetime, as an integer."""
    if dialect == "sqlite":
        fmt = {"year": "%Y", "month": "%m", "day": "%d", "hour": "%H", "minute": "%M",
               "dow": "%w"}[part]
        return cast(func.strftime(fmt, value), SAInteger())
    return cast(func.extract(part, value), SAInteger())


def float_of(expr: Any) -> Any:
    return cast(expr, Float())
