"""Keeping a job worker running: `metabiz worker --supervise` (what `metabiz serve` starts)
runs the worker as a child process and starts it again whenever it dies.

A worker killed mid-job (out of memory, a stray `kill -9`) would otherwise leave every due job
waiting — and an import it was running "running" for ever. The new worker takes the dead one's
jobs over once their leases run out (jobs.py). Restarts back off (1 s doubling to a minute,
back to 1 s after a worker that ran a minute); SIGTERM or SIGINT stops the child, then this.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from types import FrameType

log = logging.getLogger(__name__)

FIRST_DELAY = 1.0
MAX_DELAY = 60.0
#: a worker that ran this long was healthy: the next restart waits FIRST_DELAY again
HEALTHY_SECONDS = 60.0


def describe(code: int) -> str:
    """How a child process ended, in words."""
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def supervise(argv: Sequence[str], *, say: Callable[[str], None],
              stop: threading.Event | None = None,
              spawn: Callable[[Sequence[str]], subprocess.Popen[bytes]] | None = None) -> int:
    """Run `argv` and run it again each time it ends other than by being stopped; returns the
    last child's exit code once `stop` is set (SIGTERM/SIGINT set it when not given)."""
    stopping = stop or threading.Event()
    start = spawn or (lambda args: subprocess.Popen(list(args)))
    child: subprocess.Popen[bytes] | None = None
    if stop is None:
        def on_signal(signum: int, frame: FrameType | None) -> None:
            stopping.set()
            if child is not None and child.poll() is None:
                child.terminate()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
    delay = FIRST_DELAY
    while True:
        started = time.monotonic()
        child = start(argv)
        say(f"job worker started (process {child.pid})")
        code = _wait(child, stopping)
        if stopping.is_set():
            return code
        if time.monotonic() - started >= HEALTHY_SECONDS:
            delay = FIRST_DELAY
        say(f"job worker stopped ({describe(code)}); starting it again in {delay:g} s")
        if stopping.wait(delay):
            return code
        delay = min(delay * 2, MAX_DELAY)


def _wait(child: subprocess.Popen[bytes], stopping: threading.Event) -> int:
    """The child's exit code; once `stopping` is set, the child is asked to stop first."""
    while True:
        try:
            return child.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            if stopping.is_set():
                child.terminate()
                try:
                    return child.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    child.kill()
                    return child.wait()
