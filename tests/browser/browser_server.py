"""A metabiz app served over real HTTP for the browser tests: a threaded WSGI server on a
free port of 127.0.0.1 (with a job worker beside it if asked), stopped when the block ends."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from werkzeug.serving import make_server

from metabiz.app import build_runtime
from metabiz.flows.worker import run_worker


@contextmanager
def serving(app: Flask, *, worker_poll_seconds: float | None = None) -> Iterator[str]:
    """The base URL of `app`, served from a background thread until the block ends (then
    the server stops and the app's engine is disposed). With `worker_poll_seconds`, a job
    worker polls beside it, so jobs (imports, notifications) run as in production."""
    engine = app.extensions["metabiz"].engine
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    stop = threading.Event()
    threads = [threading.Thread(target=httpd.serve_forever, name="metabiz-test-server",
                                daemon=True)]
    if worker_poll_seconds is not None:
        threads.append(threading.Thread(
            target=run_worker, name="metabiz-test-worker", daemon=True, args=(engine,),
            kwargs={"runtime": build_runtime(engine), "secret": app.config["SECRET_KEY"],
                    "stop": stop, "poll_seconds": worker_poll_seconds}))
    for thread in threads:
        thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        stop.set()
        httpd.shutdown()
        for thread in threads:
            thread.join(timeout=10)
        engine.dispose()
