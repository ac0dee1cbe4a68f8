"""Instructions per request, generic path and hand-written twin: a measure a busy machine
does not move.

Timings on a shared machine vary by a third from run to run; the number of instructions a
request executes does not. Each side serves `--requests` requests of `--kind` in process
(Flask's test client, as profile_request.py) under valgrind's callgrind, once after a
warm-up only and once with the requests, so start-up cancels out. Needs `valgrind`; a run
takes minutes (callgrind runs Python ~50x slower), so it is a tool for deciding whether a
change pays, not a CI step. Last line: `instructions_ratio=<twin / generic>` (1.0: the
generic path executes no more than hand-written code).
`python benchmarks/instructions.py --kind page [--requests 100] [--database-url URL]`
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _duel import fill
from _setup import database
from profile_request import HANDWRITTEN, REQUESTS

WARM_UP = 30
SIDES = ("generic", "handwritten")
_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--kind", choices=sorted(REQUESTS), default="page")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--inner", choices=SIDES, help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        serve(args.inner, args.kind, args.database_url, args.token, args.count)
        return
    if shutil.which("valgrind") is None:
        sys.exit("instructions.py needs valgrind (apt install valgrind)")
    engine = database(args.database_url)
    token = fill(engine, 2_000)
    url = engine.url.render_as_string(hide_password=False)
    runs = [(side, count) for side in SIDES for count in (0, args.requests)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        counted = dict(zip(runs, pool.map(
            lambda run: instructions(run[0], run[1], args.kind, url, token), runs), strict=True))
    per_request = {side: (counted[(side, args.requests)] - counted[(side, 0)]) / args.requests
                   for side in SIDES}
    print(f"[{args.kind}] instructions_per_request generic={per_request['generic']:,.0f} "
          f"handwritten={per_request['handwritten']:,.0f} ({args.requests} requests, "
          f"database={engine.dialect.name})")
    print(f"instructions_ratio={per_request['handwritten'] / per_request['generic']:.2f}")


def instructions(side: str, count: int, kind: str, url: str, token: str) -> int:
    """What one run of `serve` executes under callgrind, start-up included."""
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
         __file__, "--inner", side, "--count", str(count), "--kind", kind,
         "--database-url", url, "--token", token],
        capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"},
        cwd=Path(__file__).parent, check=False)
    found = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        sys.exit(f"{side} run failed:\n{done.stderr[-2000:]}")
    return int(found[1])


def serve(side: str, kind: str, url: str, token: str, count: int) -> None:
    """The warm-up, then `count` requests of `kind`, to one side in process."""
    os.environ.setdefault("METABIZ_SECRET_KEY", "bench")
    if side == "handwritten":
        os.environ["METABIZ_DATABASE_URL"] = url
        from handwritten_app import app
    else:
        from metabiz.app import create_app
        from metabiz.platform.config import Config
        app = create_app(Config.from_env(url))
    client = app.test_client(use_cookies=False)
    headers = {"Authorization": f"Bearer {token}"}
    make = (HANDWRITTEN if side == "handwritten" else REQUESTS)[kind]
    rng = random.Random(1)
    for _ in range(WARM_UP + count):
        method, path, body = make(rng)
        response = client.open(path, method=method, json=body, headers=headers)
        assert response.status_code in (200, 201), response.status_code


if __name__ == "__main__":
    main()
