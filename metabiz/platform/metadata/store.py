"""The metadata store: every applied version (number, who, when, summary, documents),
and the values a conversion blanked on request (`sys_conversion_losses`).

Documents are kept per app as `<app>/<relative path>` → JSON, so several templates
can be installed side by side and each app's next version replaces only its own.
"""

from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    delete,
    func,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError

from metabiz.platform import audit
from metabiz.platform.db import conversion_losses, driver_execute, metadata_versions, utcnow

DEFAULT_APP = "custom"


@dataclass(frozen=True)
class VersionInfo:
    version: int
    applied_at: dt.datetime
    applied_by: str
    summary: str


@dataclass(frozen=True)
class ConversionLoss:
    """A value `--convert-failures=blank` blanked: which record and field, and what it was."""

    version: int
    object: str
    field: str
    record_id: int
    old_type: str
    old_value: str | None
    reason: str
    recorded_at: dt.datetime


def ensure_losses_table(conn: Connection) -> None:
    """Release 0.1 made the table on first use; revision platform_0002 now always does."""
    conversion_losses.create(conn, checkfirst=True)


def list_losses(conn: Connection, object_name: str | None = None,
                field: str | None = None) -> list[ConversionLoss]:
    """What was blanked, oldest first (of one object or one field when given)."""
    if not inspect(conn).has_table(conversion_losses.name):
        return []
    query = select(conversion_losses).order_by(conversion_losses.c.id)
    if object_name is not None:
        query = query.where(conversion_losses.c.object == object_name)
    if field is not None:
        query = query.where(conversion_losses.c.field == field)
    return [ConversionLoss(**{k: v for k, v in row.items() if k != "id"})
            for row in conn.execute(query).mappings()]


def forget_losses(conn: Connection, object_name: str, field: str | None = None) -> None:
    """Purging deletes the blanked values too: they were the field's data."""
    if not inspect(conn).has_table(conversion_losses.name):
        return
    query = delete(conversion_losses).where(conversion_losses.c.object == object_name)
    if field is not None:
        query = query.where(conversion_losses.c.field == field)
    conn.execute(query)


#: the PostgreSQL advisory lock that orders applies and record writes (see hold_for_write)
_SCHEMA_LOCK = 0x6D627A02


def hold_for_apply(conn: Connection) -> None:
    """An apply's transaction, first: wait for the record writes in progress to commit and
    keep new ones waiting until this apply commits (PostgreSQL; on SQLite every writer holds
    the database's write lock already)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})


def hold_for_write(conn: Connection) -> None:
    """A record write's transaction, before it reads the metadata version: shares the lock
    with other writers, waits while an apply holds it. So a writer never inserts with the
    schema of before an apply once that apply has committed: a required field added with a
    default is never left blank by a process that did not know it yet.

    A version the transaction read before the lock (a token's query) is forgotten: the
    next check reads it again. Taken once per transaction (the API's writes take it before
    they look the caller up: `platform.api.writing_actor`)."""
    if conn.dialect.name != "postgresql":
        return
    transaction = conn.get_transaction()
    if transaction is not None and transaction in _held:
        return
    driver_execute(conn, _SHARED_LOCK)  # as a query's, but without its cost: no result
    _holding(transaction)


#: the queries `hold_for_write_then` sends after the lock, compiled (a few, made at import)
_compiled: dict[tuple[Select[Any], str], Any] = {}


def _holding(transaction: Any) -> None:
    if transaction is not None:
        _read_in.pop(transaction, None)
        _held.add(transaction)


def hold_for_write_then(conn: Connection, query: Select[Any],
                        params: Mapping[str, Any]) -> Sequence[Mapping[Any, Any]]:
    """`hold_for_write`, then `query`'s rows (a transaction's first statements). On
    PostgreSQL both travel as one simple-protocol query string — one round trip: the
    server runs them one after the other, the second with a snapshot taken once the lock
    is granted. Its columns come as the driver gives them (no result processing: plain
    columns only)."""
    transaction = conn.get_transaction()
    if conn.dialect.name != "postgresql" or transaction is None or transaction in _held:
        hold_for_write(conn)
        return conn.execute(query, params).mappings().all()
    from psycopg import ClientCursor  # binds the parameters into the text it sends

    compiled = _compiled.get((query, conn.dialect.name))
    if compiled is None:  # compiling is dearer than the query: once per query and dialect
        compiled = _compiled[query, conn.dialect.name] = query.compile(dialect=conn.dialect)
    statement = f"{_SHARED_LOCK}; {compiled}"
    driver = conn.connection.driver_connection
    try:
        with ClientCursor(driver) as cursor:  # type: ignore[arg-type]
            cursor.execute(statement, compiled.construct_params(params))
            cursor.nextset()
            names = [column.name for column in cursor.description or ()]
            rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    except conn.dialect.loaded_dbapi.Error as err:
        lost = conn.dialect.is_disconnect(err, conn.connection.dbapi_connection, None)
        if lost:
            conn.invalidate()
        raise DBAPIError.instance(statement, params, err, conn.dialect.loaded_dbapi.Error,
                                  connection_invalidated=lost, dialect=conn.dialect) from err
    _holding(transaction)
    return rows


#: the same SQL on both dialects, run as text: every request checks the version, and a
#: statement given as text skips SQLAlchemy's compiling and caching (a third of the cost)
_CURRENT_VERSION = f"SELECT coalesce(max(version), 0) FROM {metadata_versions.name}"
#: the version as a column of another statement (the API token's: one round trip less)
VERSION_COLUMN = select(func.coalesce(func.max(metadata_versions.c.version), 0)) \
    .scalar_subquery().label("metadata_version")
_saved_here = 0
#: versions read by another statement of a transaction (`version_read`), by transaction
_read_in: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()
#: the transactions holding the shared lock of writers (`hold_for_write`)
_held: weakref.WeakSet[Any] = weakref.WeakSet()
_SHARED_LOCK = f"SELECT pg_advisory_xact_lock_shared({_SCHEMA_LOCK})"


def current_version(conn: Connection) -> int:
    """The current metadata version as `conn`'s transaction sees it."""
    transaction = conn.get_transaction()
    known = None if transaction is None else _read_in.get(transaction)
    if known is not None:
        return known
    return int(conn.exec_driver_sql(_CURRENT_VERSION).scalar_one())


