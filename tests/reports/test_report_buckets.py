"""Date buckets day / ISO week / month / quarter / year, of dates and of datetimes in the app's
time zone (Asia/Shanghai in the test app), the same on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from metabiz.objects import records
from metabiz.reports.compiled import compile_report
from metabiz.reports.definitions import build_report
from metabiz.reports.engine import run


def grouped(ctx, group: dict, *, zone: str = "Asia/Shanghai", filter: str | None = None):
    doc = {"api_name": "probe", "object": "deal", "group_by": [group],
           "measures": [{"api_name": "n", "function": "count"}]}
    problems: list[str] = []
    compiled = compile_report(build_report(doc), ctx.schema, zone, problems)
    assert problems == [] and compiled is not None
    return run(ctx, compiled, filter=filter).rows


#: closed_at in UTC → Shanghai: d1 2025-12-28 23:30 (Sun), d2 2025-12-29 00:30 (Mon),
#: d3 2026-01-04 20:00 (Sun), d4 2026-04-01 01:00 (Wed); three deals have none
DATETIME_BUCKETS = {
    "day": [["2025-12-28", 1], ["2025-12-29", 1], ["2026-01-04", 1], ["2026-04-01", 1],
            [None, 3]],
    "week": [["2025-W52", 1], ["2026-W01", 2], ["2026-W14", 1], [None, 3]],
    "month": [["2025-12", 2], ["2026-01", 1], ["2026-04", 1], [None, 3]],
    "quarter": [["2025-Q4", 2], ["2026-Q1", 1], ["2026-Q2", 1], [None, 3]],
    "year": [["2025", 2], ["2026", 2], [None, 3]],
}

#: close_date: 2026-01-15, 01-31, 02-01, 03-31, 04-01, 04-15 and one blank
DATE_BUCKETS = {
    "day": [["2026-01-15", 1], ["2026-01-31", 1], ["2026-02-01", 1], ["2026-03-31", 1],
            ["2026-04-01", 1], ["2026-04-15", 1], [None, 1]],
    "week": [["2026-W03", 1], ["2026-W05", 2], ["2026-W14", 2], ["2026-W16", 1], [None, 1]],
    "month": [["2026-01", 2], ["2026-02", 1], ["2026-03", 1], ["2026-04", 2], [None, 1]],
    "quarter": [["2026-Q1", 4], ["2026-Q2", 2], [None, 1]],
    "year": [["2026", 6], [None, 1]],
}


@pytest.mark.parametrize("bucket", sorted(DATETIME_BUCKETS))
def test_datetime_buckets_in_the_app_time_zone(work, bucket):
    with work() as ctx:
        assert grouped(ctx, {"field": "closed_at", "bucket": bucket}) == DATETIME_BUCKETS[bucket]


@pytest.mark.parametrize("bucket", sorted(DATE_BUCKETS))
def test_date_buckets(work, bucket):
    with work() as ctx:
        assert grouped(ctx, {"field": "close_date", "bucket": bucket}) == DATE_BUCKETS[bucket]


def test_the_time_zone_moves_a_late_evening_across_the_week_and_year(work):
    with work() as ctx:
        in_utc = grouped(ctx, {"field": "closed_at", "bucket": "week"}, zone="UTC")
    assert in_utc == [["2025-W52", 2], ["2026-W01", 1], ["2026-W14", 1], [None, 3]]


def test_a_zone_with_daylight_saving_follows_its_offset(work):
    """New York: 2026-03-31 17:00Z is 13:00 EDT (summer time), 2025-12-28 15:30Z 10:30 EST."""
    with work() as ctx:
        days = grouped(ctx, {"field": "closed_at", "bucket": "day"}, zone="America/New_York")
    assert days == [["2025-12-28", 2], ["2026-01-04", 1], ["2026-03-31", 1], [None, 3]]


def test_iso_weeks_across_year_ends(work):
    """2027-01-01 (a Friday) is in 2026's 53rd week; 2024-12-30 (a Monday) in 2025's first."""
    with work() as ctx:
        records.create_many(ctx, "deal", [{"name": "x1", "close_date": "2027-01-01"},
                                          {"name": "x2", "close_date": "2024-12-30"},
                                          {"name": "x3", "close_date": "2027-01-04"}])
        weeks = grouped(ctx, {"field": "close_date", "bucket": "week"},
                        filter="!ISBLANK(close_date) && YEAR(close_date) <> 2026")
    assert weeks == [["2025-W01", 1], ["2026-W53", 1], ["2027-W01", 1]]


def test_a_formula_key_and_a_field_across_a_lookup(work):
    with work() as ctx:
        by_industry = grouped(ctx, {"field": "account.industry"})
        big = grouped(ctx, {"formula": "IF(amount >= 100, \"big\", \"small\")",
                            "api_name": "size"})
        hot = grouped(ctx, {"field": "hot"})
    assert by_industry == [["tech", 2], ["retail", 2], [None, 3]]
    assert big == [["big", 3], ["small", 4]]  # a blank amount is not >= 100
    assert hot == [[False, 3], [True, 2], [None, 2]]


@pytest.mark.parametrize("group", [
    {"field": "closed_at", "bucket": "week"}, {"field": "closed_at", "bucket": "day"},
    {"field": "close_date", "bucket": "quarter"}, {"field": "hot"}, {"field": "stage"},
    {"field": "account.industry"}, {"formula": "amount >= 100", "api_name": "big"}])
def test_each_rows_drill_down_lists_exactly_its_records(work, group):
    """The filter a bar or row links to selects the records the row counted."""
    from metabiz.objects import query
    from metabiz.reports.presenting import drill_filter

    doc = {"api_name": "probe", "object": "deal", "group_by": [group],
           "measures": [{"api_name": "n", "function": "count"}]}
    with work("boss") as ctx:
        # exactly at a local midnight (Monday 2026-01-05 00:00 in Shanghai): the new week's
        records.create(ctx, "deal", {"name": "edge", "closed_at": "2026-01-04T16:00:00Z"})
        compiled = compile_report(build_report(doc), ctx.schema, "Asia/Shanghai", [])
        rows = run(ctx, compiled).rows
        if group == {"field": "closed_at", "bucket": "week"}:
            assert ["2026-W02", 1] in rows
        for key, count in rows:
            formula = drill_filter(compiled, [key], None)
            assert query.list_records(ctx, "deal", filter=formula).total == count, formula
