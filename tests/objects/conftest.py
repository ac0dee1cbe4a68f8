"""Fixtures for the object runtime: the `sales` test app applied to SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from metabiz.app import build_runtime, create_app, prepare_database
from metabiz.objects.context import Context
from metabiz.objects.evolution import apply_path
from metabiz.platform.auth import create_user, load_actor
from metabiz.platform.config import Config
from metabiz.platform.db import make_engine, writer

SALES = Path(__file__).resolve().parents[1] / "fixtures" / "sales"


@pytest.fixture
def engine(db_url):
    eng = make_engine(db_url)
    prepare_database(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sales_dir(tmp_path) -> Path:
    """A private copy of the sales app that a test may edit and re-apply."""
    target = tmp_path / "sales"
    shutil.copytree(SALES, target)
    return target


@pytest.fixture
def sales(engine, sales_dir, extensions):
    apply_path(engine, sales_dir, extensions=extensions)
    with writer(engine).begin() as conn:
        create_user(conn, "admin", "admin-pw", roles=["admin"])
        create_user(conn, "bob", "bob-pw", roles=["sales_rep"])
        create_user(conn, "alice", "alice-pw", roles=["sales_rep"], manager="bob")
        create_user(conn, "eve", "eve-pw", roles=["sales_rep"])
    return engine


@pytest.fixture
def work(sales) -> Callable[..., Iterator[Context]]:
    """`with work("alice") as ctx:` — one committed transaction acting as that user."""
    runtime = build_runtime(sales)

    @contextmanager
    def unit(user: str = "admin") -> Iterator[Context]:
        with writer(sales).begin() as conn:
            yield Context(conn, runtime.schema(conn), load_actor(conn, user))

    return unit


@pytest.fixture
def app(sales, db_url, tmp_path):
    """The web app over the `sales` database (a module that needs another defines its own)."""
    application = create_app(Config(database_url=db_url, secret_key="t", instance_path=tmp_path,
                                    testing=True))
    yield application
    application.extensions["metabiz"].engine.dispose()


@pytest.fixture
def client(app, browser_session):
    """A test client signed in to the pages of the module's `app` as alice (a module that
    needs someone else, or no session, defines its own `client`)."""
    client = app.test_client()
    browser_session(client, "alice")
    return client
