"""Database engines, the UTC datetime column type and the fixed system tables (users, tokens,
sessions, recent views, metadata versions, history, audit).

Object tables are built at run time by metabiz.objects; these tables are created and changed
only by the Alembic revisions in metabiz/platform/migrations/versions/ (keep the two in step:
tests/platform/test_upgrade.py fails when they disagree).
"""

from __future__ import annotations

import math
import os
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    create_engine,
    event,
)
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError

from metabiz.formulas.limits import add_sqlite_functions
from metabiz.platform.exact_numbers import add_sqlite_numbers


def stored_utc(moment: datetime) -> datetime:
    """A point in time as stored: naive UTC (an aware value is converted, a naive one is
    taken as UTC already)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def utcnow() -> datetime:
    """Now as stored: naive UTC (every datetime column holds UTC without an offset)."""
    return datetime.now(UTC).replace(tzinfo=None)


class UTCDateTime(TypeDecorator[datetime]):
    """A datetime column holding UTC: the one place time zones meet the database.

    Writes accept naive (taken as UTC) or aware values of any offset and store naive UTC
    (`TIMESTAMP WITHOUT TIME ZONE` on PostgreSQL, text on SQLite), so the session's time zone
    never shifts a value; reads return naive UTC on both dialects, as `utcnow()` does. The
    DDL is plain `DateTime`'s, so the type changes no table.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return stored_utc(value) if isinstance(value, datetime) else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return stored_utc(value) if isinstance(value, datetime) else value


system_metadata = MetaData()

users = Table(
    "sys_users", system_metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("display_name", String(200)),
    Column("email", String(254)),
    Column("password_hash", String(255), nullable=False),
    Column("manager", String(64), ForeignKey("sys_users.name", ondelete="SET NULL")),
    Column("language", String(8), nullable=False, default="en"),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime(), nullable=False),
    #: the IANA time zone the user chose; None: the app's (app.json "timezone")
    Column("timezone", String(64)),
)

user_roles = Table(
    "sys_user_roles", system_metadata,
    Column("user_name", String(64), ForeignKey("sys_users.name", ondelete="CASCADE"),
           primary_key=True),
    Column("role", String(64), primary_key=True),
)

tokens = Table(
    "sys_tokens", system_metadata,
    Column("id", Integer, primary_key=True),
    Column("user_name", String(64), ForeignKey("sys_users.name", ondelete="CASCADE"),
           nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(12), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime()),
    Column("last_used_at", UTCDateTime()),
    Column("revoked", Boolean, nullable=False, default=False),
)

