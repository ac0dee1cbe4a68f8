"""The API kernel: who is calling (bearer token or browser session), the JSON body, /me.

Blueprints of the higher layers build on `current_actor()`; CSRF is checked before any view
runs (platform/web/csrf.py) and errors are mapped in platform/web/errors.py.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Blueprint, current_app, g, has_app_context, jsonify, request, session
from sqlalchemy import Connection, Engine, event

from metabiz.errors import BadRequest, Unauthorized
from metabiz.platform.access import Actor
from metabiz.platform.auth import authenticate_token, session_actor, token_actor
from metabiz.platform.db import writer
from metabiz.platform.request_input import refuse_unusable_json

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"

kernel = Blueprint("platform_api", __name__, url_prefix=API_PREFIX)
_CONNECTION = "metabiz_connection"
_DEPTH = "metabiz_read_depth"
_WROTE = "metabiz_wrote"
_WRITING = "metabiz_writing"


def engine() -> Engine:
    return current_app.extensions["metabiz"].engine  # type: ignore[no-any-return]


def request_connection() -> Connection:
    """The request's reading connection, checked out once (who is calling, then the read
    units of work) and returned to the pool when the request ends."""
    conn = g.get(_CONNECTION)
    if conn is None or conn.closed:
        conn = engine().connect()
        setattr(g, _CONNECTION, conn)
    return conn  # type: ignore[no-any-return]


@contextmanager
def read_transaction() -> Iterator[Connection]:
    """A reading transaction on the request's connection, committed when the block ends.

    The first one goes on with the transaction that found out who is calling, unless the
    request has committed a write since (SQLite would still show it the data of before);
    one inside another shares the outer one's transaction."""
    conn = request_connection()
    depth = g.get(_DEPTH, 0)
    setattr(g, _DEPTH, depth + 1)
    try:
        if depth:
            yield conn
            return
        transaction = conn.get_transaction()
        if transaction is not None and g.get(_WROTE):
            transaction.rollback()
            transaction = None
        with transaction or conn.begin():
            yield conn
    finally:
        setattr(g, _DEPTH, depth)


@contextmanager
def write_transaction() -> Iterator[Connection]:
    """A writing transaction (it takes the write lock: `db.writer`), committed when the block
    ends, on the request's connection when no read is in progress on it: no second connection
    checked out (on PostgreSQL a ping) nor a read transaction left to roll back at the end.

    A read unit of work inside it shares its transaction. On PostgreSQL it goes on with the
    transaction that found out who is calling when that one is READ COMMITTED (each statement
    sees the latest commits: the metadata version read after the write lock is current); on
    SQLite that transaction ends first, as a read transaction cannot take the write lock once
    another writer has committed."""
    conn = g.get(_CONNECTION)
    begun = g.pop(_WRITING, None)  # the write transaction `writing_actor` began
    if conn is None or conn.closed or g.get(_DEPTH, 0):
        with writer(engine()).begin() as own:
            yield own
        return
    transaction = conn.get_transaction()
    if transaction is not None and transaction is not begun and (
            g.get(_WROTE) or conn.dialect.name != "postgresql"
            or conn.default_isolation_level != "READ COMMITTED"):
        transaction.rollback()
        transaction = None
    conn.execution_options(metabiz_write=True)
    setattr(g, _DEPTH, 1)  # a read unit inside it shares its transaction (read_transaction)
    try:
        with transaction or conn.begin():
            yield conn
    finally:
        conn.execution_options(metabiz_write=False)
        setattr(g, _DEPTH, 0)


@kernel.record_once
def _return_connection_at_end(state: Any) -> None:
    @state.app.teardown_appcontext
    def close(_error: BaseException | None) -> None:
        conn = g.pop(_CONNECTION, None)
        if conn is not None:
            conn.close()

    services = state.app.extensions.get("metabiz")
    if services is not None:
        event.listen(services.engine, "commit", _mark_written)


def _mark_written(conn: Connection) -> None:
    """A commit within a request: its later reads start a transaction of their own."""
    if has_app_context() and g.get(_CONNECTION) is not conn:
        setattr(g, _WROTE, True)


def current_actor(optional: bool = False) -> Actor | None:
    """The caller: `Authorization: Bearer <token>` or the browser session (CSRF is checked before the view)."""
    if "actor" in g:
        return g.actor  # type: ignore[no-any-return]
    actor: Actor | None = None
    header = request.headers.get("Authorization", "")
    # the transaction it opens goes on as the request's first read (read_transaction)
    conn = request_connection()
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("use 'Authorization: Bearer <token>'")
        actor = authenticate_token(conn, token.strip(), client=request.remote_addr)
    elif session.get("user"):
        actor = _session_actor(conn)
        if actor is None:
            session.clear()  # ended (signed out elsewhere, a new password): drop it
    if actor is None and not optional:
        raise Unauthorized("sign in or send an API token")
    g.actor = actor
    return actor


def _session_actor(conn: Connection) -> Actor | None:
    """The browser session's user, if the server still knows the session (auth.sessions)."""
    key = session.get("sid")
    if not isinstance(key, str):
        return None  # a cookie from before sessions were kept on the server
    try:
        actor = session_actor(conn, key)
    except Unauthorized:
        return None
    return actor if actor.name == session.get("user") else None


def require_actor() -> Actor:
    actor = current_actor()
    assert actor is not None
    return actor


def writing_actor() -> Actor:
    """The caller of a request whose first unit of work writes (the API's POST, PATCH and
    DELETE of a record), as `require_actor`.

    An API token is looked up inside the write transaction the unit of work then goes on
    with (`write_transaction`), after the writers' lock (`store.hold_for_write`), so the
    metadata version read with it is current: one transaction, not a read one rolled back
    before the write begins (on SQLite a BEGIN, a ROLLBACK and a second version check).
    Anything but a valid token whose use needs no recording (a refusal, a first use: what
    is written apart from the request) is decided by `current_actor` as before."""
    if "actor" not in g and g.get(_CONNECTION) is None:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            actor = _token_in_write(token.strip())
            if actor is not None:
                g.actor = actor
    return require_actor()


def _token_in_write(token: str) -> Actor | None:
    """The token's actor found in a write transaction begun on the request's connection
    (kept for `write_transaction`); None, with the transaction rolled back, when
    `token_actor` leaves the decision to `authenticate_token`."""
    conn = request_connection()
    conn.execution_options(metabiz_write=True)
    transaction = conn.begin()
    actor = None
    try:
        actor = token_actor(conn, token, for_write=True)  # after the writers' lock
    finally:
        if actor is None:
            transaction.rollback()
            conn.execution_options(metabiz_write=False)
    if actor is not None:
        setattr(g, _WRITING, transaction)
    return actor


def json_body() -> Any:
    """The request's JSON body; 400 when it is missing or malformed, or holds text no
    database stores (NUL characters, lone surrogates)."""
    data = request.get_json(silent=True)
    if data is None:
        if request.get_data(cache=True).strip():
            raise BadRequest("malformed JSON body")
        raise BadRequest("a JSON body is required")
    refuse_unusable_json(data)
    return data


@kernel.get("/me")
def me() -> Any:
    actor = require_actor()
    return jsonify({"name": actor.name, "display_name": actor.display_name,
                    "email": actor.email, "roles": sorted(actor.roles),
                    "manager": actor.manager, "language": actor.language,
                    "timezone": actor.timezone,
                    "is_admin": actor.is_admin})
