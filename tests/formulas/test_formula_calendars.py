"""Business calendars: app.json's declaration, and NETWORKDAYS / WORKDAY against counting day
by day (Hypothesis), on random calendars and on China's 2026 National Day week.
"""

from __future__ import annotations

import datetime as dt

import pytest
from formula_harness import CN
from hypothesis import given, settings
from hypothesis import strategies as st

from metabiz.formulas import Calendar
from metabiz.formulas.calendars import WEEKDAYS


def _working(calendar: Calendar, day: dt.date) -> bool:
    if day in calendar.holidays:
        return False
    return day.weekday() < 5 or day in calendar.workdays


def count_day_by_day(calendar: Calendar, start: dt.date, end: dt.date) -> int:
    step = 1 if start <= end else -1
    days = (end - start).days * step + 1
    found = sum(_working(calendar, start + dt.timedelta(days=i * step)) for i in range(days))
    return found * step


def walk_day_by_day(calendar: Calendar, start: dt.date, count: int) -> dt.date:
    day, step, moved = start, (1 if count > 0 else -1), 0
    while moved != count:
        day += dt.timedelta(days=step)
        if _working(calendar, day):
            moved += step
    return day


near = st.dates(min_value=dt.date(2025, 12, 1), max_value=dt.date(2027, 2, 1))
calendars = st.builds(
    lambda name, holidays, workdays: Calendar(name, frozenset(holidays),
                                              frozenset(workdays) - frozenset(holidays)),
    st.just("random"), st.sets(near, max_size=25), st.sets(near, max_size=10))


@settings(max_examples=300, deadline=None)
@given(st.one_of(calendars, st.just(CN), st.just(WEEKDAYS)), near, near,
       st.integers(-60, 60))
def test_counting_and_moving_agree_with_walking_day_by_day(calendar: Calendar, start: dt.date,
                                                          end: dt.date, count: int) -> None:
    assert calendar.networkdays(start, end) == count_day_by_day(calendar, start, end)
    assert calendar.workday(start, count) == (start if count == 0 else
                                              walk_day_by_day(calendar, start, count))


def test_the_national_day_week_with_its_worked_saturday() -> None:
    week = [dt.date(2026, 9, 28) + dt.timedelta(days=i) for i in range(14)]
    assert [d.day for d in week if CN.is_working_day(d)] == [28, 29, 30, 8, 9, 10]
    assert CN.is_working_day(dt.date(2026, 9, 20))  # a Sunday worked (调休)
    assert CN.workday(dt.date(2026, 9, 30), 3) == dt.date(2026, 10, 10)
    assert CN.workday(dt.date(2026, 10, 12), -1) == dt.date(2026, 10, 10)
    assert CN.networkdays(dt.date(2026, 9, 28), dt.date(2026, 10, 11)) == 6


def test_app_json_calendars_are_checked_entry_by_entry() -> None:
    calendar = Calendar.from_json("cn", {"holidays": ["2026-10-01"], "workdays": ["2026-10-10"]})
    assert calendar.holidays == {dt.date(2026, 10, 1)} and calendar.workdays == {dt.date(2026, 10, 10)}
    assert Calendar.from_json("empty", {}).exceptions == ()
    for raw, message in [
        ([], "calendar 'cn' must be an object with \"holidays\" and \"workdays\""),
        ({"holiday": []}, "calendar 'cn': unknown key 'holiday'"),
        ({"holidays": "2026-10-01"}, "calendar 'cn': holidays must be a list of dates"),
        ({"holidays": ["2026-10-01", "2026-13-01"]},
         "calendar 'cn': holidays[1]: '2026-13-01' is not a date (YYYY-MM-DD)"),
        ({"workdays": [20261010]}, "calendar 'cn': workdays[0]: 20261010 is not a date"),
        ({"holidays": ["2026-10-10"], "workdays": ["2026-10-10"]},
         "calendar 'cn': 2026-10-10 is both a holiday and a working day"),
    ]:
        with pytest.raises(ValueError) as caught:
            Calendar.from_json("cn", raw)
        assert str(caught.value).startswith(message)
