"""Users, passwords and tokens on SQLite and PostgreSQL: what a user logging in notices."""

from __future__ import annotations

import datetime as dt

import pytest

from metabiz.app import prepare_database
from metabiz.errors import ConflictError, Unauthorized, ValidationError
from metabiz.platform import auth
from metabiz.platform.db import make_engine, writer


@pytest.fixture
def engine(db_url):
    eng = make_engine(db_url)
    prepare_database(eng)
    prepare_database(eng)  # idempotent
    yield eng
    eng.dispose()


def test_password_login_and_team(engine):
    with writer(engine).begin() as conn:
        auth.create_user(conn, "bob", "s3cret", roles=["sales_manager"])
        auth.create_user(conn, "alice", "pw1234", roles=["sales_rep"], manager="bob")
    with engine.connect() as conn:
        bob = auth.authenticate_password(conn, "bob", "s3cret")
        assert bob.roles == frozenset({"sales_manager"})
        assert bob.team == frozenset({"bob", "alice"})
        with pytest.raises(Unauthorized):
            auth.authenticate_password(conn, "bob", "wrong")
        with pytest.raises(Unauthorized):
            auth.authenticate_password(conn, "nobody", "s3cret")


def test_bad_and_duplicate_users_are_refused_with_field_errors(engine):
    with writer(engine).begin() as conn:
        auth.create_user(conn, "alice", "pw1234")
    with writer(engine).begin() as conn:
        with pytest.raises(ConflictError) as conflict:
            auth.create_user(conn, "alice", "other1")
        assert conflict.value.status == 409
        with pytest.raises(ValidationError) as invalid:
            auth.create_user(conn, "has space", "x", manager="ghost")
        assert set(invalid.value.fields) == {"name", "password", "manager"}


def test_tokens_are_hashed_and_revocable(engine):
    with writer(engine).begin() as conn:
        auth.create_user(conn, "alice", "pw1234")
        token = auth.create_token(conn, "alice")
        expired = auth.create_token(
            conn, "alice", expires_at=dt.datetime(2000, 1, 1))
    assert token.startswith("mbz_")
    with engine.connect() as conn:
        assert auth.authenticate_token(conn, token).name == "alice"
        stored = conn.exec_driver_sql("SELECT token_hash FROM sys_tokens").scalars().all()
        assert token not in stored
        with pytest.raises(Unauthorized):
            auth.authenticate_token(conn, expired)
        with pytest.raises(Unauthorized):
            auth.authenticate_token(conn, token + "x")
