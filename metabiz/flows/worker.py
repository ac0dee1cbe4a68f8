"""The worker: runs due jobs (notifications, e-mail, webhooks, time-based rules).

`metabiz worker [--once]` calls `run_worker`; `metabiz serve` runs one in a background
thread. Several workers may share a PostgreSQL database; on SQLite run one.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from metabiz.flows import automation, notifications, webhooks  # noqa: F401 - job kinds
from metabiz.flows.jobs import JobEnv, claim, run_job

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
BATCH = 10


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _app_secret() -> str:
    from metabiz.platform.config import Config

    return Config.from_env().secret_key


def run_worker(engine: Engine, *, once: bool = False, now: dt.datetime | None = None,
               stop: threading.Event | None = None, secret: str | Callable[[], str] | None = None,
               runtime: Any = None, poll_seconds: float = POLL_SECONDS, batch: int = BATCH,
               name: str | None = None) -> int:
    """Run due jobs; returns how many ran (successfully or not).

    `once`: run what is due (including jobs those jobs enqueue), then return. Otherwise
    poll until `stop` is set. `now` fixes the clock (tests, replays); webhooks are signed
    with `secret` (default: the app's METABIZ_SECRET_KEY).
    """
    from metabiz.flows import FLOW_KIND, write_listeners
    from metabiz.objects.runtime import Runtime

    worker = name or worker_name()
    runtime = runtime or Runtime(engine, write_listeners(), kinds=[FLOW_KIND])
    if secret is None:
        secret_of: Callable[[], str] = _app_secret
    elif isinstance(secret, str):
        fixed = secret

        def secret_of() -> str:
            return fixed
    else:
        secret_of = secret
    done = 0
    while True:
        moment = now or dt.datetime.now(dt.UTC)
        claimed = claim(engine, worker, moment, batch)
        for job in claimed:
            run_job(job, JobEnv(engine, moment, secret_of, runtime), worker)
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


def start_background_worker(engine: Engine, stop: threading.Event) -> threading.Thread:
    """A daemon thread running `run_worker` until `stop` is set (for `metabiz serve`)."""

    def loop() -> None:
        while not stop.is_set():
            try:
                run_worker(engine, stop=stop)
            except Exception:  # a database outage must not end the thread: retry shortly
                log.exception("background worker failed; restarting in 5 s")
                stop.wait(5)

    thread = threading.Thread(target=loop, name="metabiz-worker", daemon=True)
    thread.start()
    return thread
