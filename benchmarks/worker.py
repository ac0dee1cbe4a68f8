"""The job worker: notification jobs run by one (and, on PostgreSQL, two) workers vs the same
rows written directly, one transaction each.

`python benchmarks/worker.py [--quick] [--database-url URL]`; last lines:
`worker_vs_direct=<ratio>` (direct time / worker time) and, on PostgreSQL,
`two_workers_speedup=<ratio>` (one worker's time / two workers' time).
"""

from __future__ import annotations

import argparse
import datetime as dt
import threading
import time

from _setup import database
from sqlalchemy import insert

from metabiz.app import build_runtime, prepare_database
from metabiz.flows import notifications
from metabiz.flows.store import notifications as notification_table
from metabiz.flows.worker import run_worker
from metabiz.platform.db import make_engine, writer

NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


def enqueue(engine, n: int) -> None:
    with writer(engine).begin() as conn:
        for i in range(n):
            notifications.send(conn, ["bench"], now=NOW, message=f"message {i}")


def workers(engine, url: str, count: int) -> float:
    started = time.perf_counter()

    def one() -> None:
        own = make_engine(url) if count > 1 else engine
        run_worker(own, once=True, now=NOW, secret="bench", batch=20,
                   runtime=build_runtime(own))

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def direct(engine, n: int) -> float:
    started = time.perf_counter()
    for i in range(n):
        with writer(engine).begin() as conn:
            conn.execute(insert(notification_table).values(
                user_name="bench", message=f"message {i}", created_at=NOW.replace(tzinfo=None),
                dedupe_key=f"direct{i}"))
    return time.perf_counter() - started


def prepared(url: str | None, n: int):
    engine = database(url)
    prepare_database(engine)
    enqueue(engine, n)
    return engine, engine.url.render_as_string(hide_password=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="500 jobs instead of 5,000")
    parser.add_argument("--database-url", default=None, help="default: a temp SQLite file")
    args = parser.parse_args()
    n = 500 if args.quick else 5_000
    engine, url = prepared(args.database_url, n)
    one = workers(engine, url, 1)
    baseline_engine = database(args.database_url)
    prepare_database(baseline_engine)
    baseline = direct(baseline_engine, n)
    print(f"jobs={n}")
    print(f"one_worker_seconds={one:.2f} ({n / one:,.0f} jobs/s)")
    print(f"direct_seconds={baseline:.2f} ({n / baseline:,.0f} rows/s)")
    if engine.dialect.name == "postgresql":
        engine2, url2 = prepared(args.database_url, n)
        two = workers(engine2, url2, 2)
        print(f"two_workers_seconds={two:.2f} ({n / two:,.0f} jobs/s)")
    print(f"worker_vs_direct={baseline / one:.2f}")
    if engine.dialect.name == "postgresql":
        print(f"two_workers_speedup={one / two:.2f}")


if __name__ == "__main__":
    main()
