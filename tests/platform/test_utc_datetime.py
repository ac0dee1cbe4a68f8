"""`UTCDateTime`, the one column type for points in time: whatever offset a value comes with,
and whatever the database session's time zone, UTC is stored and naive UTC read back."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, Integer, MetaData, Table, func, insert, select, text
from sqlalchemy.engine import make_url

from metabiz.platform.db import UTCDateTime, make_engine, utcnow

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
STORED = dt.datetime(2026, 3, 2, 1, 0)  # naive UTC


def test_every_offset_is_stored_and_read_as_utc(db_url: str) -> None:
    url = make_url(db_url)
    if url.get_backend_name() == "postgresql":  # a session far from UTC must not shift values
        url = url.update_query_dict({"options": f"{url.query['options']} -ctimezone=Asia/Shanghai"})
    engine = make_engine(url.render_as_string(hide_password=False))
    moments = Table("t_moments", MetaData(), Column("id", Integer, primary_key=True),
                    Column("at", UTCDateTime()))
    given = [dt.datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI), STORED, STORED.replace(tzinfo=dt.UTC)]
    with engine.begin() as conn:
        moments.create(conn)
        conn.execute(insert(moments), [{"id": i, "at": at} for i, at in enumerate(given)])
        assert conn.execute(select(moments.c.at).order_by(moments.c.id)).scalars().all() == \
            [STORED] * 3
        stored = conn.execute(text("SELECT CAST(at AS TEXT) FROM t_moments")).scalars().all()
        assert all(value.startswith("2026-03-02 01:00:00") for value in stored), stored
        # aware values compared in SQL are converted too (the job queue's `run_at <= now`)
        due = select(func.count()).where(moments.c.at <= dt.datetime(2026, 3, 2, 9, 0,
                                                                     tzinfo=SHANGHAI))
        assert conn.execute(due).scalar() == 3
        early = select(func.count()).where(moments.c.at < dt.datetime(2026, 3, 2, 8, 59,
                                                                      tzinfo=SHANGHAI))
        assert conn.execute(early).scalar() == 0
    engine.dispose()


def test_utcnow_is_the_stored_form() -> None:
    now = utcnow()
    assert now.tzinfo is None
    assert abs(dt.datetime.now(dt.UTC).replace(tzinfo=None) - now) < dt.timedelta(seconds=5)
