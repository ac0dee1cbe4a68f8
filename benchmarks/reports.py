"""A grouped report through the API vs a hand-written SQL GROUP BY giving the same output.

The report groups 100k deals by stage and close month (count, sum, average of the amount).
The API run goes through the whole stack in-process (bearer token, access check, compiled
report, one SQL query, JSON); the baseline is the same GROUP BY written by hand, serialised to
JSON the same way. Both outputs are compared before timing, then the two run alternately,
round after round, so a machine busy with other work slows both alike; the ratio is the
median of the rounds' ratios. Last line: `report_vs_sql=<ratio>` (goal >= 0.8).
`--plans` prints both queries' plans (the report's as the API ran it).
`python benchmarks/reports.py [--quick] [--rows N] [--rounds N] [--plans] [--database-url URL]`
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from _setup import ROOT, database, deal_input
from sqlalchemy import event, text

from metabiz.app import build_runtime, create_app
from metabiz.objects import records
from metabiz.platform.auth import create_token, load_actor
from metabiz.platform.config import Config
from metabiz.platform.db import writer

REPORT = {"api_name": "by_stage_month", "label": "Deals by stage and month", "object": "deal",
          "group_by": [{"field": "stage"}, {"field": "close_date", "bucket": "month"}],
          "measures": [{"api_name": "deals", "function": "count"},
                       {"api_name": "amount", "function": "sum", "field": "amount"},
                       {"api_name": "average", "function": "avg", "field": "amount"}],
          "chart": {"type": "bar"}}

HANDWRITTEN = {
    "sqlite": """SELECT stage, strftime('%Y-%m', close_date) AS month, count(*),
                        sum(amount), avg(amount)
                 FROM obj_deal GROUP BY stage, month""",
    "postgresql": """SELECT stage, to_char(close_date, 'YYYY-MM') AS month, count(*),
                            sum(amount), avg(amount)
                     FROM obj_deal GROUP BY stage, month""",
}


def fill(engine, n: int) -> str:
    runtime = build_runtime(engine)
    with writer(engine).begin() as conn:
        ctx = runtime.context(conn, load_actor(conn, "bench"))
        for start in range(0, n, 5000):
            records.create_many(ctx, "deal", [deal_input(i) for i in range(
                start, min(n, start + 5000))], returning=False)
        return create_token(conn, "bench")


def add_report(engine) -> None:
    """The report, applied as the bench app's metadata (as `metabiz apply` would)."""
    from _setup import DEAL

    from metabiz.app import build_extensions
    from metabiz.objects.evolution import apply_path

    app = Path(tempfile.mkdtemp(prefix="metabiz-bench-report-"))
    for folder, name, doc in (("objects", "deal", DEAL), ("reports", REPORT["api_name"], REPORT)):
        (app / folder).mkdir()
        (app / folder / f"{name}.json").write_text(json.dumps(doc))
    (app / "app.json").write_text(json.dumps({"name": "bench", "version": "1.0.1",
                                              "label": "Bench"}))
    apply_path(engine, app, extensions=build_extensions())


def cents(value) -> str:
    return str(Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def by_hand(engine) -> str:
    """The hand-written GROUP BY, its rows as JSON like the API's."""
    # SQLite keeps a currency as integer cents (exact numbers): the sums and averages are
    # scaled back, as hand-written code over that column would
    shift = -2 if engine.dialect.name == "sqlite" else 0
    with engine.connect() as conn:
        rows = conn.execute(text(HANDWRITTEN[engine.dialect.name])).all()
    return json.dumps({"rows": [[stage, month, count, float(Decimal(total).scaleb(shift)),
                                 float(round(Decimal(str(average)).scaleb(shift), 4))]
                                for stage, month, count, total, average in rows]})


def same_rows(api_rows: list, hand_rows: list) -> bool:
    def canonical(rows: list) -> list:
        return sorted((r[0], r[1], r[2], cents(r[3]), str(round(Decimal(str(r[4])), 2)))
                      for r in rows)
    return canonical(api_rows) == canonical(hand_rows)


def timed(report, handwritten, rounds: int) -> tuple[float, float, float]:
    """Runs per second of each (the median of its rounds) and the median of the rounds'
    ratios: each round runs both back to back, the first of the two alternating, so each
    ratio compares runs made under the same load."""
    report()  # warm up (compiled report cache, SQLite page cache)
    handwritten()
    spent: dict[str, list[float]] = {"report": [], "handwritten": []}
    for turn in range(rounds):
        pair = [("report", report), ("handwritten", handwritten)]
        for name, run in pair if turn % 2 == 0 else reversed(pair):
            started = time.perf_counter()
            run()
            spent[name].append(time.perf_counter() - started)
    ratios = [h / r for r, h in zip(spent["report"], spent["handwritten"], strict=True)]
    return (1 / statistics.median(spent["report"]),
            1 / statistics.median(spent["handwritten"]), statistics.median(ratios))


def plans(engine, api_engine, through_api) -> None:
    """Each query's plan: the hand-written one's, and the report's as the API sent it."""
    sent: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany) -> None:
        sent.append((statement, parameters))

    event.listen(api_engine, "before_cursor_execute", capture)
    through_api()
    event.remove(api_engine, "before_cursor_execute", capture)
    report_sql, parameters = next(s for s in reversed(sent) if "GROUP BY" in s[0])
    explain = ("EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite"
               else "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) ")
    with engine.connect() as conn:
        for name, sql, args in (("handwritten", HANDWRITTEN[engine.dialect.name], ()),
                                ("report", report_sql, parameters)):
            print(f"-- {name}:\n{sql.strip()}")
            for line in conn.exec_driver_sql(explain + sql, args).all():
                print("   ", " ".join(str(part) for part in line))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10k rows, fewer rounds")
    parser.add_argument("--rows", type=int, help="how many deals (default 100k; quick 10k)")
    parser.add_argument("--rounds", type=int, help="timed rounds (default 15; quick 9)")
    parser.add_argument("--plans", action="store_true", help="print both queries' plans")
    parser.add_argument("--database-url", help="a PostgreSQL server (default: SQLite)")
    args = parser.parse_args()
    rows, rounds = (10_000, 9) if args.quick else (100_000, 15)
    rows, rounds = args.rows or rows, args.rounds or rounds
    engine = database(args.database_url)
    token = fill(engine, rows)
    add_report(engine)
    url = engine.url.render_as_string(hide_password=False)
    app = create_app(Config(database_url=url, secret_key="bench",
                            instance_path=Path(tempfile.mkdtemp(prefix="metabiz-bench-i-"))))
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def through_api() -> dict:
        response = client.get(f"/api/v1/reports/{REPORT['api_name']}", headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        return json.loads(response.get_data())

    api_rows = through_api()["rows"]
    hand_rows = json.loads(by_hand(engine))["rows"]
    if not same_rows(api_rows, hand_rows):
        raise SystemExit("the report and the hand-written GROUP BY disagree")
    if args.plans:
        plans(engine, app.extensions["metabiz"].engine, through_api)
    load = os.getloadavg()[0]
    report, handwritten, ratio = timed(through_api, lambda: by_hand(engine), rounds)
    print(f"rows={rows} groups={len(api_rows)} database={engine.dialect.name} root={ROOT.name}")
    print(f"load_average={load:.2f}..{os.getloadavg()[0]:.2f} cpus={os.cpu_count()}")
    print(f"report_runs_per_second={report:.2f}")
    print(f"handwritten_runs_per_second={handwritten:.2f}")
    print(f"report_vs_sql={ratio:.2f}")


if __name__ == "__main__":
    main()
