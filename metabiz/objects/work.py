"""The unit of work of a web request: a transaction on the current Flask app's runtime.

API views and pages open one per request (`with unit_of_work(actor) as ctx:`); it commits
when the block ends cleanly and rolls back on any error.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app

from metabiz.objects.context import Context
from metabiz.platform.access import Actor
from metabiz.platform.db import writer


@contextmanager
def unit_of_work(actor: Actor, *, write: bool = False) -> Iterator[Context]:
    """A transaction with the current schema: committed when the block ends cleanly."""
    services = current_app.extensions["metabiz"]
    engine = writer(services.engine) if write else services.engine
    with engine.begin() as conn:
        yield services.runtime.context(conn, actor)
