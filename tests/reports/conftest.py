"""Fixtures for reports: the `dealapp` test app with hand-countable deals, on SQLite and
PostgreSQL; `work(user)` is one unit of work, `client` drives the API and the pages."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from metabiz.app import build_runtime, create_app
from metabiz.objects import records
from metabiz.objects.context import Context
from metabiz.objects.evolution import apply_path
from metabiz.objects.runtime import Runtime
from metabiz.platform.auth import create_token, load_actor
from metabiz.platform.config import Config
from metabiz.platform.db import writer

DEALAPP = Path(__file__).resolve().parent / "fixtures" / "dealapp"
SECRET = "reports-test-secret"

#: name, roles, manager
USERS = [("admin", ["admin"], None), ("boss", ["sales_manager"], None),
         ("alice", ["sales_rep"], "boss"), ("dan", ["sales_rep"], "boss"),
         ("gina", ["sales_rep"], None), ("sam", ["support"], None)]

ACCOUNTS = [{"name": "Acme", "industry": "tech"}, {"name": "Shop", "industry": "retail"}]
#: (owner, name, account, stage, amount, probability, quantity, close_date, closed_at,
#:  region, hot, cost) — the expectations in the tests are counted by hand from these
DEALS = [
    ("alice", "d1", 1, "prospecting", "100.10", 10, 1, "2026-01-15", "2025-12-28T15:30:00Z",
     "north", True, "10"),
    ("alice", "d2", 1, "negotiation", "200.20", 50, 2, "2026-01-31", "2025-12-28T16:30:00Z",
     "north", False, "20"),
    ("dan", "d3", 2, "won", "0.20", 100, 3, "2026-02-01", "2026-01-04T12:00:00Z",
     "south", True, "30"),
    ("dan", "d4", 2, "won", "0.10", 100, 4, "2026-03-31", "2026-03-31T17:00:00Z",
     "south", None, "40"),
    ("gina", "d5", None, "negotiation", "1000.00", 0, 5, "2026-04-01", None, None, False, "50"),
    ("alice", "d6", None, "prospecting", None, None, None, None, None, "east", None, None),
    ("gina", "d7", None, "lost", "5.00", 0, 1, "2026-04-15", None, "west", False, "5"),
]
COLUMNS = ("owner", "name", "account", "stage", "amount", "probability", "quantity",
           "close_date", "closed_at", "region", "hot", "cost")


@pytest.fixture
def app_dir(tmp_path) -> Path:
    target = tmp_path / "dealapp"
    shutil.copytree(DEALAPP, target)
    return target


@pytest.fixture
def dealapp(engine, app_dir, extensions, add_users):
    apply_path(engine, app_dir, extensions=extensions)
    add_users(engine, USERS)
    runtime = build_runtime(engine)
    with writer(engine).begin() as conn:
        ctx = runtime.context(conn, load_actor(conn, "admin"))
        records.create_many(ctx, "account", ACCOUNTS)
        records.create_many(ctx, "deal", [
            {k: v for k, v in zip(COLUMNS, row, strict=True) if v is not None}
            for row in DEALS])
    return engine


@pytest.fixture
def runtime(dealapp) -> Runtime:
    return build_runtime(dealapp)


@pytest.fixture
def work(dealapp, runtime) -> Callable[..., Iterator[Context]]:
    """`with work("alice") as ctx:` — one committed transaction acting as that user."""

    @contextmanager
    def unit(user: str = "admin") -> Iterator[Context]:
        with writer(dealapp).begin() as conn:
            yield runtime.context(conn, load_actor(conn, user))

    return unit


@pytest.fixture
def client(dealapp, db_url, tmp_path):
    app = create_app(Config(database_url=db_url, secret_key=SECRET, instance_path=tmp_path,
                            testing=True))
    with writer(dealapp).begin() as conn:
        tokens = {name: create_token(conn, name) for name, _, _ in USERS}
    test_client = app.test_client()
    test_client.tokens = tokens  # type: ignore[attr-defined]
    return test_client


@pytest.fixture
def call(client) -> Callable[..., object]:
    """`call("alice", "/api/v1/reports/pipeline")`: a GET with that user's token."""

    def get(user: str, path: str, **params: str):
        return client.get(path, query_string=params,
                          headers={"Authorization": f"Bearer {client.tokens[user]}"})

    return get
