"""Importing a CSV through the import path vs a SQLAlchemy Core executemany of the same rows.

`python benchmarks/import.py [--quick] [--rounds N] [--postgres-url URL]`: 100k rows (10k with
--quick) of a deal with text, currency, picklist (by label), date (`2026/11/23`), a lookup (by
the account's name), a validation rule and a formula, read from a CSV file as people type it
and imported with every row checked; the baseline inserts the already-converted rows with no
checks. Each side runs on a fresh database, alternating over the rounds (best of each), on
SQLite and on PostgreSQL when a URL is given or METABIZ_TEST_POSTGRES_URL is set. Prints
`<db>: import_vs_core=<ratio>` per database; last line: `import_vs_core=<the lowest>` (Core
time / import time; goal >= 0.5).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from _alternate import alternate, databases
from _setup import _fresh_schema
from sqlalchemy import insert

from metabiz.app import build_extensions, build_runtime, prepare_database
from metabiz.objects import records
from metabiz.objects.evolution import apply_path
from metabiz.platform.access import SYSTEM
from metabiz.platform.auth import create_user, load_actor
from metabiz.platform.db import make_engine, writer
from metabiz.platform.long_lived import settle_long_lived
from metabiz.spreadsheets.importer import ImportOptions, import_file

ACCOUNTS = 50
ACCOUNT = {"api_name": "account", "label": "Account", "name_field": "name",
           "fields": [{"api_name": "name", "type": "text", "required": True, "unique": True}]}
DEAL = {
    "api_name": "deal", "label": {"en": "Deal", "zh": "商机"}, "name_field": "name",
    "fields": [
        {"api_name": "name", "type": "text", "required": True, "max_length": 120},
        {"api_name": "account", "type": "lookup", "target": "account"},
        {"api_name": "stage", "type": "picklist", "label": {"en": "Stage", "zh": "阶段"},
         "values": [{"value": "open", "label": {"en": "Open", "zh": "进行中"}},
                    {"value": "won", "label": {"en": "Won", "zh": "赢单"}},
                    {"value": "lost", "label": {"en": "Lost", "zh": "输单"}}]},
        {"api_name": "amount", "type": "currency", "scale": 2},
        {"api_name": "probability", "type": "percent"},
        {"api_name": "close_date", "type": "date"},
        {"api_name": "weighted", "type": "formula", "return_type": "currency",
         "formula": "amount * probability / 100"},
    ],
    "validation_rules": [{"api_name": "positive", "error_condition": "amount < 0",
                          "message": "Amount cannot be negative", "field": "amount"}],
}
STAGES = ("Open", "赢单", "lost")


def database(url: str | None):
    if url is None:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='metabiz-bench-')}/bench.db"
    elif url.startswith("postgresql"):
        url = _fresh_schema(url)
    engine = make_engine(url)
    prepare_database(engine)
    app = Path(tempfile.mkdtemp(prefix="metabiz-bench-app-"))
    (app / "objects").mkdir()
    (app / "app.json").write_text(json.dumps({"name": "bench", "version": "1.0.0",
                                              "label": "Bench"}))
    (app / "objects" / "account.json").write_text(json.dumps(ACCOUNT))
    (app / "objects" / "deal.json").write_text(json.dumps(DEAL))
    apply_path(engine, app, extensions=build_extensions())
    with writer(engine).begin() as conn:
        create_user(conn, "bench", "bench-pw", roles=["admin"])
        records.create_many(build_runtime(engine).context(conn, SYSTEM), "account",
                            [{"name": f"Account {i}"} for i in range(ACCOUNTS)])
    return engine


def csv_file(n: int) -> bytes:
    lines = ["Name,Account,阶段,Amount,probability,close_date"]
    for i in range(n):
        lines.append(f'Deal {i},Account {i % ACCOUNTS},{STAGES[i % 3]},'
                     f'"{(i * 37) % 100000:,}.{i % 100:02d}",{i % 100}%,'
                     f"2026/{1 + i % 12}/{1 + i % 28}")
    return ("\n".join(lines) + "\n").encode("utf-8-sig")


def through_import(engine, data: bytes) -> float:
    runtime = build_runtime(engine)
    runtime.schema()  # loaded once per metadata version, as in a running server
    settle_long_lived()  # as the worker and `metabiz import` do once loaded
    with engine.connect() as conn:
        actor = load_actor(conn, "bench")
    started = time.perf_counter()
    result = import_file(engine, runtime, actor, "deal", "deals.csv", data, ImportOptions())
    elapsed = time.perf_counter() - started
    assert result.written and not result.errors, result.errors[:5]
    return elapsed


def core(engine, n: int) -> float:
    """The same rows, already converted to column values, with one executemany per 1,000."""
    table = build_runtime(engine).schema().object("deal").table
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    values = ("open", "won", "lost")
    started = time.perf_counter()
    with writer(engine).begin() as conn:
        for start in range(0, n, 1000):
            conn.execute(insert(table), [
                {"name": f"Deal {i}", "account": 1 + i % ACCOUNTS, "stage": values[i % 3],
                 "amount": Decimal(f"{(i * 37) % 100000}.{i % 100:02d}"),
                 "probability": Decimal(i % 100),
                 "close_date": dt.date(2026, 1 + i % 12, 1 + i % 28), "owner": "bench",
                 "created_by": "bench", "updated_by": "bench", "created_at": now,
                 "updated_at": now, "version": 1, "approval_status": "none", "locked": False}
                for i in range(start, min(n, start + 1000))])
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10k rows instead of 100k")
    parser.add_argument("--rounds", type=int, default=None, help="default: 3 (quick), 3")
    parser.add_argument("--postgres-url", default=None, help="also measure on PostgreSQL")
    args = parser.parse_args()
    n = 10_000 if args.quick else 100_000
    rounds = args.rounds or 3
    data = csv_file(n)
    print(f"rows={n} rounds={rounds}")
    ratios = []
    for label, url in databases(args.postgres_url):
        ours, baseline = alternate(lambda url: through_import(database(url), data),
                                   lambda url: core(database(url), n), url, rounds)
        ratios.append(baseline / ours)
        print(f"{label}: import_seconds={ours:.2f} ({n / ours:,.0f} rows/s) "
              f"core_seconds={baseline:.2f} ({n / baseline:,.0f} rows/s)")
        print(f"{label}: import_vs_core={baseline / ours:.2f}")
    print(f"import_vs_core={min(ratios):.2f}")


if __name__ == "__main__":
    main()
