"""The worker: runs due jobs (notifications, e-mail, webhooks, time-based rules).

`metabiz worker [--once]` calls `run_worker` with the runtime the composition root built;
`metabiz serve` starts that command as a child process. Several workers may share a
PostgreSQL database; on SQLite run one.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from metabiz.flows import automation, notifications, webhooks  # noqa: F401 - job kinds
from metabiz.flows.jobs import JobEnv, claim, run_job
from metabiz.platform.config import SmtpSettings

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
BATCH = 10


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def run_worker(engine: Engine, *, runtime: Any, secret: str | Callable[[], str],
               once: bool = False, now: dt.datetime | None = None,
               stop: threading.Event | None = None, poll_seconds: float = POLL_SECONDS,
               batch: int = BATCH, name: str | None = None,
               smtp: SmtpSettings | None = None) -> int:
    """Run due jobs; returns how many ran (successfully or not).

    `once`: run what is due (including jobs those jobs enqueue), then return. Otherwise
    poll until `stop` is set. `now` fixes the clock (tests, replays); webhooks are signed
    with `secret` (the app's METABIZ_SECRET_KEY); e-mail goes through `smtp` (none: no mail). `runtime` is the process's runtime, with
    the write listeners of every package (automation runs inside the jobs' writes).
    """
    worker = name or worker_name()
    secret_of: Callable[[], str]
    if isinstance(secret, str):
        fixed = secret

        def secret_of() -> str:
            return fixed
    else:
        secret_of = secret
    done = 0
    while True:
        moment = now or dt.datetime.now(dt.UTC)
        since = time.monotonic()
        claimed = claim(engine, worker, moment, batch)
        for job in claimed:
            run_job(job, JobEnv(engine, moment, secret_of, runtime, smtp), worker, since)
            done += 1
        if stop is not None and stop.is_set():
            break
        if not claimed:
            if once:
                break
            if stop is None:
                threading.Event().wait(poll_seconds)
            elif stop.wait(poll_seconds):
                break
    return done
