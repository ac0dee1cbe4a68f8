"""Fixtures for the formula tests: the harness databases (SQLite, and PostgreSQL if set).

One SQLite file and one private PostgreSQL schema per test module, dropped at the end.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from formula_harness import Databases, open_databases  # noqa: E402


@pytest.fixture(scope="module")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    yield from open_databases(str(tmp_path_factory.mktemp("formulas")))
