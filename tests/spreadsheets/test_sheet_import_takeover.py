"""Imports whose worker dies: the job's lease runs out, the next worker takes the job over and
the import starts again from the first row (nothing of the dead attempt was written); a
second death fails it with a message saying so. A worker that only seemed dead cannot commit
over the run that replaced it. On both databases; one test kills a real worker process."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time

from sqlalchemy import select

from metabiz.flows import jobs
from metabiz.flows.store import jobs as job_table
from metabiz.flows.worker import run_worker
from metabiz.objects import records
from metabiz.objects.search import search
from metabiz.platform.access import SYSTEM
from metabiz.platform.db import writer
from metabiz.spreadsheets import background, store
from tests.spreadsheets.conftest import SECRET
from tests.spreadsheets.test_sheet_api import GOOD, headers, status, upload


def a_worker_dies_holding(engine, import_id: int, name: str, now: dt.datetime) -> None:
    """What a worker that died mid-import leaves behind: the job running under its lease,
    the import running (its transaction, never committed, is gone)."""
    claimed = jobs.claim(engine, name, now, 10)
    assert [j.payload["import"] for j in claimed] == [import_id]
    assert store.claim(engine, import_id, taken_over=claimed[0].taken_over) is not None


def later(now: dt.datetime, leases: int = 1) -> dt.datetime:
    return now + leases * (jobs.LEASE + dt.timedelta(seconds=1))


def test_an_import_whose_worker_died_starts_again_and_says_so(client, engine, runtime, count,
                                                              rows, browser_session):
    import_id = upload(client, "alice", "deals.csv", GOOD).get_json()["id"]
    now = dt.datetime.now(dt.UTC)
    a_worker_dies_holding(engine, import_id, "dead-worker", now)
    assert status(client, "alice", import_id)["status"] == "running"
    # while the lease holds, no other worker takes the job
    assert run_worker(engine, once=True, now=now + dt.timedelta(minutes=1), secret=SECRET,
                      runtime=runtime) == 0
    assert status(client, "alice", import_id)["status"] == "running"
    # once it has run out, the next worker starts the import again
    assert run_worker(engine, once=True, now=later(now), secret=SECRET, runtime=runtime) == 1
    done = status(client, "alice", import_id)
    assert (done["status"], done["created"], done["written"]) == ("done", 2, True)
    assert done["message"] == store.RESTARTED
    assert [d["name"] for d in rows("opportunity")] == ["Alpha", "Beta"]  # once, not twice
    with engine.connect() as conn:
        job = conn.execute(select(job_table).where(job_table.c.kind == "import")).one()
    assert (job.status, job.attempts) == ("done", 2)
    # the page says what happened, in the user's language
    browser_session(client, "alice")
    page = client.get(f"/o/opportunity/import/{import_id}/progress?lang=zh")
    assert "导入已从第一行重新开始" in page.get_data(as_text=True)


def test_an_import_whose_worker_dies_twice_fails_with_a_clear_message(client, engine, runtime,
                                                                      count, browser_session):
    import_id = upload(client, "alice", "deals.csv", GOOD).get_json()["id"]
    now = dt.datetime.now(dt.UTC)
    a_worker_dies_holding(engine, import_id, "first-dead", now)
    a_worker_dies_holding(engine, import_id, "second-dead", later(now))
    with engine.connect() as conn:
        assert store.load(conn, import_id)["message"] == store.RESTARTED
    run_worker(engine, once=True, now=later(now, 2), secret=SECRET, runtime=runtime)
    failed = status(client, "alice", import_id)
    assert (failed["status"], failed["written"]) == ("failed", False)
    assert failed["message"] == store.WORKER_STOPPED
    assert "split it into smaller files" in failed["message"]
    assert count("obj_opportunity") == 0
    browser_session(client, "alice")
    page = client.get(f"/o/opportunity/import/{import_id}/progress?lang=en")
    page = page.get_data(as_text=True)
    assert "The import stopped twice because the worker running it stopped" in page


def test_a_run_that_was_replaced_cannot_commit(client, engine, runtime, count, monkeypatch):
    """The first worker only seemed dead: another started the import again meanwhile, so the
    first one's rows are rolled back instead of being written twice."""
    import_id = upload(client, "alice", "deals.csv", GOOD).get_json()["id"]
    counted = background.count_rows

    def replaced_meanwhile(filename: str, data: bytes) -> int:
        assert store.claim(engine, import_id, taken_over=True) is not None
        return counted(filename, data)

    monkeypatch.setattr(background, "count_rows", replaced_meanwhile)
    env = jobs.JobEnv(engine, dt.datetime.now(dt.UTC), lambda: SECRET, runtime)
    background.run_import_job({"import": import_id}, env)
    assert count("obj_opportunity") == 0
    left = status(client, "alice", import_id)
    assert (left["status"], left["created"], left["message"]) == ("running", 0, store.RESTARTED)


