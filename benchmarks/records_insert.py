"""Creating records through the record service vs a SQLAlchemy Core executemany.

`python benchmarks/records_insert.py [--quick] [--database-url URL]`; last line:
`service_vs_core=<ratio>` (Core time / service time; goal >= 0.3).
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from decimal import Decimal

from _setup import database, deal_input
from sqlalchemy import insert

from metabiz.app import build_runtime
from metabiz.objects import records
from metabiz.platform.auth import load_actor
from metabiz.platform.db import writer

BATCH = 1000


def service(engine, n: int) -> float:
    runtime = build_runtime(engine)
    started = time.perf_counter()
    with writer(engine).begin() as conn:
        ctx = runtime.context(conn, load_actor(conn, "bench"))
        for start in range(0, n, BATCH):
            batch = [deal_input(i) for i in range(start, min(n, start + BATCH))]
            records.create_many(ctx, "deal", batch, returning=False)
    return time.perf_counter() - started


def core(engine, n: int) -> float:
    """The same rows (already converted to column values) with one executemany."""
    table = build_runtime(engine).schema().object("deal").table
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    started = time.perf_counter()
    with writer(engine).begin() as conn:
        for start in range(0, n, BATCH):
            rows = []
            for i in range(start, min(n, start + BATCH)):
                raw = deal_input(i)
                rows.append({"name": raw["name"], "stage": raw["stage"],
                             "amount": Decimal(raw["amount"]),
                             "probability": Decimal(raw["probability"]),
                             "close_date": dt.date.fromisoformat(raw["close_date"]),
                             "email": raw["email"], "owner": "bench", "created_by": "bench",
                             "updated_by": "bench", "created_at": now, "updated_at": now,
                             "version": 1, "approval_status": "none", "locked": False})
            conn.execute(insert(table), rows)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="5k records instead of 50k")
    parser.add_argument("--database-url", default=None, help="default: a temp SQLite file")
    args = parser.parse_args()
    n = 5_000 if args.quick else 50_000
    ours = service(database(args.database_url), n)
    baseline = core(database(args.database_url), n)
    print(f"records={n}")
    print(f"service_seconds={ours:.2f} ({n / ours:,.0f} records/s)")
    print(f"core_seconds={baseline:.2f} ({n / baseline:,.0f} records/s)")
    print(f"service_vs_core={baseline / ours:.2f}")


if __name__ == "__main__":
    main()
