"""How a list request's database work grows with the table: 10k → 100k → 1M deals.

For each size the deals table is filled (Core inserts: this measures reading), then each
list shape — first page by id, by an `"indexed": true` field, by an unindexed one, a deep
page, a filtered page (on an unindexed and on an indexed field), the count — is timed through `query.list_records` (median of
repeats) and the page query's plan is printed. `python benchmarks/list_scaling.py
[--quick] [--database-url URL]` (quick: 10k and 100k rows).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from _setup import DEAL, _fresh_schema
from sqlalchemy import func, insert, select, text

from metabiz.app import build_extensions, build_runtime, prepare_database
from metabiz.objects import query
from metabiz.objects.evolution import apply_path
from metabiz.platform.access import SYSTEM
from metabiz.platform.db import make_engine

#: name → (list_records arguments, what it shows)
SHAPES: dict[str, dict[str, Any]] = {
    "first page, newest first (id)": {},
    "first page by an indexed field": {"sort": "-close_date"},
    "first page by an unindexed field": {"sort": "-amount"},
    "page 200 (offset 9,950) by id": {"offset": 9_950},
    "filtered (stage = won) by id": {"filter": 'stage = "won"'},
    "filtered on an indexed field (probability = 99)": {"filter": "probability = 99"},
}


def engine_for(url: str | None) -> Any:
    if url is None:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='metabiz-scale-')}/scale.db"
    elif url.startswith("postgresql"):
        url = _fresh_schema(url)
    engine = make_engine(url)
    prepare_database(engine)
    app = Path(tempfile.mkdtemp(prefix="metabiz-scale-app-"))
    (app / "objects").mkdir()
    (app / "app.json").write_text(json.dumps({"name": "scale", "version": "1.0.0",
                                              "label": "Scale"}))
    deal = json.loads(json.dumps(DEAL))
    for field in deal["fields"]:
        if field["api_name"] in ("close_date", "probability"):
            field["indexed"] = True
    (app / "objects" / "deal.json").write_text(json.dumps(deal))
    apply_path(engine, app, extensions=build_extensions())
    return engine


def grow(engine: Any, table: Any, have: int, want: int) -> None:
    import datetime as dt
    from decimal import Decimal

    stamp = dt.datetime(2026, 1, 1)
    for start in range(have, want, 20_000):
        rows = [{"name": f"Deal {i}", "stage": ("open", "won", "lost")[i % 3],
                 "amount": Decimal((i * 7919) % 1_000_000) / 100, "probability": i % 100,
                 "close_date": dt.date(2020, 1, 1) + dt.timedelta(days=(i * 37) % 3000),
                 "email": f"b{i}@example.com", "owner": "system", "created_by": "system",
                 "updated_by": "system", "created_at": stamp, "updated_at": stamp,
                 "version": 1, "approval_status": "none", "locked": False}
                for i in range(start, min(want, start + 20_000))]
        with engine.begin() as conn:
            conn.execute(insert(table), rows)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))


def timed(engine: Any, runtime: Any, args: dict[str, Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        with engine.connect() as conn:
            ctx = runtime.context(conn, SYSTEM)
            started = time.perf_counter()
            query.list_records(ctx, "deal", limit=50, **args)
            times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def page_query(engine: Any, runtime: Any, args: dict[str, Any],
               repeats: int) -> tuple[float, list[str]]:
    """The page's own SELECT (no count): median milliseconds and its plan."""
    with engine.connect() as conn:
        ctx = runtime.context(conn, SYSTEM)
        obj = ctx.schema.object("deal")
        conditions = query.scope(ctx, obj)
        if args.get("filter"):
            conditions.append(query.compile_filter(ctx, obj, args["filter"]))
        statement = (select(obj.table).where(*conditions)
                     .order_by(*query.order_by(ctx, obj, args.get("sort")))
                     .limit(50).offset(args.get("offset", 0)))
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            conn.execute(statement).all()
            times.append(time.perf_counter() - started)
        sql = str(statement.compile(conn, compile_kwargs={"literal_binds": True}))
        if conn.dialect.name == "postgresql":
            shown = [str(r).strip() for r in conn.execute(text(f"EXPLAIN {sql}")).scalars()]
        else:
            shown = [str(r[-1]) for r in conn.execute(text(f"EXPLAIN QUERY PLAN {sql}"))]
    return 1000 * statistics.median(times), shown


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k and 100k rows only")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    sizes = (10_000, 100_000) if args.quick else (10_000, 100_000, 1_000_000)
    engine = engine_for(args.database_url)
    runtime = build_runtime(engine)
    with engine.connect() as conn:
        table = runtime.schema(conn).object("deal").table
    have = 0
    print(f"database={engine.dialect.name}")
    for size in sizes:
        grow(engine, table, have, size)
        have = size
        with engine.connect() as conn:
            counted = conn.execute(select(func.count()).select_from(table)).scalar_one()
        print(f"\nrows={counted}")
        for name, shape in SHAPES.items():
            whole = timed(engine, runtime, shape, args.repeats)
            page, shown = page_query(engine, runtime, shape, args.repeats)
            print(f"  {name:48} list {whole:8.2f} ms  page query {page:7.2f} ms  "
                  f"plan: {' | '.join(shown)}")
        started = time.perf_counter()
        with engine.connect() as conn:
            conn.execute(select(func.count()).select_from(table)).scalar_one()
        print(f"  {'the count (a full page asks for it)':36} "
              f"{1000 * (time.perf_counter() - started):8.2f} ms")
    engine.dispose()


if __name__ == "__main__":
    main()
