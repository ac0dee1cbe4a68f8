"""Schema evolution on a big table: `metabiz apply` vs the bare statement doing the same.

`python benchmarks/evolution.py [--quick] [--database-url URL]` on 1M rows (100k quick);
prints seconds and apply/bare ratios. Goal: adding and renaming take < 1 s at any size.
"""

from __future__ import annotations

import argparse
import copy
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _setup import DEAL, database
from sqlalchemy import Engine

from metabiz.app import build_extensions
from metabiz.objects.evolution import Plan, apply_path
from metabiz.platform.db import writer


class App:
    """The bench app in a folder: change the deal object, apply it, time the apply."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.folder = Path(tempfile.mkdtemp(prefix="metabiz-bench-evolution-"))
        (self.folder / "objects").mkdir()
        (self.folder / "app.json").write_text(json.dumps(
            {"name": "bench", "version": "1.0.0", "label": "Bench"}))
        self.deal = copy.deepcopy(DEAL)
        self.deal["fields"].append({"api_name": "ref", "type": "text", "max_length": 40})

    def field(self, name: str) -> dict:
        return next(f for f in self.deal["fields"] if f["api_name"] == name)

    def apply(self) -> Plan:
        (self.folder / "objects" / "deal.json").write_text(json.dumps(self.deal))
        return apply_path(self.engine, self.folder, extensions=build_extensions())


def fill(engine: Engine, rows: int) -> None:
    """`rows` deals in one INSERT … SELECT (the record service is measured elsewhere)."""
    columns = ("owner, created_at, created_by, updated_at, updated_by, version, "
               "approval_status, locked, name, stage, amount, probability, close_date, email, "
               "ref")
    with writer(engine).begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql(
                f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                f"WHERE i < {rows}) INSERT INTO obj_deal ({columns}) "
                "SELECT 'bench', '2026-01-01 00:00:00.000000', 'bench', "
                "'2026-01-01 00:00:00.000000', 'bench', 1, 'none', 0, 'Deal ' || i, 'open', "
                "(i % 100000) + 0.25, i % 100, '2026-01-01', 'b' || i || '@example.com', "
                "CAST(i % 100000 AS TEXT) || '.5' FROM n")
        else:
            conn.exec_driver_sql(
                f"INSERT INTO obj_deal ({columns}) "
                "SELECT 'bench', now(), 'bench', now(), 'bench', 1, 'none', false, "
                "'Deal ' || i, 'open', mod(i, 100000) + 0.25, mod(i, 100), "
                "DATE '2026-01-01', 'b' || i || '@example.com', mod(i, 100000)::text || '.5' "
                f"FROM generate_series(1, {rows}) AS i")
        conn.exec_driver_sql("CREATE TABLE bench_copy AS SELECT * FROM obj_deal")
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE obj_deal")
            conn.exec_driver_sql("ANALYZE bench_copy")


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def bare(engine: Engine, *statements: str) -> Callable[[], None]:
    def run() -> None:
        with writer(engine).begin() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100k rows instead of 1M")
    parser.add_argument("--database-url", default=None, help="default: a temp SQLite file")
    args = parser.parse_args()
    rows = 100_000 if args.quick else 1_000_000
    engine = database(args.database_url)
    app = App(engine)
    app.apply()
    started = time.perf_counter()
    fill(engine, rows)
    print(f"database={engine.dialect.name} rows={rows} (filled in "
          f"{time.perf_counter() - started:.1f}s)")
    sqlite = engine.dialect.name == "sqlite"

    def add_plain() -> None:
        app.deal["fields"].append({"api_name": "note", "type": "text"})
        app.apply()

    def add_default() -> None:
        app.deal["fields"].append({"api_name": "region", "type": "text",
                                   "default": "\"EMEA\""})
        app.apply()

    def rename() -> None:
        app.field("email").update(api_name="contact_email", renamed_from="email")
        app.apply()

    def convert() -> None:
        app.field("ref").update(type="number", scale=2)
        app.field("ref").pop("max_length")
        app.apply()

    to_number = (["ALTER TABLE bench_copy ADD COLUMN ref_n NUMERIC(18, 2)",
                  "UPDATE bench_copy SET ref_n = CAST(ref AS NUMERIC)"] if sqlite else
                 ["ALTER TABLE bench_copy ALTER COLUMN ref TYPE NUMERIC(18, 2) "
                  "USING ref::numeric"])
    cases = [
        ("add_field", add_plain, ["ALTER TABLE bench_copy ADD COLUMN note VARCHAR(255)"]),
        ("add_field_with_default", add_default,
         ["ALTER TABLE bench_copy ADD COLUMN region VARCHAR(255) DEFAULT 'EMEA'"]),
        ("rename_field", rename,
         ["ALTER TABLE bench_copy RENAME COLUMN email TO contact_email"]),
        ("convert_text_to_number", convert, to_number),
    ]
    for name, ours, statements in cases:
        seconds = timed(ours)
        baseline = timed(bare(engine, *statements))
        print(f"{name}: apply={seconds:.3f}s bare={baseline:.3f}s "
              f"ratio={seconds / max(baseline, 1e-6):.1f}")


if __name__ == "__main__":
    main()
