"""Fixtures for the flow engine: the `flowapp` test app with users, on SQLite and PostgreSQL.

`work(user)` is one committed unit of work with the flows' listeners; `jobs(now=...)` runs
the worker once; `client` + `call` drive the REST API with bearer tokens.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flow_api import SECRET

from metabiz.app import build_runtime, create_app
from metabiz.flows.worker import run_worker
from metabiz.objects.context import Context
from metabiz.objects.evolution import apply_path
from metabiz.objects.runtime import Runtime
from metabiz.platform.auth import create_token, load_actor
from metabiz.platform.config import Config, SmtpSettings
from metabiz.platform.db import writer

FLOWAPP = Path(__file__).resolve().parent / "fixtures" / "flowapp"

#: name, roles, manager
USERS = [
    ("admin", ["admin"], None),
    ("bob", ["sales_manager"], None),
    ("alice", ["sales_rep"], "bob"),
    ("dan", ["sales_rep"], "bob"),
    ("eve", ["sales_rep"], "bob"),
    ("gina", ["sales_rep"], None),
    ("carol", ["finance"], None),
    ("fred", ["finance"], None),
    ("sam", ["support"], None),
    ("tina", ["support"], None),
    ("uma", ["support"], None),
    ("zed", ["sales_rep"], None),  # deactivated below
]


@pytest.fixture
def app_dir(tmp_path) -> Path:
    """A private copy of the flow test app (a test may rewrite it before it is applied)."""
    target = tmp_path / "flowapp"
    shutil.copytree(FLOWAPP, target)
    return target


@pytest.fixture
def flowapp(engine, app_dir, extensions, add_users):
    apply_path(engine, app_dir, extensions=extensions)
    add_users(engine, USERS, inactive={"zed"})
    return engine


@pytest.fixture
def runtime(flowapp) -> Runtime:
    return build_runtime(flowapp)


@pytest.fixture
def work(flowapp, runtime) -> Callable[..., Iterator[Context]]:
    """`with work("alice") as ctx:` — one committed transaction acting as that user."""

    @contextmanager
    def unit(user: str = "admin", now: dt.datetime | None = None) -> Iterator[Context]:
        with writer(flowapp).begin() as conn:
            options = {"now": now} if now is not None else {}
            yield runtime.context(conn, load_actor(conn, user), **options)

    return unit


@pytest.fixture
def jobs(flowapp, runtime) -> Callable[..., int]:
    """Run the worker once (optionally at a given time); returns how many jobs ran."""

    def run(now: dt.datetime | None = None) -> int:
        return run_worker(flowapp, once=True, now=now, secret=SECRET, runtime=runtime,
                          smtp=SmtpSettings.from_env())

    return run


@pytest.fixture
def client(flowapp, db_url, tmp_path):
    app = create_app(Config(database_url=db_url, secret_key=SECRET, instance_path=tmp_path,
                            testing=True))
    with writer(flowapp).begin() as conn:
        tokens = {name: create_token(conn, name) for name, _, _ in USERS if name != "zed"}
    test_client = app.test_client()
    test_client.tokens = tokens  # type: ignore[attr-defined]
    yield test_client
    app.extensions["metabiz"].engine.dispose()