def test_killing_a_worker_mid_import_leaves_nothing_half_written(client, engine, runtime,
                                                                  count, db_url, tmp_path):
    lines = ["name,account,stage,amount,close_date,code"]
    lines += [f"Deal {i},Acme Corp,negotiation,{i},2026-11-23,K-{i}" for i in range(6000)]
    import_id = upload(client, "alice", "big.csv", "\n".join(lines).encode()).get_json()["id"]
    env = {**os.environ, "METABIZ_INSTANCE": str(tmp_path / "instance"),
           "METABIZ_SECRET_KEY": SECRET}
    worker = subprocess.Popen([sys.executable, "-m", "metabiz.cli", "worker",
                               "--database-url", db_url], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wanted = "writing" if engine.dialect.name == "sqlite" else "processed"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                row = store.load(conn, import_id)
            if row["phase"] == "writing" and (wanted == "writing" or row["processed"] > 0):
                break
            time.sleep(0.05)
        else:
            raise AssertionError(f"the worker did not get going: {row}")
        time.sleep(0.3)  # well inside the import's transaction
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    with engine.connect() as conn:
        assert store.load(conn, import_id)["status"] == "running"
    assert count("obj_opportunity") == 0  # the dead worker's rows never committed
    now = dt.datetime.now(dt.UTC)
    run_worker(engine, once=True, now=later(now), secret=SECRET, runtime=runtime)
    done = status(client, "alice", import_id)
    assert (done["status"], done["created"], done["message"]) == ("done", 6000, store.RESTARTED)
    assert count("obj_opportunity") == 6000
    assert client.get(f"/api/v1/imports/{import_id}",
                      headers=headers(client, "alice")).get_json()["processed"] == 6000
    # the killed run had taken SQLite's search-index trigger out in its transaction (to fill
    # the index at its end): the rollback put it back, and the run that replaced it is found
    with engine.connect() as conn:
        ctx = runtime.context(conn, SYSTEM)
        assert [h.name for h in search(ctx, "K-5999", objects=["opportunity"])] == \
            ["Deal 5999"]
    with writer(engine).begin() as conn:
        records.create(runtime.context(conn, SYSTEM), "opportunity", {"name": "After 6000"})
    with engine.connect() as conn:
        hits = search(runtime.context(conn, SYSTEM), "After 6000", objects=["opportunity"])
        assert [h.name for h in hits] == ["After 6000"]



def test_a_supervised_worker_killed_is_started_again_and_runs_the_import(client, engine,
                                                                        db_url, tmp_path):
    """What `metabiz serve` runs: after its worker is killed, imports still get done."""
    env = {**os.environ, "METABIZ_INSTANCE": str(tmp_path / "instance"),
           "METABIZ_SECRET_KEY": SECRET}
    supervised = subprocess.Popen([sys.executable, "-m", "metabiz.cli", "worker",
                                   "--supervise", "--database-url", db_url], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    started: list[int] = []
    ready = threading.Condition()

    def read() -> None:
        for line in supervised.stderr:
            if line.startswith("job worker started (process "):
                with ready:
                    started.append(int(line.split("process ")[1].rstrip(")\n")))
                    ready.notify_all()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        with ready:
            assert ready.wait_for(lambda: len(started) == 1, timeout=60)
        os.kill(started[0], signal.SIGKILL)
        with ready:
            assert ready.wait_for(lambda: len(started) == 2, timeout=60)
        import_id = upload(client, "alice", "deals.csv", GOOD).get_json()["id"]
        deadline = time.monotonic() + 90
        while status(client, "alice", import_id)["status"] == "running":
            assert time.monotonic() < deadline, "the restarted worker did not run the import"
            time.sleep(0.2)
        assert status(client, "alice", import_id)["created"] == 2
    finally:
        supervised.send_signal(signal.SIGTERM)
        assert supervised.wait(60) is not None
    assert started[1] != started[0]
    try:
        os.kill(started[1], 0)
        alive = True
    except ProcessLookupError:
        alive = False
    assert not alive  # stopping the supervisor stopped its worker
