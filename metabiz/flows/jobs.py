"""The job table: side effects enqueued inside a write and run after commit by the worker.

At least once, with idempotency keys: a job is claimed under a lease (`FOR UPDATE SKIP
LOCKED` on PostgreSQL), run, and marked done; failures are retried with exponential
backoff and recorded. One class per job kind, registered by name.

While a job runs, its worker renews the lease every HEARTBEAT (a thread), so a long job (a
100k-row import) keeps it; a worker that died stops renewing, and once the lease has run out
the next worker takes the job over (`Job.taken_over`), which tells the job's kind that the
previous attempt never finished.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy import Connection, Engine, and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from metabiz.errors import ConflictError, NotFound
from metabiz.flows.store import jobs
from metabiz.platform.config import SmtpSettings
from metabiz.platform.db import writer

log = logging.getLogger(__name__)

#: how long a claimed job is reserved for its worker before another may take it over
LEASE = dt.timedelta(minutes=5)
#: how often a running job's worker renews its lease (well within LEASE)
HEARTBEAT = dt.timedelta(minutes=1)
#: the first retry waits this long, each following one twice as long (capped at MAX_BACKOFF)
BACKOFF = dt.timedelta(seconds=30)
MAX_BACKOFF = dt.timedelta(hours=1)
DEFAULT_ATTEMPTS = 5
STATUSES = ("pending", "running", "done", "failed", "cancelled")


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    payload: Mapping[str, Any]
    attempts: int  # including the current one
    max_attempts: int
    run_at: dt.datetime
    idempotency_key: str | None
    #: claimed from a worker whose lease ran out while it ran the job (it died or hung)
    taken_over: bool = False

    @classmethod
    def of(cls, row: Any, taken_over: bool = False) -> Job:
        return cls(row["id"], row["kind"], row["payload"] or {}, row["attempts"],
                   row["max_attempts"], row["run_at"], row["idempotency_key"], taken_over)


@dataclass
class JobEnv:
    """What a running job may use: the engine, the worker's clock and settings."""

    engine: Engine
    now: dt.datetime  # aware UTC
    secret: Callable[[], str]
    runtime: Any  # metabiz.objects.runtime.Runtime with the flows' listeners
    smtp: SmtpSettings | None = None  # where e-mail goes; None: no e-mail
    conn: Connection | None = None  # the job's transaction (transactional kinds)
    #: which run of the job this is (1: the first; claims and retries count)
    attempt: int = 1
    #: the previous attempt's worker stopped before it finished (its lease ran out)
    taken_over: bool = False


class JobKind:
    """One kind of job. Transactional kinds run in the transaction that marks them done,
    so their database effects happen exactly once; others (HTTP) run outside it."""

    name: ClassVar[str]
    transactional: ClassVar[bool] = True
    backoff: ClassVar[dt.timedelta] = BACKOFF

    def run(self, job: Job, env: JobEnv) -> None:
        raise NotImplementedError


KINDS: dict[str, JobKind] = {}


class RegisteredKind(JobKind):
    """A job kind another package added through the kernel (`Extensions.add_job_kind`, e.g.
    spreadsheet imports): it runs outside the worker's transaction and opens its own."""

    transactional = False

    def __init__(self, name: str, runner: Callable[[Mapping[str, Any], Any], None]) -> None:
        self.kind_name = name
        self.runner = runner

    def run(self, job: Job, env: JobEnv) -> None:
        self.runner(job.payload, env)


def kind_of(name: str, env: JobEnv) -> JobKind | None:
    """The flows' own kind of that name, else one a package registered with the runtime."""
    if name in KINDS:
        return KINDS[name]
    extensions = getattr(env.runtime, "extensions", None)
    runner = extensions.job_kinds.get(name) if extensions is not None else None
    return RegisteredKind(name, runner) if runner is not None else None


def register(cls: type[JobKind]) -> type[JobKind]:
    KINDS[cls.name] = cls()
    return cls


# -- enqueueing (inside the caller's transaction) -------------------------------------


def enqueue(conn: Connection, kind: str, payload: Mapping[str, Any], *, run_at: dt.datetime,
            now: dt.datetime, key: str | None = None, ref: str | None = None,
            max_attempts: int = DEFAULT_ATTEMPTS) -> int:
    """Add a job (a no-op returning the existing id when `key` was enqueued before)."""
    if key is not None:
        existing = conn.execute(select(jobs.c.id).where(jobs.c.idempotency_key == key)).scalar()
        if existing is not None:
            return int(existing)
    values = {"kind": kind, "payload": dict(payload), "status": "pending",
              "run_at": run_at, "attempts": 0, "max_attempts": max_attempts,
              "idempotency_key": key, "ref": ref, "created_at": now}
    try:
        with conn.begin_nested():
            return int(conn.execute(insert(jobs).values(**values)
                                    .returning(jobs.c.id)).scalar_one())
    except IntegrityError:
        # another transaction enqueued the same key meanwhile
        return int(conn.execute(select(jobs.c.id).where(jobs.c.idempotency_key == key))
                   .scalar_one())


