"""Measuring the platform against its baseline fairly: both sides alternately, on each database.

The write benchmarks (records_insert.py, import.py) run each side once per round on a fresh
database, alternating, and keep each side's best round, so both see the same machine load.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable

#: a benchmark side: given a database URL (None: a temp SQLite file), its timed seconds
Side = Callable[[str | None], float]


def databases(postgres_url: str | None) -> list[tuple[str, str | None]]:
    """SQLite always; PostgreSQL when a URL is given (or METABIZ_TEST_POSTGRES_URL is set)."""
    url = postgres_url or os.environ.get("METABIZ_TEST_POSTGRES_URL")
    return [("sqlite", None)] + ([("postgresql", url)] if url else [])


def alternate(ours: Side, baseline: Side, url: str | None, rounds: int) -> tuple[float, float]:
    """The best time of each side over `rounds` rounds, the sides taking turns."""
    best = [math.inf, math.inf]
    for _ in range(rounds):
        for index, side in enumerate((ours, baseline)):
            best[index] = min(best[index], side(url))
    return best[0], best[1]
