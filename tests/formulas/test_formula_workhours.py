"""ADDWORKHOURS: working hours of a business calendar, against walking day by day, the
same on the Python back end, SQLite and PostgreSQL, and its errors at apply.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

import pytest
from formula_harness import Databases, normalise, same
from sqlalchemy import Column, DateTime, Integer, MetaData, Numeric, Table, select

from metabiz.errors import FormulaError
from metabiz.formulas import (
    Calendar,
    DictCatalog,
    EvalContext,
    FieldSpec,
    FType,
    check,
    compile_python,
    compile_sql,
)
from metabiz.formulas.functions.sql_support import datetime_literal
from metabiz.platform.metadata.crosscheck import calendar_problems

UTC = dt.UTC
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
#: China's 2026 National Day (1-7 October off, Saturday 10 October worked), 09:00-18:00
CN = Calendar.from_json("cn", {
    "holidays": [f"2026-10-0{day}" for day in range(1, 8)], "workdays": ["2026-10-10"],
    "hours": ["09:00", "18:00"]}, "Asia/Shanghai")
PLAIN = Calendar.from_json("plain", {})
FIELDS = {"start": FieldSpec("start", FType.DATETIME), "hours": FieldSpec("hours", FType.NUMBER)}
CATALOG = DictCatalog({"shift": FIELDS}, calendars={"cn": CN, "plain": PLAIN})
FORMULA = check('ADDWORKHOURS(start, hours, "cn")', CATALOG, "shift")


def walk_day_by_day(calendar: Calendar, start: dt.datetime, hours: Decimal) -> dt.datetime:
    """Working time used day by day, in Shanghai time (no closed form)."""
    local = start.astimezone(SHANGHAI)
    remaining = dt.timedelta(milliseconds=int(max(hours, Decimal(0)) * 3_600_000))
    moment = local
    while True:
        day = moment.date()
        if calendar.is_working_day(day):
            opens = dt.datetime.combine(day, dt.time(9), SHANGHAI)
            closes = dt.datetime.combine(day, dt.time(18), SHANGHAI)
            begin = max(moment, opens)
            if begin < closes:
                if remaining <= closes - begin:
                    return (begin + remaining).astimezone(UTC)
                remaining -= closes - begin
        moment = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), SHANGHAI)


def python_value(start: Any, hours: Any) -> Any:
    ctx = EvalContext(record={"start": start, "hours": hours}, resolve=lambda path: None)
    return compile_python(FORMULA)(ctx)


def _local(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI).astimezone(UTC)


@pytest.mark.parametrize(("start", "hours", "due"), [
    ("2026-12-04 17:00", "4", "2026-12-07 12:00"),   # Friday evening: Monday noon
    ("2026-12-04 08:00", "4", "2026-12-04 13:00"),   # before hours: from 09:00
    ("2026-12-04 19:30", "1.5", "2026-12-07 10:30"),  # after hours: from Monday 09:00
    ("2026-12-05 11:00", "9", "2026-12-07 18:00"),   # Saturday: a whole Monday, to 18:00
    ("2026-09-30 17:00", "2", "2026-10-08 10:00"),   # across the National Day week
    ("2026-10-09 16:00", "3", "2026-10-10 10:00"),   # Saturday 10 October is worked (调休)
    ("2026-12-07 10:00", "0", "2026-12-07 10:00"),
    ("2026-12-06 10:00", "0", "2026-12-07 09:00"),   # no time: the next working moment
    ("2026-12-07 10:00", "-3", "2026-12-07 10:00"),  # negative hours count as none
])
def test_working_hours_on_china_s_calendar(start: str, hours: str, due: str) -> None:
    assert python_value(_local(start), Decimal(hours)) == _local(due)


def test_blank_start_or_hours_is_blank() -> None:
    assert python_value(None, Decimal(4)) is None
    assert python_value(_local("2026-12-07 10:00"), None) is None


METADATA = MetaData()
SHIFT = Table("shift", METADATA, Column("id", Integer, primary_key=True),
              Column("start", DateTime), Column("hours", Numeric(18, 4)))


def _rows() -> list[dict[str, Any]]:
    rng = random.Random(21)
    first = dt.datetime(2026, 9, 18, tzinfo=UTC)
    rows: list[dict[str, Any]] = [
        {"id": 1, "start": None, "hours": Decimal(4)},
        {"id": 2, "start": first, "hours": None}]
    for index in range(3, 400):
        start = first + dt.timedelta(minutes=rng.randrange(0, 40 * 24 * 60),
                                     milliseconds=rng.choice([0, 0, rng.randrange(60_000)]))
        hours = Decimal(rng.randrange(-4, 200)) / rng.choice([1, 1, 4, 100])
        rows.append({"id": index, "start": start, "hours": hours})
    return rows


def test_python_sqlite_and_postgresql_agree_with_walking(databases: Databases) -> None:
    rows = _rows()
    expected = {}
    for row in rows:
        got = python_value(row["start"], row["hours"])
        if row["start"] is not None and row["hours"] is not None:
            assert got == walk_day_by_day(CN, row["start"], row["hours"]), row
        expected[row["id"]] = got
    for db in databases:
        METADATA.create_all(db.engine)
        with db.engine.begin() as conn:
            conn.execute(SHIFT.delete())
            conn.execute(SHIFT.insert(), [
                {**r, "start": r["start"] and r["start"].replace(tzinfo=None)} for r in rows])
            expr = compile_sql(FORMULA, lambda path: SHIFT.c[path[0]], db.dialect)
            found = {i: normalise(v, FType.DATETIME, db.dialect)
                     for i, v in conn.execute(select(SHIFT.c.id, expr)).all()}
            ordered = {r[0] for r in conn.execute(
                select(SHIFT.c.id).where(expr > datetime_literal(_local("2026-10-08 12:00"),
                                                                 db.dialect)))}
        for key, value in expected.items():
            assert same(found[key], value), (db.dialect, key, found[key], value)
        assert ordered == {k for k, v in expected.items()
                           if v is not None and v > _local("2026-10-08 12:00")}


def test_unknown_calendar_or_one_without_hours_is_a_type_error_where_it_is_named() -> None:
    for source, message in [
        ('ADDWORKHOURS(start, 4, "mars")', "unknown calendar 'mars'"),
        ('ADDWORKHOURS(start, 4, "plain")', "calendar 'plain' has no working hours"),
        ("ADDWORKHOURS(start, 4)", "ADDWORKHOURS"),
        ('ADDWORKHOURS(hours, 4, "cn")', "ADDWORKHOURS"),
    ]:
        with pytest.raises(FormulaError) as caught:
            check(source, CATALOG, "shift")
        assert caught.value.kind == "check" and message in str(caught.value)
    with pytest.raises(FormulaError) as caught:
        check('ADDWORKHOURS(start, 4,\n  "mars")', CATALOG, "shift")
    assert (caught.value.line, caught.value.column) == (2, 3)


def test_app_json_hours_are_checked() -> None:
    assert CN.hours == (9 * 3_600_000, 18 * 3_600_000) and CN.offset == 8 * 3_600_000
    for raw, zone, message in [
        ({"hours": ["09:00"]}, None, "hours must be a start and an end time"),
        ({"hours": ["18:00", "09:00"]}, None, "the end 09:00 must come after the start 18:00"),
        ({"hours": ["9:00", "18:00"]}, None, "hours must be a start and an end time"),
        ({"hours": ["09:00", "18:00"]}, "Europe/Berlin", "without daylight saving time"),
    ]:
        with pytest.raises(ValueError) as caught:
            Calendar.from_json("cn", raw, zone)
        assert message in str(caught.value)


def test_app_json_hours_problems_name_their_pointer() -> None:
    assert list(calendar_problems({"cn": {"hours": ["09:00", "18:00"]}}, "Asia/Shanghai")) == []
    assert list(calendar_problems({"cn": {"hours": ["18:00", "09:00"]}}, None)) == [
        (("calendars", "cn", "hours"), "hours: the end 09:00 must come after the start 18:00")]
    [(where, message)] = calendar_problems({"cn": {"hours": ["09:00", "18:00"]}},
                                           "America/New_York")
    assert where == ("calendars", "cn", "hours")
    assert "working hours need a time zone without daylight saving time" in message
