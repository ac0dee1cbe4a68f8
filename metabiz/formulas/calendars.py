"""Business calendars: which dates are working days, and counting them (NETWORKDAYS, WORKDAY).

A working day is a Monday to Friday that is not a holiday, or a Saturday or Sunday listed
as a working day (China's 调休). Days are counted on ordinals (`date.toordinal()`, 1 for
0001-01-01, a Monday) so that the SQL back end can do the same integer arithmetic.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: milliseconds in a day
DAY_MS = 86_400_000

#: "HH:MM" from 00:00 to 24:00
_CLOCK = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$|^24:00$")


def zone_offset(name: str | None) -> int:
    """The UTC offset of a time zone without daylight saving time, in milliseconds
    (ValueError for a zone whose offset changes from 2000 to 2037, or an unknown one)."""
    if name is None:
        return 0
    try:
        tz = zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None
    offsets = {dt.datetime(year, month, 15, 12, tzinfo=tz).utcoffset()
               for year in range(2000, 2038) for month in (1, 4, 7, 10)}
    if len(offsets) != 1:
        raise ValueError(f"working hours need a time zone without daylight saving time; "
                         f"{name!r} changes its clocks")
    offset = offsets.pop()
    assert offset is not None
    return offset // dt.timedelta(milliseconds=1)


def parse_hours(raw: Any) -> tuple[int, int]:
    """`["09:00", "18:00"]` as (start, end) in milliseconds after midnight (ValueError)."""
    if not isinstance(raw, list) or len(raw) != 2 or not all(
            isinstance(x, str) and _CLOCK.match(x) for x in raw):
        raise ValueError("hours must be a start and an end time, e.g. [\"09:00\", \"18:00\"]")
    start, end = ((int(x[:2]) * 60 + int(x[3:])) * 60_000 for x in raw)
    if start >= end:
        raise ValueError(f"hours: the end {raw[1]} must come after the start {raw[0]}")
    return start, end


#: a W (working-day index) no date reaches: the end of the last segment
UNREACHED = 10**9


def plain_index(ordinal: int) -> int:
    """How many Mondays to Fridays there are from 0001-01-01 (a Monday) to `ordinal`."""
    weeks, rest = divmod(ordinal - 1, 7)
    return 5 * weeks + min(rest, 4) + 1


def plain_inverse(count: int) -> int:
    """The ordinal of the `count`-th Monday to Friday (the first date whose plain_index
    reaches `count`)."""
    weeks, rest = divmod(count - 1, 5)
    return 7 * weeks + rest + 1


@dataclass(frozen=True)
class Segment:
    """Dates from `start` on (to the next exception) have W = plain_index + `shift`;
    `last_index` is W of the segment's last date."""

    start: int
    shift: int
    last_index: int


