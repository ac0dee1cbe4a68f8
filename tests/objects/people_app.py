"""Shared set-up of the "people" tests (search, board, settings): the sales app served by
create_app, a committed unit of work outside the pages, the pages' CSRF token."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from metabiz.app import build_runtime
from metabiz.objects import records
from metabiz.objects.context import Context
from metabiz.platform.auth import load_actor
from metabiz.platform.db import writer


@contextmanager
def service(app: Any, user: str = "admin") -> Iterator[Context]:
    """`with service(app, "alice") as ctx:` — a committed unit of work as that user."""
    runtime = build_runtime(app.extensions["metabiz"].engine)
    with writer(app.extensions["metabiz"].engine).begin() as conn:
        yield Context(conn, runtime.schema(conn), load_actor(conn, user),
                      listeners=app.extensions["metabiz"].runtime.listeners)


def make(app: Any, object_name: str, user: str = "admin", **values: Any) -> dict[str, Any]:
    with service(app, user) as ctx:
        return records.create(ctx, object_name, values)


def csrf(client: Any, path: str = "/") -> str:
    """The CSRF token of a page the client may open (every page has it in a meta tag)."""
    page = client.get(path, follow_redirects=True).get_data(as_text=True)
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    assert match, "the page has no CSRF token"
    return match[1]
