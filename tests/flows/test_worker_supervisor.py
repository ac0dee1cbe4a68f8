"""`metabiz worker --supervise` (what `metabiz serve` runs): a worker that dies is started
again, with a growing delay; stopping the supervisor stops its worker."""

from __future__ import annotations

import subprocess
import sys
import threading

from metabiz.flows import supervisor


def test_a_dying_worker_is_started_again_with_backoff(monkeypatch):
    monkeypatch.setattr(supervisor, "FIRST_DELAY", 0.05)
    said: list[str] = []
    spawned: list[subprocess.Popen[bytes]] = []
    stop = threading.Event()
    suicide = [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"]

    def spawn(argv):
        if len(spawned) == 3:
            stop.set()
            argv = [sys.executable, "-c", "import time; time.sleep(30)"]
        spawned.append(subprocess.Popen(argv))
        return spawned[-1]

    code = supervisor.supervise(suicide, say=said.append, stop=stop, spawn=spawn)
    assert len(spawned) == 4 and code != 0
    stops = [line for line in said if "stopped" in line]
    assert stops == ["job worker stopped (killed by SIGKILL); starting it again in 0.05 s",
                     "job worker stopped (killed by SIGKILL); starting it again in 0.1 s",
                     "job worker stopped (killed by SIGKILL); starting it again in 0.2 s"]
    assert spawned[-1].poll() is not None  # stopping the supervisor stopped its worker


def test_exit_codes_in_words():
    assert supervisor.describe(-9) == "killed by SIGKILL"
    assert supervisor.describe(1) == "exit code 1"