def version_read(conn: Connection, version: int) -> None:
    """`VERSION_COLUMN` was read in `conn`'s transaction: its later checks take it (a
    transaction that commits a write afterwards starts another, which checks again)."""
    transaction = conn.get_transaction()
    if transaction is not None:
        _read_in[transaction] = int(version)


def versions_saved_here() -> int:
    """How many versions this process has saved (committed or not): a request that saved
    one reads the version again rather than trust the schema it started with."""
    return _saved_here


def load_documents(conn: Connection, version: int | None = None) -> dict[str, Any]:
    """The documents of a version (the current one by default); {} before the first apply."""
    if version is None:
        version = current_version(conn)
    if not version:
        return {}
    row = conn.execute(select(metadata_versions.c.documents)
                       .where(metadata_versions.c.version == version)).first()
    return dict(row.documents) if row else {}


def save_version(conn: Connection, documents: Mapping[str, Any], applied_by: str,
                 summary: str) -> int:
    """Store a new version; the primary key makes two concurrent applies conflict."""
    global _saved_here
    _saved_here += 1
    transaction = conn.get_transaction()
    if transaction is not None:
        _read_in.pop(transaction, None)  # this transaction's version is about to change
    version = current_version(conn) + 1
    conn.execute(insert(metadata_versions).values(
        version=version, applied_at=utcnow(),
        applied_by=applied_by, summary=summary, documents=dict(documents)))
    audit.record(conn, audit.METADATA_APPLIED, applied_by,
                 {"version": version, "summary": summary[:1000]})
    return version


def list_versions(conn: Connection) -> list[VersionInfo]:
    rows = conn.execute(select(metadata_versions.c.version, metadata_versions.c.applied_at,
                               metadata_versions.c.applied_by, metadata_versions.c.summary)
                        .order_by(metadata_versions.c.version))
    return [VersionInfo(*row) for row in rows]


def version_record(conn: Connection, version: int) -> dict[str, Any] | None:
    """One version as JSON (`metabiz versions show N`): number, when, who, summary, documents."""
    row = conn.execute(select(metadata_versions)
                       .where(metadata_versions.c.version == version)).mappings().first()
    if row is None:
        return None
    return {"version": row["version"],
            "applied_at": row["applied_at"].strftime("%Y-%m-%dT%H:%M:%SZ"),
            "applied_by": row["applied_by"], "summary": row["summary"],
            "documents": dict(row["documents"])}


def split_apps(documents: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """`{"crm/objects/lead.json": …}` → `{"crm": {"objects/lead.json": …}}`."""
    apps: dict[str, dict[str, Any]] = {}
    for key, doc in documents.items():
        app, _, rel = key.partition("/")
        apps.setdefault(app, {})[rel] = doc
    return apps


def merge_app(documents: Mapping[str, Any], app: str | None,
              app_documents: Mapping[str, Any]) -> dict[str, Any]:
    """The documents after applying one app's folder, or loose files (app None).

    A folder replaces everything its app had (what it leaves out is removed); a loose
    file replaces the document at the same path in whichever app holds it.
    """
    merged = dict(documents)
    if app is not None:
        merged = {k: v for k, v in merged.items() if not k.startswith(f"{app}/")}
        merged.update({f"{app}/{rel}": doc for rel, doc in app_documents.items()})
        return merged
    for rel, doc in app_documents.items():
        holder = next((k for k in merged if k.partition("/")[2] == rel), None)
        if holder is None:
            holder = _renamed_holder(merged, rel, doc)
        merged[holder or f"{DEFAULT_APP}/{rel}"] = doc
    return merged


def _renamed_holder(documents: dict[str, Any], rel: str, doc: Any) -> str | None:
    """A loose file renaming a document (`renamed_from`) takes its place in its app: the
    old document goes, the new one is stored beside where it was."""
    old = doc.get("renamed_from") if isinstance(doc, dict) else None
    if not isinstance(old, str):
        return None
    folder = rel.rpartition("/")[0]
    previous = next((k for k in documents if k.partition("/")[2] == f"{folder}/{old}.json"),
                    None)
    if previous is None:
        return None
    del documents[previous]
    return f"{previous.partition('/')[0]}/{rel}"
