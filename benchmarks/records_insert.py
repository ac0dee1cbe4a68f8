"""Creating records through the record service vs a SQLAlchemy Core executemany.

`python benchmarks/records_insert.py [--quick] [--rounds N] [--postgres-url URL]`: 50k records
(5k with --quick) in batches of 1,000 through `records.create_many` (every check, automation
and roll-up hook) against Core `executemany` of the same rows already converted, each side on
a fresh database, alternating over the rounds (best of each); SQLite, and PostgreSQL when a
URL is given or METABIZ_TEST_POSTGRES_URL is set. Prints `<db>: service_vs_core=<ratio>` per
database; last line: `service_vs_core=<the lowest>` (Core time / service time; goal >= 0.5).
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from decimal import Decimal

from _alternate import alternate, databases
from _setup import database, deal_input
from sqlalchemy import insert

from metabiz.app import build_runtime
from metabiz.objects import records
from metabiz.platform.auth import load_actor
from metabiz.platform.db import writer

BATCH = 1000


def service(engine, n: int) -> float:
    runtime = build_runtime(engine)
    runtime.schema()  # loaded once per metadata version, as in a running server
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
    parser.add_argument("--rounds", type=int, default=None, help="default: 3 (quick), 5")
    parser.add_argument("--postgres-url", default=None, help="also measure on PostgreSQL")
    args = parser.parse_args()
    n = 5_000 if args.quick else 50_000
    rounds = args.rounds or (3 if args.quick else 5)
    print(f"records={n} rounds={rounds}")
    ratios = []
    for label, url in databases(args.postgres_url):
        ours, baseline = alternate(lambda url: service(database(url), n),
                                   lambda url: core(database(url), n), url, rounds)
        ratios.append(baseline / ours)
        print(f"{label}: service_seconds={ours:.2f} ({n / ours:,.0f} records/s) "
              f"core_seconds={baseline:.2f} ({n / baseline:,.0f} records/s)")
        print(f"{label}: service_vs_core={baseline / ours:.2f}")
    print(f"service_vs_core={min(ratios):.2f}")


if __name__ == "__main__":
    main()
