"""Listing records: the generic GET /api/v1/records/<object> vs a hand-written endpoint.

Both run under gunicorn with 2 workers over the same 100k-row table; one bounded Python
client (4 threads, keep-alive) drives both. Last line: `generic_vs_handwritten=<ratio>`
(requests/s; goal >= 0.8). `python benchmarks/api_list.py [--quick]`
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from _setup import ROOT, database, deal_input

from metabiz.app import build_runtime
from metabiz.objects import records
from metabiz.platform.auth import create_token, load_actor
from metabiz.platform.db import writer

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fill(engine, n: int) -> str:
    runtime = build_runtime(engine)
    with writer(engine).begin() as conn:
        ctx = runtime.context(conn, load_actor(conn, "bench"))
        for start in range(0, n, 5000):
            records.create_many(ctx, "deal", [deal_input(i) for i in range(start,
                                                                             min(n, start + 5000))],
                                returning=False)
        return create_token(conn, "bench")


def serve(app: str, port: int, env: dict[str, str], chdir: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "--chdir", str(chdir),
         "--log-level", "warning", app], env=env)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{app} did not start")


def drive(port: int, path: str, token: str, requests: int, threads: int = 4) -> float:
    """Requests per second for `requests` GETs of random pages, over `threads` clients."""
    counts = [requests // threads] * threads
    failures: list[str] = []

    def client(count: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        rng = random.Random(count)
        for _ in range(count):
            conn.request("GET", path.format(offset=rng.randrange(0, 5000)),
                         headers={"Authorization": f"Bearer {token}"})
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                failures.append(str(response.status))
        conn.close()

    workers = [threading.Thread(target=client, args=(c,)) for c in counts]
    started = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{len(failures)} failed requests: {failures[:3]}")
    return sum(counts) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10k rows, fewer requests")
    args = parser.parse_args()
    rows, requests = (10_000, 200) if args.quick else (100_000, 800)
    engine = database()
    token = fill(engine, rows)
    url = engine.url.render_as_string(hide_password=False)
    env = {**os.environ, "METABIZ_DATABASE_URL": url, "METABIZ_SECRET_KEY": "bench",
           "PYTHONPATH": str(ROOT)}
    generic_port, hand_port = free_port(), free_port()
    servers = [serve("metabiz.app:create_app()", generic_port, env, ROOT),
               serve("handwritten_app:app", hand_port, env, ROOT / "benchmarks")]
    try:
        generic_path = "/api/v1/records/deal?sort=-amount&limit=50&offset={offset}"
        hand_path = "/deals?limit=50&offset={offset}"
        drive(generic_port, generic_path, token, 20)  # warm up both
        drive(hand_port, hand_path, token, 20)
        generic = drive(generic_port, generic_path, token, requests)
        handwritten = drive(hand_port, hand_path, token, requests)
    finally:
        for server in servers:
            server.terminate()
            server.wait()
    print(f"rows={rows} requests={requests}")
    print(f"generic_requests_per_second={generic:.1f}")
    print(f"handwritten_requests_per_second={handwritten:.1f}")
    print(f"generic_vs_handwritten={generic / handwritten:.2f}")


if __name__ == "__main__":
    main()
