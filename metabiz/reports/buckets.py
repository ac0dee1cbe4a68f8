"""Date buckets of report keys: day, ISO week, month, quarter, year, in the app's time zone.

Datetimes are stored in UTC; a bucket is taken of the local date. PostgreSQL converts with its
own zone database; SQLite has none, so the zone's UTC offsets (from Python's zoneinfo) become a
balanced CASE over the transition instants, a handful of comparisons per row. Keys are text
(`2026-11-23`, `2026-W48`, `2026-11`, `2026-Q4`, `2026`), identical on both databases; `bounds`
turns a key back into the date range it covers (for the drill-down to the records).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Integer, String, case, cast, func, literal
from sqlalchemy.sql.elements import ColumnElement

#: the years whose offset changes SQLite follows (outside them, the nearest year's offset)
FIRST_YEAR, LAST_YEAR = 1970, 2100
#: julianday of 1970-01-01 00:00 UTC
UNIX_JULIAN = 2440587.5


@functools.cache
def transitions(zone: str) -> tuple[tuple[float, float], ...]:
    """(instant as a Julian day number, UTC offset in days from then on), first entry at the
    start of FIRST_YEAR; one entry for a zone that never changes its offset."""
    tz = ZoneInfo(zone)

    def offset(moment: dt.datetime) -> float:
        delta = moment.astimezone(tz).utcoffset() or dt.timedelta()
        return delta.total_seconds() / 86400

    start = dt.datetime(FIRST_YEAR, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(LAST_YEAR, 12, 31, tzinfo=dt.UTC)
    found = [(start, offset(start))]
    step = dt.timedelta(days=1)
    moment = start
    while moment < end:
        after = moment + step
        if offset(after) != found[-1][1]:
            low, high = moment, after  # the change happens in (low, high]
            while high - low > dt.timedelta(seconds=1):
                middle = low + (high - low) / 2
                if offset(middle) == found[-1][1]:
                    low = middle
                else:
                    high = middle
            exact = high.replace(microsecond=0)
            found.append((exact, offset(exact)))
        moment = after
    return tuple((UNIX_JULIAN + m.timestamp() / 86400, o) for m, o in found)


def local_date(value: Any, zone: str, dialect: str) -> ColumnElement[Any]:
    """The local date (SQLite: 'YYYY-MM-DD' text; PostgreSQL: a date) of a datetime in the
    formula back end's representation (SQLite: a Julian day number; PostgreSQL: naive UTC)."""
    if dialect == "postgresql":
        if zone == "UTC":
            return cast(value, Date())
        local = func.timezone(literal(zone, String()), func.timezone(literal("UTC"), value))
        return cast(local, Date())
    changes = transitions(zone)
    if len(changes) == 1 and changes[0][1] == 0:
        return func.date(value)
    return func.date(value + _offset_tree(value, changes))


def _offset_tree(value: Any, changes: tuple[tuple[float, float], ...]) -> Any:
    """The offset in force at `value`, as a balanced CASE (log2(len) comparisons per row)."""
    if len(changes) == 1:
        return literal(changes[0][1])
    middle = len(changes) // 2
    return case((value < literal(changes[middle][0]), _offset_tree(value, changes[:middle])),
                else_=_offset_tree(value, changes[middle:]))


def bucket_key(date: Any, bucket: str, dialect: str) -> ColumnElement[Any]:
    """The text key of a local date's bucket."""
    if dialect == "postgresql":
        fmt = {"day": "YYYY-MM-DD", "week": 'IYYY-"W"IW', "month": "YYYY-MM",
               "quarter": 'YYYY-"Q"Q', "year": "YYYY"}[bucket]
        return func.to_char(date, literal(fmt))
    if bucket in ("day", "month", "year"):
        fmt = {"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}[bucket]
        return func.strftime(literal(fmt), date)
    if bucket == "quarter":
        quarter = (cast(func.strftime(literal("%m"), date), Integer()) + 2) / 3
        return case((date.is_(None), None), else_=func.printf(
            literal("%s-Q%d"), func.strftime(literal("%Y"), date), quarter))
    # ISO week: the week's Thursday decides its year; Monday is day 0
    weekday = (cast(func.strftime(literal("%w"), date), Integer()) + 6) % 7
    thursday = func.date(date, cast(3 - weekday, String()).concat(literal(" days")))
    week = (cast(func.strftime(literal("%j"), thursday), Integer()) - 1) / 7 + 1
    return case((date.is_(None), None), else_=func.printf(
        literal("%s-W%02d"), func.strftime(literal("%Y"), thursday), week))


def day_text(date: Any, dialect: str) -> ColumnElement[Any]:
    """A date as 'YYYY-MM-DD' (a date key without a bucket)."""
    return bucket_key(date, "day", dialect)


_KEY = {
    "day": re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"),
    "week": re.compile(r"^(\d{4})-W(\d{2})$"),
    "month": re.compile(r"^(\d{4})-(\d{2})$"),
    "quarter": re.compile(r"^(\d{4})-Q([1-4])$"),
    "year": re.compile(r"^(\d{4})$"),
}


def bounds(key: str, bucket: str) -> tuple[dt.date, dt.date]:
    """The first day of a bucket and the first day after it (ValueError for a bad key)."""
    match = _KEY[bucket].match(key)
    if match is None:
        raise ValueError(f"{key!r} is not a {bucket} key")
    parts = [int(p) for p in match.groups()]
    if bucket == "day":
        first = dt.date(*parts)
        return first, first + dt.timedelta(days=1)
    if bucket == "week":
        first = dt.date.fromisocalendar(parts[0], parts[1], 1)
        return first, first + dt.timedelta(days=7)
    if bucket == "month":
        first = dt.date(parts[0], parts[1], 1)
        return first, _months_on(first, 1)
    if bucket == "quarter":
        first = dt.date(parts[0], 3 * parts[1] - 2, 1)
        return first, _months_on(first, 3)
    first = dt.date(parts[0], 1, 1)
    return first, _months_on(first, 12)


def _months_on(first: dt.date, months: int) -> dt.date:
    total = first.year * 12 + first.month - 1 + months
    return dt.date(total // 12, total % 12 + 1, 1)


def utc_start(day: dt.date, zone: str) -> dt.datetime:
    """The UTC instant a local day starts in `zone`."""
    local = dt.datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone))
    return local.astimezone(dt.UTC)


def valid_zone(zone: str) -> bool:
    try:
        ZoneInfo(zone)
    except (ValueError, KeyError, OSError):
        return False
    return True
