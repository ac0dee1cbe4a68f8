"""The job table and the worker: no job run twice by concurrent workers, none lost;
retries with backoff, failures recorded, leases taken over, `metabiz jobs list|retry`."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from click.testing import CliRunner
from sqlalchemy import func, insert, select

from metabiz.cli import main as metabiz_cli
from metabiz.flows import jobs as job_module
from metabiz.flows.jobs import JobEnv, JobKind, claim, enqueue, run_job
from metabiz.flows.store import jobs, notifications
from metabiz.flows.worker import run_worker
from metabiz.objects import records
from metabiz.platform.db import make_engine, writer

T0 = dt.datetime(2031, 6, 1, 12, tzinfo=dt.UTC)


class Recorder(JobKind):
    """A test job kind: remembers which jobs ran, fails when the payload says so."""

    name = "record"

    def __init__(self) -> None:
        self.ran: list[int] = []
        self.lock = threading.Lock()

    def run(self, job, env) -> None:
        with self.lock:
            self.ran.append(job.id)
        if job.payload.get("fail"):
            raise RuntimeError("boom")


@pytest.fixture
def recorder(monkeypatch) -> Recorder:
    kind = Recorder()
    monkeypatch.setitem(job_module.KINDS, "record", kind)
    return kind


def add_jobs(engine, count: int, **payload) -> list[int]:
    with writer(engine).begin() as conn:
        return [enqueue(conn, "record", payload, run_at=T0, now=T0) for _ in range(count)]


def statuses(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(conn.execute(select(jobs.c.status, func.count()).group_by(jobs.c.status))
                    .all())


def test_two_workers_run_a_thousand_jobs_once_each(db_url, flowapp, recorder, runtime):
    if not db_url.startswith("postgresql"):
        pytest.skip("several workers need PostgreSQL (SKIP LOCKED)")
    with writer(flowapp).begin() as conn:
        conn.execute(insert(jobs), [
            {"kind": "record", "payload": {}, "status": "pending", "run_at": T0.replace(tzinfo=None),
             "attempts": 0, "max_attempts": 5, "created_at": T0.replace(tzinfo=None)}
            for _ in range(1000)])
    counts: dict[str, int] = {}
    barrier = threading.Barrier(2)

    def work(name: str) -> None:
        engine = make_engine(db_url)  # each worker has its own connections
        barrier.wait()
        counts[name] = run_worker(engine, once=True, now=T0, name=name, secret="s",
                                  runtime=runtime, batch=5)
        engine.dispose()

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(recorder.ran) == 1000 and len(set(recorder.ran)) == 1000
    assert counts["w1"] + counts["w2"] == 1000 and min(counts.values()) > 0
    assert statuses(flowapp) == {"done": 1000}
    with flowapp.connect() as conn:
        assert conn.execute(select(func.max(jobs.c.attempts))).scalar() == 1
        by_worker = dict(conn.execute(select(jobs.c.locked_by, func.count())
                                      .group_by(jobs.c.locked_by)).all())
    assert by_worker == counts


def test_one_worker_runs_everything_due(flowapp, recorder, runtime):
    add_jobs(flowapp, 25)
    with writer(flowapp).begin() as conn:
        enqueue(conn, "record", {}, run_at=T0 + dt.timedelta(hours=1), now=T0)
    assert run_worker(flowapp, once=True, now=T0, runtime=runtime, secret="s") == 25
    assert statuses(flowapp) == {"done": 25, "pending": 1}


def test_failures_retry_with_backoff_then_fail(flowapp, recorder, runtime):
    [job_id] = add_jobs(flowapp, 1, fail=True)
    now = T0
    delays = []
    for _ in range(5):
        assert run_worker(flowapp, once=True, now=now, runtime=runtime, secret="s") == 1
        with flowapp.connect() as conn:
            row = conn.execute(select(jobs).where(jobs.c.id == job_id)).mappings().one()
        assert row["last_error"] == "RuntimeError: boom"
        if row["status"] == "failed":
            break
        delays.append(row["run_at"] - now.replace(tzinfo=None))
        # not due before its time
        assert run_worker(flowapp, once=True, now=now + delays[-1] - dt.timedelta(seconds=1),
                          runtime=runtime, secret="s") == 0
        now = now + delays[-1]
    assert delays == [dt.timedelta(seconds=s) for s in (30, 60, 120, 240)]
    assert row["status"] == "failed" and row["attempts"] == 5
    assert len(recorder.ran) == 5


def test_idempotency_key_enqueues_once(flowapp):
    with writer(flowapp).begin() as conn:
        first = enqueue(conn, "record", {}, run_at=T0, now=T0, key="k1")
        second = enqueue(conn, "record", {"other": 1}, run_at=T0, now=T0, key="k1")
    assert first == second and statuses(flowapp) == {"pending": 1}


def test_an_abandoned_job_is_taken_over_and_its_effects_stay_single(flowapp, work, runtime):
    with work("sam") as ctx:
        records.create(ctx, "ticket", {"subject": "Fire", "priority": "urgent"})
    [stale] = claim(flowapp, "dead-worker", T0, 10)
    assert stale.kind == "notify"
    # before the lease runs out nobody else may take it
    assert claim(flowapp, "other", T0 + dt.timedelta(minutes=4), 10) == []
    later = T0 + dt.timedelta(minutes=6)
    assert run_worker(flowapp, once=True, now=later, runtime=runtime, secret="s") == 1
    # the first worker wakes up and finishes too: its work is undone, not doubled
    assert run_job(stale, JobEnv(flowapp, T0, lambda: "s", runtime), "dead-worker") is False
    with flowapp.connect() as conn:
        per_user = dict(conn.execute(select(notifications.c.user_name, func.count())
                                     .group_by(notifications.c.user_name)).all())
        row = conn.execute(select(jobs).where(jobs.c.id == stale.id)).mappings().one()
    assert per_user == {"sam": 1, "tina": 1, "uma": 1}
    assert row["status"] == "done" and row["attempts"] == 2


def test_unknown_kind_is_recorded_as_a_failure(flowapp, runtime):
    with writer(flowapp).begin() as conn:
        job_id = enqueue(conn, "mystery", {}, run_at=T0, now=T0, max_attempts=1)
    run_worker(flowapp, once=True, now=T0, runtime=runtime, secret="s")
    with flowapp.connect() as conn:
        row = conn.execute(select(jobs).where(jobs.c.id == job_id)).mappings().one()
    assert row["status"] == "failed" and "unknown job kind" in row["last_error"]


def test_cli_lists_and_retries_failed_jobs(db_url, flowapp, recorder, runtime):
    [failing] = add_jobs(flowapp, 1, fail=True)
    add_jobs(flowapp, 1)
    with writer(flowapp).begin() as conn:
        conn.execute(jobs.update().where(jobs.c.id == failing).values(max_attempts=1))
    run_worker(flowapp, once=True, now=T0, runtime=runtime, secret="s")
    runner = CliRunner()
    listed = runner.invoke(metabiz_cli, ["jobs", "list", "--status", "failed", "--database-url", db_url])
    assert listed.exit_code == 0, listed.output
    [line] = listed.output.splitlines()
    assert line.startswith(f"{failing}\trecord\tfailed\t1/1\t") and "RuntimeError: boom" in line
    everything = runner.invoke(metabiz_cli, ["jobs", "list", "--json"], env={"METABIZ_DATABASE_URL": db_url})
    assert everything.exit_code == 0 and len(everything.output.splitlines()) == 2

    retried = runner.invoke(metabiz_cli, ["jobs", "retry", str(failing), "--database-url", db_url])
    assert retried.exit_code == 0 and f"job {failing}" in retried.output
    assert statuses(flowapp) == {"done": 1, "pending": 1}
    done_one = runner.invoke(metabiz_cli, ["jobs", "retry", str(failing + 1), "--database-url", db_url])
    assert done_one.exit_code == 1 and "only failed" in done_one.output
    missing = runner.invoke(metabiz_cli, ["jobs", "retry", "999999", "--database-url", db_url])
    assert missing.exit_code == 1 and "no job" in missing.output