#: browser sessions: the cookie holds a random key whose SHA-256 is the row's id, so a
#: session ends for good when its row goes (signing out, a new password, deactivation)
sessions = Table(
    "sys_sessions", system_metadata,
    Column("id", String(64), primary_key=True),
    Column("user_name", String(64), ForeignKey("sys_users.name", ondelete="CASCADE"),
           nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_sys_sessions_user", "user_name"),
)

#: the records each user opened last ("recently viewed" on home): one row per user and
#: record, its time moved on each view, at most RECENT_VIEWS_KEPT per user (platform_0007_recent)
recent_views = Table(
    "sys_recent_views", system_metadata,
    Column("user_name", String(64), ForeignKey("sys_users.name", ondelete="CASCADE"),
           primary_key=True),
    Column("object", String(64), primary_key=True),
    Column("record_id", BigInteger, primary_key=True),
    Column("viewed_at", UTCDateTime(), nullable=False),
    Index("ix_sys_recent_views_user", "user_name", "viewed_at"),
    Index("ix_sys_recent_views_record", "object", "record_id"),
)

metadata_versions = Table(
    "sys_metadata_versions", system_metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("applied_at", UTCDateTime(), nullable=False),
    Column("applied_by", String(64), nullable=False),
    Column("summary", Text, nullable=False),
    Column("documents", JSON, nullable=False),
)

field_history = Table(
    "sys_field_history", system_metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("object", String(64), nullable=False),
    Column("record_id", BigInteger, nullable=False),
    Column("field", String(64), nullable=False),
    Column("old_value", JSON),
    Column("new_value", JSON),
    Column("changed_by", String(64), nullable=False),
    Column("changed_at", UTCDateTime(), nullable=False),
    #: None for a field change; claim, return, assign or transfer for an owner change
    #: a pool or a transfer made (platform_0004_pools), with the return reason as `note`
    Column("kind", String(16), nullable=True),
    Column("note", Text, nullable=True),
    Index("ix_sys_field_history_record", "object", "record_id"),
)

counters = Table(
    "sys_counters", system_metadata,
    Column("name", String(200), primary_key=True),
    Column("value", BigInteger, nullable=False),
)


def make_engine(url: str) -> Engine:
    """An engine with the settings metabiz relies on (SQLite: foreign keys, WAL, timeouts,
    the formula functions, a file only its owner can read)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            create_private_file(Path(database))
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            # Let SQLAlchemy, not pysqlite, manage transactions so DDL is transactional too.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            _switch_to_wal(cur)
            cur.close()
            add_sqlite_functions(dbapi_conn)  # REGEX in filters runs on RE2, never on `re`
            add_sqlite_numbers(dbapi_conn)  # exact sums of scaled integers

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # type: ignore[no-untyped-def]
            # Writers take the write lock up front: a deferred transaction that reads and
            # then writes fails at once with SQLITE_BUSY under WAL instead of waiting.
            immediate = conn.get_execution_options().get("metabiz_write", False)
            # every request begins one or two: a library call, not worth an execution
            driver_execute(conn, "BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    engine = create_engine(url, pool_size=10, max_overflow=20)
    _ping_when_idle(engine)
    return engine


def driver_execute(conn: Connection, statement: str) -> None:
    """Run a statement without parameters or result (BEGIN, taking a lock) on the driver's
    connection itself: SQLAlchemy's execution costs several times the driver's call (its
    events, a result) and a statement that waits for no answer needs none of it. Errors are
    raised as SQLAlchemy raises them; a lost connection is invalidated as it would be."""
    dbapi = conn.dialect.loaded_dbapi
    try:
        conn.connection.driver_connection.execute(statement)  # type: ignore[union-attr]
    except dbapi.Error as err:
        lost = conn.dialect.is_disconnect(err, conn.connection.dbapi_connection, None)
        if lost:
            conn.invalidate()
        raise DBAPIError.instance(statement, (), err, dbapi.Error,
                                  connection_invalidated=lost, dialect=conn.dialect) from err


#: a pooled PostgreSQL connection idle this long (seconds) is pinged before it is used; one
#: in use more recently is not: a ping is a round trip, as dear as a short query, and
#: SQLAlchemy's `pool_pre_ping` made one before every request
PING_AFTER_IDLE = 5.0
_CHECKED_IN = "metabiz_checked_in"


def _ping_when_idle(engine: Engine) -> None:
    """`pool_pre_ping` for connections the pool has held for PING_AFTER_IDLE or more (and
    new ones): a dead one (the server restarted, a firewall dropped it) is replaced."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_conn, record):  # type: ignore[no-untyped-def]
        record.info[_CHECKED_IN] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_conn, record, _proxy):  # type: ignore[no-untyped-def]
        since = record.info.get(_CHECKED_IN)
        if since is not None and time.monotonic() - since < PING_AFTER_IDLE:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as err:
            raise DisconnectionError(f"a pooled connection is gone: {err}") from err


