"""Generic endpoint against its hand-written twin: both served alike, driven alternately.

Each side runs under gunicorn (2 workers x 4 threads) on the same database; one Python
client (4 threads, keep-alive) drives them in turn over several rounds, so a noisy
neighbour on the machine slows both sides of a round, not one side of the whole run.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _setup import ROOT, database, deal_input
from sqlalchemy import Engine

from metabiz.app import build_runtime
from metabiz.objects import records
from metabiz.platform.auth import create_token, load_actor
from metabiz.platform.db import writer

BIN = Path(sys.executable).parent
#: (method, path, JSON body or None) for the request number `i` of a client
Request = tuple[str, str, Any]
Maker = Callable[[random.Random], Request]


@dataclass(frozen=True)
class Server:
    """A gunicorn serving one side: its port and its master's process id."""

    port: int
    pid: int

    def cpu_seconds(self) -> float:
        """CPU time its workers have used so far (Linux /proc; 0 elsewhere)."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0.0
        try:
            children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
            for pid in children:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / tick
        except OSError:
            return 0.0
        return total


@dataclass(frozen=True)
class Side:
    """One side of a comparison: its server and how it builds its next request."""

    server: Server
    make: Maker
    expect: int = 200

    @property
    def port(self) -> int:
        return self.server.port


def options(doc: str | None, quick_help: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL URL (a fresh schema is made); default: temp SQLite")
    parser.add_argument("--rounds", type=int, default=None, help="alternating rounds")
    return parser.parse_args()


def fill(engine: Engine, n: int) -> str:
    """`n` deals through the record service; an API token of the admin user `bench`."""
    runtime = build_runtime(engine)
    with writer(engine).begin() as conn:
        ctx = runtime.context(conn, load_actor(conn, "bench"))
        for start in range(0, n, 5000):
            records.create_many(ctx, "deal", [deal_input(i) for i in
                                              range(start, min(n, start + 5000))],
                                returning=False)
        return create_token(conn, "bench")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(app: str, port: int, env: dict[str, str], chdir: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "-w", "2", "--threads", "4", "-b", f"127.0.0.1:{port}",
         "--chdir", str(chdir), "--log-level", "warning", app], env=env)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{app} did not start")


@contextmanager
def servers(engine: Engine) -> Iterator[tuple[Server, Server]]:
    """The generic app and the hand-written one on the database."""
    url = engine.url.render_as_string(hide_password=False)
    env = {**os.environ, "METABIZ_DATABASE_URL": url, "METABIZ_SECRET_KEY": "bench",
           "PYTHONPATH": str(ROOT)}
    generic_port, hand_port = free_port(), free_port()
    started = [_serve("metabiz.app:create_app()", generic_port, env, ROOT),
               _serve("handwritten_app:app", hand_port, env, ROOT / "benchmarks")]
    try:
        yield Server(generic_port, started[0].pid), Server(hand_port, started[1].pid)
    finally:
        for server in started:
            server.terminate()
            server.wait()


def drive(side: Side, token: str, requests: int, threads: int = 4) -> float:
    """Requests per second for `requests` requests over `threads` keep-alive clients."""
    counts = [requests // threads] * threads
    failures: list[str] = []

    def client(seed: int, count: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", side.port, timeout=60)
        rng = random.Random(seed)
        headers = {"Authorization": f"Bearer {token}"}
        for _ in range(count):
            method, path, body = side.make(rng)
            payload = None
            if body is not None:
                payload = json.dumps(body)
                headers = {**headers, "Content-Type": "application/json"}
            conn.request(method, path, body=payload, headers=headers)
            response = conn.getresponse()
            data = response.read()
            if response.status != side.expect:
                failures.append(f"{response.status} {data[:200]!r}")
        conn.close()

    workers = [threading.Thread(target=client, args=(seed, c)) for seed, c in enumerate(counts)]
    started = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{len(failures)} failed requests on port {side.port}: "
                           f"{failures[:3]}")
    return sum(counts) / elapsed


def _measured(side: Side, token: str, requests: int) -> tuple[float, float]:
    """(requests per second, server CPU milliseconds per request) of one round."""
    before = side.server.cpu_seconds()
    rate = drive(side, token, requests)
    return rate, 1000 * (side.server.cpu_seconds() - before) / requests


def duel(name: str, generic: Side, handwritten: Side, token: str, *, requests: int,
         rounds: int) -> float:
    """Both sides in turn, `rounds` times (who goes first alternates). The ratio is the
    median of the rounds' ratios generic / hand-written of requests per second, so a
    neighbour's load that comes and goes shifts both halves of a round alike. The servers'
    CPU time per request (the database server's not included) is printed beside it: on a
    busy machine it is the steadier figure."""
    # warm up both (imports, caches, connection pools) in every worker: each drive opens
    # new connections, which gunicorn's workers share out as they accept them; a worker
    # left cold would load the metadata in a measured round
    for _ in range(5):
        drive(generic, token, 40)
        drive(handwritten, token, 40)
    ratios: list[float] = []
    ours: list[tuple[float, float]] = []
    theirs: list[tuple[float, float]] = []
    for turn in range(rounds):
        if turn % 2:
            theirs.append(_measured(handwritten, token, requests))
            ours.append(_measured(generic, token, requests))
        else:
            ours.append(_measured(generic, token, requests))
            theirs.append(_measured(handwritten, token, requests))
        ratios.append(ours[-1][0] / theirs[-1][0])
    ratio = statistics.median(ratios)
    mine, base = (statistics.median(r for r, _ in ours), statistics.median(r for r, _ in theirs))
    cpu_mine, cpu_base = (statistics.median(c for _, c in ours),
                          statistics.median(c for _, c in theirs))
    cpu = f"{cpu_base / cpu_mine:.2f}" if cpu_mine else "n/a"
    print(f"[{name}] generic_requests_per_second={mine:.1f} "
          f"handwritten_requests_per_second={base:.1f} ratio={ratio:.2f} "
          f"cpu_ms_per_request={cpu_mine:.2f}/{cpu_base:.2f} cpu_ratio={cpu} "
          f"(rounds={rounds} x {requests} requests)")
    return ratio


def dialect(url: str | None) -> str:
    return "postgresql" if url and url.startswith("postgresql") else "sqlite"


def report(ratios: dict[str, float], url: str | None, goal: float) -> None:
    """The closing lines: the database, the load, the lowest ratio against its goal."""
    lowest = min(ratios.values())
    print(f"database={dialect(url)} load_average={os.getloadavg()[0]:.2f} "
          f"cpus={os.cpu_count()}")
    print(f"goal={goal} met={'yes' if lowest >= goal else 'no'}")
    print(f"generic_vs_handwritten={lowest:.2f}")


def prepared(url: str | None, rows: int) -> tuple[Engine, str]:
    """A fresh database with `rows` deals, and an API token."""
    engine = database(url)
    return engine, fill(engine, rows)


def random_deal(rng: random.Random) -> dict[str, Any]:
    return deal_input(rng.randrange(1_000_000))