def reschedule(conn: Connection, kind: str, payload: Mapping[str, Any], *,
               run_at: dt.datetime, now: dt.datetime, key: str, ref: str) -> int:
    """Make sure the job keyed `key` will run: enqueue it, or revive it if it was cancelled
    (a date moved away and back). A job that already ran is left alone."""
    row = conn.execute(select(jobs.c.id, jobs.c.status)
                       .where(jobs.c.idempotency_key == key)).first()
    if row is None:
        return enqueue(conn, kind, payload, run_at=run_at, now=now, key=key, ref=ref)
    if row.status == "cancelled":
        conn.execute(update(jobs).where(jobs.c.id == row.id).values(
            status="pending", run_at=run_at, attempts=0, last_error=None))
    return int(row.id)


def cancel(conn: Connection, *, ref: str, keep_key: str | None = None) -> int:
    """Cancel the pending jobs of `ref` (except the one keyed `keep_key`)."""
    query = update(jobs).where(jobs.c.ref == ref, jobs.c.status == "pending")
    if keep_key is not None:
        query = query.where(or_(jobs.c.idempotency_key.is_(None),
                                jobs.c.idempotency_key != keep_key))
    return conn.execute(query.values(status="cancelled")).rowcount


def queue(conn: Connection, kind: str, payload: Mapping[str, Any]) -> int:
    """A job to run as soon as a worker is free, once (the kernel's `JobQueue`: how other
    packages, e.g. spreadsheet imports, put work on this table)."""
    now = dt.datetime.now(dt.UTC)
    return enqueue(conn, kind, payload, run_at=now, now=now, max_attempts=1)


# -- running (the worker) ---------------------------------------------------------------


def claim(engine: Engine, worker: str, now: dt.datetime, limit: int) -> list[Job]:
    """Reserve up to `limit` due jobs for `worker`: pending ones whose time has come and
    running ones whose worker's lease ran out (it died). Committed before they run."""
    due = or_(and_(jobs.c.status == "pending", jobs.c.run_at <= now),
              and_(jobs.c.status == "running", jobs.c.locked_until < now))
    with writer(engine).begin() as conn:
        query = select(jobs.c.id, jobs.c.status).where(due).order_by(
            jobs.c.run_at, jobs.c.id).limit(limit)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        found = {row.id: row.status == "running" for row in conn.execute(query)}
        if not found:
            return []
        ids = list(found)
        conn.execute(update(jobs).where(jobs.c.id.in_(ids), due).values(
            status="running", locked_by=worker, locked_until=now + LEASE,
            started_at=now, attempts=jobs.c.attempts + 1))
        rows = conn.execute(select(jobs).where(jobs.c.id.in_(ids), jobs.c.locked_by == worker,
                                               jobs.c.status == "running")
                            .order_by(jobs.c.run_at, jobs.c.id)).mappings()
        return [Job.of(r, taken_over=found[r["id"]]) for r in rows]


class LeaseLost(Exception):
    """Another worker took the job over (this one overran its lease): undo and let go."""


def _mine(job: Job, worker: str) -> Any:
    return and_(jobs.c.id == job.id, jobs.c.locked_by == worker, jobs.c.status == "running")


def complete(conn: Connection, job: Job, worker: str, now: dt.datetime) -> None:
    done = conn.execute(update(jobs).where(_mine(job, worker)).values(
        status="done", finished_at=now, locked_until=None, last_error=None))
    if done.rowcount != 1:
        raise LeaseLost(f"job {job.id} is no longer held by {worker}")


def fail(engine: Engine, job: Job, worker: str, now: dt.datetime, error: str,
         backoff: dt.timedelta = BACKOFF) -> str:
    """Record a failed attempt: retry later with backoff, or give up. Returns the status."""
    final = job.attempts >= job.max_attempts
    delay = min(backoff * (2 ** max(job.attempts - 1, 0)), MAX_BACKOFF)
    values: dict[str, Any] = {"last_error": error[:4000], "locked_until": None}
    if final:
        values.update(status="failed", finished_at=now)
    else:
        values.update(status="pending", run_at=now + delay)
    with writer(engine).begin() as conn:
        conn.execute(update(jobs).where(_mine(job, worker)).values(**values))
    return str(values["status"])


