"""Scale-out on PostgreSQL: two `metabiz serve` processes and two `metabiz worker` processes
on one database under a bounded concurrent load (issue 17).

0 failed requests; every automation job runs exactly once (each new account gets exactly
one follow-up opportunity in the write, and one webhook delivery from a worker's job);
concurrent increments with optimistic locking lose nothing; an
apply made while both serve is seen by each on its next request. Under ~60 s.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

SALES = Path(__file__).resolve().parents[1] / "fixtures" / "sales"
METABIZ = str(Path(sys.executable).with_name("metabiz"))
CLIENTS = 4
ROUNDS = 12  # per client: one new account and one increment each


def follow_up(hook: str) -> dict:
    return {"api_name": "account_follow_up", "kind": "automation", "object": "account",
            "label": "Follow up a new account", "trigger": "created",
            "actions": [{"create": {"object": "opportunity", "values": {
                "name": "\"Follow-up \" & name", "account": "id"}}},
                        {"webhook": {"url": hook, "fields": ["name"]}}]}


class Deliveries(BaseHTTPRequestHandler):
    """The webhook receiver: counts the deliveries per record id."""

    seen: Counter[int] = Counter()

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Deliveries.seen[body["record_id"]] += 1
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cli(url: str, *args: str, cwd: Path) -> str:
    done = subprocess.run([METABIZ, *args[:1], *([args[1]] if args[0] in ("users", "tokens")
                                                  else []),
                           "--database-url", url,
                           *args[2 if args[0] in ("users", "tokens") else 1:]],
                          cwd=cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def cluster(db_url: str, tmp_path: Path) -> Iterator[tuple[str, list[str], str]]:
    if not db_url.startswith("postgresql"):
        pytest.skip("scale-out runs on PostgreSQL (SQLite serves one machine)")
    app = tmp_path / "sales"
    shutil.copytree(SALES, app)
    (app / "flows").mkdir()
    Deliveries.seen.clear()
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Deliveries)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    (app / "flows" / "account_follow_up.json").write_text(json.dumps(follow_up(hook)))
    cli(db_url, "init", cwd=tmp_path)
    cli(db_url, "apply", str(app), cwd=tmp_path)
    cli(db_url, "users", "create", "admin", "--password", "admin-pw", "--role", "admin",
        cwd=tmp_path)
    token = cli(db_url, "tokens", "create", "admin", cwd=tmp_path).strip()
    env = {**os.environ, "METABIZ_SECRET_KEY": "scale-out-test"}
    processes: list[subprocess.Popen[bytes]] = []
    urls = []
    for _ in range(2):
        port = free_port()
        processes.append(subprocess.Popen(
            [METABIZ, "serve", "--database-url", db_url, "--port", str(port),
             "--workers", "2", "--no-worker"], cwd=tmp_path, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        urls.append(f"http://127.0.0.1:{port}/api/v1")
    for _ in range(2):
        processes.append(subprocess.Popen(
            [METABIZ, "worker", "--database-url", db_url], cwd=tmp_path, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
    try:
        deadline = time.monotonic() + 30
        for url in urls:
            while True:
                try:
                    if requests.get(f"{url}/openapi.json", timeout=2).status_code == 200:
                        break
                except requests.ConnectionError:
                    pass
                assert time.monotonic() < deadline, "a server did not start"
                time.sleep(0.2)
        yield db_url, urls, token
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        receiver.shutdown()


def test_two_servers_and_two_workers_on_one_database(cluster, tmp_path):
    db_url, urls, token = cluster
    session_headers = {"Authorization": f"Bearer {token}"}
    counter = requests.post(f"{urls[0]}/records/account", headers=session_headers,
                            json={"name": "Counter", "credit_limit": 0}, timeout=10).json()
    failed: list[str] = []
    created: list[int] = [counter["id"]]
    increments = [0]
    lock = threading.Lock()

    def client(number: int) -> None:
        http = requests.Session()
        http.headers.update(session_headers)
        for round_ in range(ROUNDS):
            here, there = urls[(number + round_) % 2], urls[(number + round_ + 1) % 2]
            made = http.post(f"{here}/records/account",
                             json={"name": f"Client {number} round {round_}"}, timeout=30)
            if made.status_code != 201:
                failed.append(f"create {made.status_code} {made.text[:200]}")
                continue
            with lock:
                created.append(made.json()["id"])
            while True:  # read on one server, write on the other: a conflict is retried
                current = http.get(f"{here}/records/account/{counter['id']}", timeout=30)
                if current.status_code != 200:
                    failed.append(f"read {current.status_code} {current.text[:200]}")
                    break
                body = current.json()
                sent = http.patch(f"{there}/records/account/{counter['id']}", timeout=30,
                                  json={"credit_limit": body["credit_limit"] + 1,
                                        "version": body["version"]})
                if sent.status_code == 409:
                    continue
                if sent.status_code != 200:
                    failed.append(f"patch {sent.status_code} {sent.text[:200]}")
                else:
                    with lock:
                        increments[0] += 1
                break

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    # an apply while both serve (a third process, as `metabiz apply` from an admin's shell)
    app = tmp_path / "sales"
    account_file = app / "objects" / "account.json"
    account = json.loads(account_file.read_text())
    account["fields"].append({"api_name": "segment", "type": "text", "label": "Segment",
                              "default": "\"smb\""})
    account_file.write_text(json.dumps(account))
    time.sleep(1)
    cli(db_url, "apply", str(app), cwd=tmp_path)
    for url in urls:  # each server's next request knows the new field
        fields = requests.get(f"{url}/meta/objects/account", headers=session_headers,
                              timeout=10).json()["fields"]
        assert "segment" in [f["api_name"] for f in fields], url
        made = requests.post(f"{url}/records/account", headers=session_headers, timeout=10,
                             json={"name": f"After apply via {url[-12:]}", "segment": "ent"})
        assert made.status_code == 201 and made.json()["segment"] == "ent", made.text
        created.append(made.json()["id"])
    for thread in threads:
        thread.join()

    assert failed == []
    final = requests.get(f"{urls[1]}/records/account/{counter['id']}",
                         headers=session_headers, timeout=10).json()
    assert final["credit_limit"] == increments[0] == CLIENTS * ROUNDS  # no lost update
    engine = create_engine(db_url)
    try:
        deadline = time.monotonic() + 30
        with engine.connect() as conn:
            while conn.execute(text("SELECT count(*) FROM flow_jobs WHERE status IN "
                                    "('pending', 'running')")).scalar_one():
                assert time.monotonic() < deadline, "the workers did not drain the jobs"
                time.sleep(0.3)
                conn.rollback()
            follow_ups = dict(conn.execute(text(
                "SELECT account, count(*) FROM obj_opportunity WHERE name LIKE 'Follow-up %' "
                "GROUP BY account")).all())
            jobs = dict(conn.execute(text(
                "SELECT status, count(*) FROM flow_jobs GROUP BY status")).all())
            workers = conn.execute(text(
                "SELECT count(DISTINCT locked_by) FROM flow_jobs")).scalar_one()
    finally:
        engine.dispose()
    # every account created got exactly one follow-up and one delivery: no job lost, none
    # run twice
    assert {a: follow_ups.get(a, 0) for a in created} == {a: 1 for a in created}
    assert {a: Deliveries.seen[a] for a in created} == {a: 1 for a in created}
    assert set(Deliveries.seen) == {*created}
    assert jobs == {"done": len(created)}, jobs
    assert workers == 2  # both workers took jobs
