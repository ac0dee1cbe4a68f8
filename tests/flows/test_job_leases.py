"""Leases of running jobs: the worker renews them while a job runs (however long), a job
claimed in a batch renews its lease before it starts, and a job of the flows' own kinds whose
worker keeps dying is given up instead of taken over for ever."""

from __future__ import annotations

import datetime as dt
import time

from sqlalchemy import select

from metabiz.flows import jobs
from metabiz.flows.store import jobs as job_table
from metabiz.flows.worker import run_worker
from metabiz.platform.db import writer

SECRET = "leases"


def test_a_running_job_keeps_its_lease(flowapp, runtime, monkeypatch):
    monkeypatch.setattr(jobs, "HEARTBEAT", dt.timedelta(seconds=0.1))
    seen: list[dt.datetime] = []

    def slow(payload, env) -> None:
        time.sleep(0.6)
        with flowapp.connect() as conn:
            seen.append(conn.execute(select(job_table.c.locked_until)).scalar_one())

    runtime.extensions.job_kinds["slow"] = slow
    with writer(flowapp).begin() as conn:
        jobs.queue(conn, "slow", {})
    now = dt.datetime.now(dt.UTC)
    assert run_worker(flowapp, once=True, now=now, secret=SECRET, runtime=runtime) == 1
    first_lease = (now + jobs.LEASE).replace(tzinfo=None)
    assert seen and seen[0] > first_lease + dt.timedelta(seconds=0.3)


def test_a_job_claimed_in_a_batch_renews_its_lease_before_it_starts(flowapp, runtime,
                                                                    monkeypatch):
    """Jobs of one batch wait for those before them: the lease runs from the claim, so a
    later job renews it first rather than start with little of it left."""
    monkeypatch.setattr(jobs, "HEARTBEAT", dt.timedelta(seconds=0.1))
    leases: dict[int, dt.datetime] = {}

    def note(payload, env) -> None:
        if payload["slow"]:
            time.sleep(0.4)
        with flowapp.connect() as conn:
            leases[payload["n"]] = conn.execute(select(job_table.c.locked_until).where(
                job_table.c.payload["n"].as_integer() == payload["n"])).scalar_one()

    runtime.extensions.job_kinds["note"] = note
    with writer(flowapp).begin() as conn:
        jobs.queue(conn, "note", {"n": 1, "slow": True})
        jobs.queue(conn, "note", {"n": 2, "slow": False})
    now = dt.datetime.now(dt.UTC)
    assert run_worker(flowapp, once=True, now=now, secret=SECRET, runtime=runtime) == 2
    assert leases[2] > (now + jobs.LEASE).replace(tzinfo=None) + dt.timedelta(seconds=0.35)


def test_a_job_whose_worker_keeps_dying_is_given_up(flowapp, runtime):
    """A flows job taken over more often than its attempts allow fails with a message; a
    package's kind is told it was taken over instead (and decides)."""
    told: list[tuple[int, bool]] = []
    runtime.extensions.job_kinds["told"] = lambda payload, env: told.append(
        (env.attempt, env.taken_over))
    now = dt.datetime.now(dt.UTC)
    with writer(flowapp).begin() as conn:
        own = jobs.enqueue(conn, "notify", {"recipients": []}, run_at=now, now=now,
                           max_attempts=2)
        jobs.queue(conn, "told", {})
    moment = now + dt.timedelta(seconds=1)  # queue() stamps its job with the clock
    for worker in ("dies-1", "dies-2"):  # claimed, then the worker dies
        assert len(jobs.claim(flowapp, worker, moment, 10)) == 2
        moment += jobs.LEASE + dt.timedelta(seconds=1)
    run_worker(flowapp, once=True, now=moment, secret=SECRET, runtime=runtime)
    with flowapp.connect() as conn:
        row = conn.execute(select(job_table).where(job_table.c.id == own)).one()
    assert (row.status, row.attempts) == ("failed", 3)
    assert "its worker stopped before it finished, 2 times" in row.last_error
    assert told == [(3, True)]
