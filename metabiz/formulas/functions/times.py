"""Times of day and durations: HOUR MINUTE SECOND MILLISECOND (of a datetime or a time)
TIMEVALUE TIMENOW FORMATDURATION. A time is shown HH:MM:SS; in SQL it is milliseconds after
midnight (an integer), so that comparing and counting with it is exact on both databases.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Float, case, cast, func, literal, null

from metabiz.formulas.ftypes import FType
from metabiz.formulas.functions.math import blank_safe
from metabiz.formulas.functions.registry import (
    BOOL,
    DATETIME,
    NUM,
    TEXT,
    TIME,
    SqlCall,
    expect,
    fixed,
    node_error,
    register,
)
from metabiz.formulas.functions.sql_support import (
    bind,
    date_part,
    pad_digits,
    time_parts,
    two_digits,
    whole,
    whole_text,
)
from metabiz.formulas.nodes import Call
from metabiz.formulas.values import (
    as_decimal,
    as_int,
    ms_of_time,
    parse_time,
    utc,
)

DAY_SECONDS = 86400


def _time_of(value: Any) -> dt.time:
    """A datetime's UTC time of day, or the time itself, to the millisecond."""
    if isinstance(value, dt.datetime):
        value = utc(value).time()
    return value.replace(microsecond=value.microsecond // 1000 * 1000, tzinfo=None)


def _part(index: int) -> Callable[[Any], Decimal]:
    def part(value: Any) -> Decimal:
        ms = ms_of_time(_time_of(value))
        return as_decimal((ms // 3_600_000, ms // 60_000 % 60, ms // 1000 % 60, ms % 1000)[index])

    return part


def _datetime_ms_sql(value: Any, dialect: str) -> Any:
    """A datetime's time of day in milliseconds (cut to the millisecond)."""
    return bind([value], lambda v: _datetime_ms_of(v, dialect))


def _datetime_ms_of(value: Any, dialect: str) -> Any:
    if dialect == "sqlite":
        # strftime works on the value rounded to the millisecond: %f is "SS.SSS"
        seconds = func.round(cast(func.strftime(literal("%f"), value), Float()) * 1000)
        return (date_part("hour", value, dialect) * 60 + date_part("minute", value, dialect)) \
            * 60_000 + whole(seconds)
    since_midnight = value - func.date_trunc("day", value)
    return cast(func.floor(func.extract("epoch", since_midnight) * 1000), BigInteger())


def _part_sql(index: int) -> Callable[[SqlCall], Any]:
    def build(c: SqlCall) -> Any:
        value, d = c.args[0], c.dialect
        if c.types[0] is FType.DATETIME:
            if index < 3:
                return date_part(("hour", "minute", "second")[index], value, d)
            value = _datetime_ms_sql(value, d)
        return time_parts(value)[index]

    return build


def _timevalue(value: Any) -> dt.time:
    if isinstance(value, dt.datetime):
        return _time_of(value)
    return parse_time(str(value), "TIMEVALUE")


def _timevalue_sql(c: SqlCall) -> Any:
    return _datetime_ms_sql(c.args[0], c.dialect)


def _timenow(ctx: Any, args: Sequence[Any], node: Call) -> dt.time:
    return _time_of(ctx.current_time())


def _timenow_sql(c: SqlCall) -> Any:
    return literal(ms_of_time(_time_of(c.now)))


def _not_text(types: Sequence[FType]) -> bool:
    """Reading text into a time stays in Python, as for DATEVALUE."""
    return types[0] is not FType.TEXT and types[0] is not FType.PICKLIST


# -- FORMATDURATION ---------------------------------------------------------------------------

def _formatduration_type(types: Sequence[FType], node: Call) -> FType:
    first = types[0]
    if first in (FType.DATETIME, FType.TIME):
        if len(types) != 2:
            raise node_error(node, f"FORMATDURATION of a {first.label} needs an end: "
                                   "FORMATDURATION(start, end)")
        expect(node, types, 1, frozenset({first}))
        return FType.TEXT
    expect(node, types, 0, NUM | DATETIME | TIME)
    if len(types) == 2:
        expect(node, types, 1, BOOL)
    return FType.TEXT


def _duration_text(seconds: int, days: bool | None) -> str:
    """H:MM:SS pieces: `days` True always shows days, False never, None from one day."""
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    rest = seconds % DAY_SECONDS
    clock = f"{rest // 3600 % 24:02d}:{rest // 60 % 60:02d}:{rest % 60:02d}"
    day_count = seconds // DAY_SECONDS
    if days is False:
        return f"{sign}{seconds // 3600:02d}:{rest // 60 % 60:02d}:{rest % 60:02d}"
    if days or day_count:
        return f"{sign}{day_count}:{clock}"
    return sign + clock


_ONE_ARGUMENT = object()


def _formatduration(first: Any, second: Any = _ONE_ARGUMENT) -> str | None:
    if first is None:
        return None
    if isinstance(first, Decimal):
        days = None if second is _ONE_ARGUMENT else second is True
        return _duration_text(as_int(first), days)
    if second is None:
        return None
    if isinstance(first, dt.datetime):
        delta = utc(second) - utc(first)
        micro = (delta.days * DAY_SECONDS + delta.seconds) * 1_000_000 + delta.microseconds
        return _duration_text(_cut(micro, 1_000_000), True)
    ms = ms_of_time(_time_of(second)) - ms_of_time(_time_of(first))
    return _duration_text(_cut(ms, 1000), True)


def _cut(amount: int, unit: int) -> int:
    """amount / unit, cut towards zero (as SQL's integer division)."""
    whole_units = abs(amount) // unit
    return -whole_units if amount < 0 else whole_units


def _formatduration_sql(c: SqlCall) -> Any:
    d, kind = c.dialect, c.types[0]
    if kind is FType.NULL or (kind is not FType.NUMBER and FType.NULL in c.types):
        return null()
    days: Any = None
    if kind is FType.DATETIME:
        if d == "sqlite":
            ms = whole(func.round((c.args[1] - c.args[0]) * 86_400_000))
            seconds = ms // 1000  # integer division: cuts towards zero
        else:
            seconds = cast(func.trunc(func.extract("epoch", c.args[1] - c.args[0])),
                           BigInteger())
        days = True
    elif kind is FType.TIME:
        seconds = whole(c.args[1] - c.args[0]) // 1000
        days = True
    else:
        seconds = whole(func.trunc(c.args[0]))
        if len(c.args) == 2:
            days = func.coalesce(c.args[1], literal(False))
    if days is None or days is True:
        return bind([seconds], lambda s: _duration_sql(s, days, d))
    return bind([seconds, days], lambda s, flag: _duration_sql(s, flag, d))


def _duration_sql(seconds: Any, days: Any, d: str) -> Any:
    size = case((seconds < 0, -seconds), else_=seconds)
    sign = case((seconds < 0, literal("-")), else_=literal(""))
    rest = size % DAY_SECONDS
    minutes_seconds = literal(":").concat(two_digits(rest // 60 % 60, d)).concat(
        literal(":")).concat(two_digits(rest % 60, d))
    clock = two_digits(rest // 3600, d).concat(minutes_seconds)
    with_days = whole_text(size // DAY_SECONDS, d).concat(literal(":")).concat(clock)
    hours = pad_digits(size // 3600, 2, d).concat(minutes_seconds)
    text: Any = with_days
    if days is None:
        text = case((size >= DAY_SECONDS, with_days), else_=clock)
    elif days is not True:
        text = case((days, with_days), else_=hours)
    return sign.concat(text)


register("HOUR", 1, 1, fixed([DATETIME | TIME], FType.NUMBER), blank_safe(_part(0)),
         _part_sql(0), summary="HOUR(datetime or time): 0 to 23 (UTC)")
register("MINUTE", 1, 1, fixed([DATETIME | TIME], FType.NUMBER), blank_safe(_part(1)),
         _part_sql(1), summary="MINUTE(datetime or time): 0 to 59")
register("SECOND", 1, 1, fixed([DATETIME | TIME], FType.NUMBER), blank_safe(_part(2)),
         _part_sql(2), summary="SECOND(datetime or time): 0 to 59")
register("MILLISECOND", 1, 1, fixed([DATETIME | TIME], FType.NUMBER), blank_safe(_part(3)),
         _part_sql(3), summary="MILLISECOND(datetime or time): 0 to 999")
register("TIMEVALUE", 1, 1, fixed([TEXT | DATETIME], FType.TIME), blank_safe(_timevalue),
         _timevalue_sql, sql_accepts=_not_text,
         summary='TIMEVALUE(text or datetime): a time of day, TIMEVALUE("17:30:45.125")')
register("TIMENOW", 0, 0, fixed([], FType.TIME), _timenow, _timenow_sql, lazy=True,
         summary="TIMENOW(): the current time of day (UTC)")
register("FORMATDURATION", 1, 2, _formatduration_type, _formatduration, _formatduration_sql,
         summary="FORMATDURATION(seconds[, include_days]) or "
                            "FORMATDURATION(start, end): HH:MM:SS, D:HH:MM:SS from one day")
