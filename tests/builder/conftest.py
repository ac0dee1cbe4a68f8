"""Fixtures for the builder: the `sales` test app applied to SQLite and PostgreSQL, with an
admin and a sales rep."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from metabiz.app import prepare_database
from metabiz.objects.evolution import apply_path
from metabiz.platform.auth import create_user
from metabiz.platform.db import make_engine, writer

SALES = Path(__file__).resolve().parents[1] / "fixtures" / "sales"


@pytest.fixture
def sales(db_url, tmp_path, extensions):
    engine = make_engine(db_url)
    prepare_database(engine)
    folder = tmp_path / "sales"
    shutil.copytree(SALES, folder)
    apply_path(engine, folder, extensions=extensions)
    with writer(engine).begin() as conn:
        create_user(conn, "admin", "admin-pw", roles=["admin"])
        create_user(conn, "alice", "alice-pw", roles=["sales_rep"])
    yield engine
    engine.dispose()