@dataclass(frozen=True)
class Calendar:
    """A named business calendar: holidays (on weekdays) and working weekend days.

    A holiday on a Saturday or Sunday, and a working day on a weekday, change nothing.
    """

    name: str
    holidays: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()
    #: working hours (start, end) in ms after local midnight; None: not declared
    hours: tuple[int, int] | None = None
    #: the app's time zone, in which the hours are read, as a UTC offset in ms
    offset: int = 0
    #: the dates whose status differs from Monday-to-Friday: (ordinal, +1 or -1), sorted
    exceptions: tuple[tuple[int, int], ...] = field(init=False, repr=False, compare=False)
    segments: tuple[Segment, ...] = field(init=False, repr=False, compare=False)
    _starts: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _ends: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        both = sorted(self.holidays & self.workdays)
        if both:
            raise ValueError(f"calendar {self.name!r}: {both[0].isoformat()} is both a "
                             "holiday and a working day")
        changes = [(d.toordinal(), -1) for d in self.holidays if d.isoweekday() <= 5]
        changes += [(d.toordinal(), 1) for d in self.workdays if d.isoweekday() > 5]
        changes.sort()
        segments = [Segment(1, 0, 0)]
        for ordinal, delta in changes:
            segments.append(Segment(ordinal, segments[-1].shift + delta, 0))
        closed = []
        for here, after in zip(segments, [*segments[1:], None], strict=True):
            last = UNREACHED if after is None else plain_index(after.start - 1) + here.shift
            closed.append(Segment(here.start, here.shift, last))
        object.__setattr__(self, "exceptions", tuple(changes))
        object.__setattr__(self, "segments", tuple(closed))
        object.__setattr__(self, "_starts", tuple(s.start for s in closed))
        object.__setattr__(self, "_ends", tuple(s.last_index for s in closed))

    @classmethod
    def from_json(cls, name: str, raw: Any, timezone: str | None = None) -> Calendar:
        """A calendar from app.json: `{"holidays": ["2026-10-01", …], "workdays": [...],
        "hours": ["09:00", "18:00"]}`, its hours read in `timezone` (None: UTC).

        ValueError names the offending entry (`holidays[3]: …`)."""
        if not isinstance(raw, Mapping):
            raise ValueError(f"calendar {name!r} must be an object with \"holidays\" and "
                             "\"workdays\"")
        unknown = sorted(set(raw) - {"holidays", "workdays", "hours"})
        if unknown:
            raise ValueError(f"calendar {name!r}: unknown key {unknown[0]!r} (expected "
                             "\"holidays\", \"workdays\" and \"hours\")")
        hours, offset = None, 0
        if "hours" in raw:
            try:
                hours, offset = parse_hours(raw["hours"]), zone_offset(timezone)
            except ValueError as err:
                raise ValueError(f"calendar {name!r}: {err}") from None
        days: dict[str, frozenset[dt.date]] = {}
        for key in ("holidays", "workdays"):
            entries = raw.get(key, [])
            if not isinstance(entries, list):
                raise ValueError(f"calendar {name!r}: {key} must be a list of dates")
            parsed = []
            for index, entry in enumerate(entries):
                try:
                    if not isinstance(entry, str) or len(entry) != 10:
                        raise ValueError
                    parsed.append(dt.date.fromisoformat(entry))
                except ValueError:
                    raise ValueError(f"calendar {name!r}: {key}[{index}]: {entry!r} is not a "
                                     "date (YYYY-MM-DD)") from None
            days[key] = frozenset(parsed)
        return cls(name, days["holidays"], days["workdays"], hours, offset)

    # -- working days -------------------------------------------------------------------
    def is_working_day(self, day: dt.date) -> bool:
        if day in self.holidays:
            return False
        return day.isoweekday() <= 5 or day in self.workdays

    def index(self, ordinal: int) -> int:
        """W: how many working days there are up to `ordinal` (from an arbitrary origin)."""
        segment = self.segments[bisect.bisect_right(self._starts, ordinal) - 1]
        return plain_index(ordinal) + segment.shift

    def first_reaching(self, count: int) -> int:
        """The first ordinal whose W reaches `count`: always a working day."""
        segment = self.segments[bisect.bisect_left(self._ends, count)]
        return max(segment.start, plain_inverse(count - segment.shift))

    def networkdays(self, start: dt.date, end: dt.date) -> int:
        """Working days from start to end, both included; negative when end is earlier."""
        first, last = start.toordinal(), end.toordinal()
        if first <= last:
            return self.index(last) - self.index(first - 1)
        return -(self.index(first) - self.index(last - 1))

    def workday(self, start: dt.date, days: int) -> dt.date:
        """The `days`-th working day after start (before it when negative; start for 0)."""
        if days == 0:
            return start
        ordinal = start.toordinal()
        # forward: W(start) + days; back: W of the day before start, moved back `days`
        target = self.index(ordinal) + days if days > 0 else self.index(ordinal - 1) + days + 1
        return dt.date.fromordinal(self.first_reaching(target))

    # -- working hours ------------------------------------------------------------------
    def add_work_ms(self, utc_ms: int, amount: int) -> int:
        """The moment (ms from 0001-01-01 00:00 UTC) `amount` ms of working time after
        `utc_ms`, counted within the hours of working days (self.hours must be set)."""
        assert self.hours is not None
        start, end = self.hours
        day, clock = divmod(utc_ms + self.offset, DAY_MS)
        working = self.index(day) - self.index(day - 1) == 1
        if working and clock < start:
            clock = start
        elif not working or clock >= end:  # the next working day's start
            day, clock = self.first_reaching(self.index(day) + 1), start
        amount = max(amount, 0)
        if amount <= end - clock:
            return day * DAY_MS + clock + amount - self.offset
        whole, rest = divmod(amount - (end - clock), end - start)
        if rest == 0:
            day, clock = self.first_reaching(self.index(day) + whole), end
        else:
            day, clock = self.first_reaching(self.index(day) + whole + 1), start + rest
        return day * DAY_MS + clock - self.offset


#: Monday to Friday, no holidays: what NETWORKDAYS and WORKDAY use without a calendar
WEEKDAYS = Calendar("")
