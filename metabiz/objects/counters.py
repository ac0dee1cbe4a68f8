"""Named counters (auto-number fields): numbers handed out once, in order, under concurrency.

A counter is a row of `sys_counters` named `object.field`, moved in the writing transaction.
"""

from __future__ import annotations

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from metabiz.platform.db import counters


def next_number(conn: Connection, counter: str, count: int = 1) -> int:
    """Take `count` numbers from a named counter; returns the last. Unique under concurrency:
    the row update holds its lock (PostgreSQL) or the write lock (SQLite) until commit."""
    done = conn.execute(update(counters).where(counters.c.name == counter)
                        .values(value=counters.c.value + count))
    if done.rowcount == 0:
        try:
            with conn.begin_nested():
                conn.execute(insert(counters).values(name=counter, value=count))
            return count
        except IntegrityError:
            conn.execute(update(counters).where(counters.c.name == counter)
                         .values(value=counters.c.value + count))
    return int(conn.execute(select(counters.c.value)
                            .where(counters.c.name == counter)).scalar_one())
