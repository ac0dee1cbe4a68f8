"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from METABIZ_TEST_POSTGRES_URL (scripts/test.sh starts a
throw-away cluster); each test gets its own schema. In CI a missing server fails.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine, insert, update
from sqlalchemy.engine import make_url
from werkzeug.security import generate_password_hash

from metabiz.app import build_extensions, prepare_database
from metabiz.platform.auth import start_session
from metabiz.platform.db import make_engine, user_roles, users, writer
from metabiz.platform.extensions import Extensions

PG_ENV = "METABIZ_TEST_POSTGRES_URL"


def postgres_base_url() -> str | None:
    url = os.environ.get(PG_ENV)
    if url:
        return url
    if os.environ.get("CI") == "true":
        pytest.fail(f"{PG_ENV} is not set: PostgreSQL is mandatory in CI")
    return None


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A fresh, empty database URL (a file for SQLite, a new schema for PostgreSQL)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/metabiz.db"
        return
    base = postgres_base_url()
    if base is None:
        pytest.skip(f"PostgreSQL not available ({PG_ENV} unset)")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on the fresh database with the platform's tables (no objects yet)."""
    eng = make_engine(db_url)
    prepare_database(eng)
    yield eng
    eng.dispose()


#: the password hash of the users `add_users` writes: "password", hashed once and cheaply
PASSWORD_HASH = generate_password_hash("password", method="pbkdf2:sha256:1")


@pytest.fixture
def add_users() -> Callable[..., None]:
    """`add_users(engine, [(name, roles, manager), ...], inactive={...})`: the users written
    as rows (display name the name titled, password "password"): create_user's scrypt
    hashing would dominate a suite's time."""
    def add(engine: Engine, people: Iterable[tuple[str, list[str], str | None]], *,
            inactive: Collection[str] = ()) -> None:
        rows = list(people)
        stamp = dt.datetime(2030, 1, 1)
        with writer(engine).begin() as conn:
            conn.execute(insert(users), [
                {"name": name, "display_name": name.title(), "email": f"{name}@example.com",
                 "password_hash": PASSWORD_HASH, "manager": None, "language": "en",
                 "active": name not in inactive, "created_at": stamp}
                for name, _, _ in rows])
            for name, _, manager in rows:  # once every user exists
                if manager:
                    conn.execute(update(users).where(users.c.name == name)
                                 .values(manager=manager))
            conn.execute(insert(user_roles), [{"user_name": name, "role": role}
                                              for name, roles, _ in rows for role in roles])

    return add


@pytest.fixture
def extensions() -> Extensions:
    """The extensions a real process runs with: every package's registrations."""
    return build_extensions()


@pytest.fixture
def browser_session() -> Callable[[FlaskClient, str], None]:
    """`browser_session(client, "alice")`: the client holds what signing in leaves in the
    cookie (a server-side session of the user), without a password check."""
    def sign_in(client: FlaskClient, user: str) -> None:
        with writer(client.application.extensions["metabiz"].engine).begin() as conn:
            key = start_session(conn, user)
        with client.session_transaction() as session:
            session["user"], session["sid"] = user, key

    return sign_in
