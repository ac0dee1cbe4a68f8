"""Where one kind of request spends its time: cProfile over in-process requests.

Builds the benchmark database, then serves `--requests` requests of `--kind` (list, get,
create, page) through Flask's test client under cProfile and prints the functions with
the most cumulative and own time; `--statements` prints the SQL one request runs instead.
`python benchmarks/profile_request.py --kind list`
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import time
import timeit

from _duel import fill, random_deal
from _setup import database

from metabiz.app import create_app
from metabiz.platform.auth import start_session
from metabiz.platform.config import Config
from metabiz.platform.db import writer

REQUESTS = {
    "list": lambda rng: ("GET", f"/api/v1/records/deal?sort=-id&limit=50&offset={50 * rng.randrange(3)}",
                         None),
    "get": lambda rng: ("GET", f"/api/v1/records/deal/{rng.randrange(1, 1001)}", None),
    "create": lambda rng: ("POST", "/api/v1/records/deal", random_deal(rng)),
    "page": lambda rng: ("GET", f"/o/deal?page={1 + rng.randrange(3)}", None),
}
#: the same requests to the hand-written twin (handwritten_app.py)
HANDWRITTEN = {
    "list": lambda rng: ("GET", f"/deals?limit=50&offset={50 * rng.randrange(3)}", None),
    "get": lambda rng: ("GET", f"/deals/{rng.randrange(1, 1001)}", None),
    "create": lambda rng: ("POST", "/deals", random_deal(rng)),
    "page": lambda rng: ("GET", f"/page/deals?page={1 + rng.randrange(3)}", None),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=sorted(REQUESTS), default="list")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--handwritten", action="store_true",
                        help="profile the hand-written twin instead")
    parser.add_argument("--time", action="store_true",
                        help="no profile: the mean CPU milliseconds per request (best of 3)")
    parser.add_argument("--statements", action="store_true",
                        help="no profile: the SQL statements one (warm) request runs")
    parser.add_argument("--session", action="store_true",
                        help="signed in with a browser session instead of the API token")
    args = parser.parse_args()
    engine = database(args.database_url)
    token = fill(engine, 2_000)
    os.environ.setdefault("METABIZ_SECRET_KEY", "bench")
    url = engine.url.render_as_string(hide_password=False)
    if args.handwritten:
        os.environ["METABIZ_DATABASE_URL"] = url
        from handwritten_app import app as twin
        client = twin.test_client()
    else:
        client = create_app(Config.from_env(url)).test_client()
    headers = {"Authorization": f"Bearer {token}"}
    if args.session and not args.handwritten:
        headers = {}
        with writer(engine).begin() as conn:
            key = start_session(conn, "bench")
        with client.session_transaction() as session:  # type: ignore[attr-defined]
            session["user"], session["sid"] = "bench", key
    rng = random.Random(1)
    make = (HANDWRITTEN if args.handwritten else REQUESTS)[args.kind]

    def run(count: int) -> None:
        for _ in range(count):
            method, path, body = make(rng)
            response = client.open(path, method=method, json=body, headers=headers)
            assert response.status_code in (200, 201), response.get_data(as_text=True)[:300]

    run(20)  # warm up
    if args.statements:
        from sqlalchemy import event
        seen: list[str] = []
        served = twin_engine() if args.handwritten else client.application.extensions[
            "metabiz"].engine
        event.listen(served, "before_cursor_execute",
                     lambda _c, _cur, statement, *_a: seen.append(" ".join(statement.split())))
        for boundary in ("begin", "commit", "rollback"):  # sent by the driver, not executed
            event.listen(served, boundary, lambda *_a, said=boundary: seen.append(f"({said})"))
        run(1)
        print(f"{args.kind}: {sum(not s.startswith('(') for s in seen)} statements, "
              "with the transactions' boundaries (SQLite's BEGIN, and a PostgreSQL write's lock "
              "with the token's query, go to the driver directly: see docs/performance.md)")
        for statement in seen:
            print("  ", statement[:160])
        return
    if args.time:
        best = min(timeit.Timer(lambda: run(args.requests), timer=time.process_time).timeit(1)
                   for _ in range(3))
        print(f"{args.kind}: {1000 * best / args.requests:.2f} CPU ms per request")
        return
    profile = cProfile.Profile()
    profile.runcall(run, args.requests)
    if os.environ.get("PROFILE_OUT"):
        profile.dump_stats(os.environ["PROFILE_OUT"])
    stats = pstats.Stats(profile).strip_dirs()
    stats.sort_stats("cumulative").print_stats(args.top)
    stats.sort_stats("tottime").print_stats(args.top)


def twin_engine() -> object:
    from handwritten_app import engine
    return engine


if __name__ == "__main__":
    main()
