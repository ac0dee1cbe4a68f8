"""PostgreSQL connections: one idle in the pool is pinged before use and replaced when the
server dropped it; one in use a moment ago is not pinged (a round trip per request saved)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine

from metabiz.platform import db
from tests.conftest import postgres_base_url


@pytest.fixture
def pg_url() -> str:
    url = postgres_base_url()
    if url is None:
        pytest.skip("PostgreSQL not available")
    return url


def _backend(engine) -> int:
    with engine.connect() as conn:
        return int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


def _drop(url: str, pid: int) -> None:
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
    admin.dispose()


def test_an_idle_connection_the_server_dropped_is_replaced(pg_url, monkeypatch):
    engine = db.make_engine(pg_url)
    try:
        first = _backend(engine)
        _drop(pg_url, first)
        monkeypatch.setattr(db, "PING_AFTER_IDLE", 0.0)  # idle long enough: pinged
        second = _backend(engine)  # the dead one found by the ping, a new one used
        assert second != first
    finally:
        engine.dispose()


def test_a_connection_used_a_moment_ago_is_not_pinged(pg_url, monkeypatch):
    engine = db.make_engine(pg_url)
    pings: list[object] = []
    real = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda conn: pings.append(conn) or real(conn))
    try:
        first = _backend(engine)
        assert len(pings) == 1  # a new connection is pinged
        assert _backend(engine) == first and _backend(engine) == first
        assert len(pings) == 1  # the same connection again, at once: no ping
        monkeypatch.setattr(db, "PING_AFTER_IDLE", 0.0)
        assert _backend(engine) == first and len(pings) == 2
    finally:
        engine.dispose()