class Heartbeat:
    """Renews a running job's lease every HEARTBEAT from a thread of its own, so the job
    keeps it however long it runs; `lost` once another worker holds the job."""

    def __init__(self, engine: Engine, job: Job, worker: str, now: dt.datetime,
                 claimed: float | None = None) -> None:
        """`now`: the worker's clock when it claimed the job, at `time.monotonic()` `claimed`
        (default: this moment)."""
        self.engine, self.job, self.worker, self.now = engine, job, worker, now
        self.lost = False
        self._claimed = time.monotonic() if claimed is None else claimed
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"lease-{job.id}",
                                        daemon=True)

    def __enter__(self) -> Heartbeat:
        if time.monotonic() - self._claimed > HEARTBEAT.total_seconds():
            # the jobs claimed before it took a while: renew before it starts
            try:
                self.renew()
            except Exception as err:
                log.info("job %s: could not renew its lease yet: %s", self.job.id, err)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def renew(self) -> bool:
        """Push the lease LEASE past the worker's clock (its `now` plus the time since the
        claim); False when the job is no longer this worker's."""
        moment = self.now + dt.timedelta(seconds=time.monotonic() - self._claimed)
        with writer(self.engine).begin() as conn:
            kept = conn.execute(update(jobs).where(_mine(self.job, self.worker)).values(
                locked_until=moment + LEASE)).rowcount == 1
        self.lost = self.lost or not kept
        return kept

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT.total_seconds()):
            try:
                if not self.renew():
                    if not self._stop.is_set():  # (not simply finished meanwhile)
                        log.warning("job %s: another worker took it over", self.job.id)
                    return
            except Exception as err:  # e.g. SQLite busy while the job itself writes
                log.info("job %s: could not renew its lease yet: %s", self.job.id, err)


def run_job(job: Job, env: JobEnv, worker: str, claimed: float | None = None) -> bool:
    """Run one claimed job (claimed at `time.monotonic()` `claimed`, when `env.now` was the
    worker's clock), renewing its lease meanwhile; True when it succeeded."""
    env.attempt, env.taken_over = job.attempts, job.taken_over
    with Heartbeat(env.engine, job, worker, env.now, claimed):
        return _run(job, env, worker)


def _run(job: Job, env: JobEnv, worker: str) -> bool:
    kind = kind_of(job.kind, env)
    try:
        if kind is None:
            raise LookupError(f"unknown job kind {job.kind!r}")
        if job.taken_over and job.attempts > job.max_attempts and \
                not isinstance(kind, RegisteredKind):
            # the flows' own kinds: a job whose worker keeps dying is given up; a package's
            # kind is run, and decides what an attempt that never finished means for it
            raise RuntimeError(f"its worker stopped before it finished, {job.attempts - 1} "
                               "times (the lease ran out)")
        if kind.transactional:
            with writer(env.engine).begin() as conn:
                env.conn = conn
                try:
                    kind.run(job, env)
                    complete(conn, job, worker, env.now)
                finally:
                    env.conn = None
        else:
            kind.run(job, env)
            with writer(env.engine).begin() as conn:
                complete(conn, job, worker, env.now)
        return True
    except LeaseLost as err:
        log.warning("%s", err)
        return False
    except Exception as err:  # every failure is recorded on the job and logged
        message = f"{type(err).__name__}: {err}"
        status = fail(env.engine, job, worker, env.now, message,
                      kind.backoff if kind else BACKOFF)
        log.warning("job %s (%s) attempt %s failed (%s): %s", job.id, job.kind, job.attempts,
                    status, message)
        return False


# -- listing and retrying (the CLI) -----------------------------------------------------


def list_jobs(conn: Connection, *, status: str | None = None,
              limit: int = 50) -> list[dict[str, Any]]:
    query = select(jobs).order_by(jobs.c.id.desc()).limit(limit)
    if status:
        query = query.where(jobs.c.status == status)
    return [dict(r) for r in conn.execute(query).mappings()]


def retry(conn: Connection, job_id: int, now: dt.datetime) -> None:
    """Run a failed (or cancelled) job again as soon as a worker is free."""
    row = conn.execute(select(jobs.c.status).where(jobs.c.id == job_id)).first()
    if row is None:
        raise NotFound(f"no job with id {job_id}")
    if row.status not in ("failed", "cancelled"):
        raise ConflictError(f"job {job_id} is {row.status}: only failed or cancelled jobs "
                            "can be retried")
    conn.execute(update(jobs).where(jobs.c.id == job_id).values(
        status="pending", run_at=now, attempts=0, finished_at=None,
        locked_by=None, locked_until=None))