def _switch_to_wal(cur: Any) -> None:
    """Put the file in WAL mode. Two connections opening a new file at the same moment can
    both try the switch; SQLite answers the loser "database is locked" at once, without
    calling the busy handler, so the switch is retried for as long as busy_timeout waits."""
    deadline = time.monotonic() + 30
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def create_private_file(path: Path) -> None:
    """Create the SQLite file (and its folder) readable by its owner only, before SQLite
    would create it world-readable (0644 under the usual umask). SQLite gives the -wal and
    -shm files it makes beside it the same mode. An existing file is left as it is."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


#: SQLite checks its deadline every this many virtual-machine steps (a fraction of a ms)
SQLITE_PROGRESS_STEPS = 10_000


def limit_statements(engine: Engine, seconds: float | None) -> None:
    """End any SQL statement of this engine that runs longer than `seconds` (None or 0: no
    limit) with StatementTimeout's errors: PostgreSQL's statement_timeout, and on SQLite a
    progress handler that interrupts the statement. Connections already open are closed,
    so every statement from now on is limited; the web app calls it for its engine, while
    commands (apply, upgrade, worker) run without a limit."""
    if not seconds or seconds <= 0:
        return
    if engine.dialect.name == "postgresql":
        milliseconds = max(1, int(seconds * 1000))

        @event.listens_for(engine, "connect")
        def _statement_timeout(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            autocommit = dbapi_conn.autocommit
            dbapi_conn.autocommit = True  # a SET inside a transaction would be rolled back
            with dbapi_conn.cursor() as cur:
                cur.execute(f"SET statement_timeout = {milliseconds}")
            dbapi_conn.autocommit = autocommit
    elif engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _progress(dbapi_conn, record):  # type: ignore[no-untyped-def]
            deadline = record.info[_DEADLINE] = [math.inf]
            dbapi_conn.set_progress_handler(lambda: time.monotonic() > deadline[0],
                                            SQLITE_PROGRESS_STEPS)

        @event.listens_for(engine, "before_cursor_execute")
        def _start(conn, *_args):  # type: ignore[no-untyped-def]
            deadline = conn.info.get(_DEADLINE)
            if deadline is not None:
                deadline[0] = time.monotonic() + seconds

        @event.listens_for(engine, "commit")
        @event.listens_for(engine, "rollback")
        def _end(conn, *_args):  # type: ignore[no-untyped-def]
            # COMMIT and ROLLBACK are never cut short, however long the transaction took
            deadline = conn.info.get(_DEADLINE)
            if deadline is not None:
                deadline[0] = math.inf
    engine.dispose()


_DEADLINE = "metabiz_statement_deadline"


def is_statement_timeout(err: BaseException) -> bool:
    """Whether a database error is a statement ended by limit_statements."""
    original = getattr(err, "orig", err)
    if isinstance(original, sqlite3.OperationalError):
        return str(original) == "interrupted"
    return getattr(original, "sqlstate", None) == "57014"  # PostgreSQL's query_canceled


def is_parser_overflow(err: BaseException) -> bool:
    """Whether a database error is SQLite refusing a statement nested past its parser's
    fixed stack ("parser stack overflow")."""
    original = getattr(err, "orig", err)
    return isinstance(original, sqlite3.OperationalError) and \
        "parser stack overflow" in str(original)


def writer(engine: Engine) -> Engine:
    """The same engine, marked so that its transactions take the write lock at BEGIN."""
    return engine.execution_options(metabiz_write=True)


#: the user row behind the SYSTEM actor (owner of records made by flows and templates);
#: inactive, with an unusable password, so nobody can sign in as it (the first platform
#: revision inserts it)
SYSTEM_USER = "system"


#: the audit log: sign-ins, token use, user and token changes, metadata applies and
#: permission denials (metabiz.platform.audit writes and reads it); sign-in throttling
#: counts its failures, hence the indexes by user name and by client address
audit_log = Table(
    "sys_audit", system_metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("user_name", String(64)),  # who acted, or the name a sign-in was tried with
    Column("client", String(64)),  # the client's address, when known
    Column("detail", JSON),
    Index("ix_sys_audit_user", "user_name", "kind", "at"),
    Index("ix_sys_audit_client", "client", "kind", "at"),
    Index("ix_sys_audit_at", "at"),
)

#: the values `apply --convert-failures=blank` blanked (metabiz.platform.metadata.store reads
#: and writes it); release 0.1 created it on first use, revision platform_0002 always does
conversion_losses = Table(
    "sys_conversion_losses", system_metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("object", String(64), nullable=False),
    Column("field", String(64), nullable=False),
    Column("record_id", BigInteger, nullable=False),
    Column("old_type", String(32), nullable=False),
    Column("old_value", Text),  # the value as text (`TypeName.as_text`)
    Column("reason", Text, nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
    Index("ix_sys_conversion_losses_field", "object", "field", "record_id"),
)
