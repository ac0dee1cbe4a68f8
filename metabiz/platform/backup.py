"""Backups: a consistent, portable snapshot of a whole database, and loading one into an
empty database of either kind (SQLite → PostgreSQL included).

A backup is a folder: `manifest.json` (format, source database, schema revisions, every
table with its columns, row count and next id) and `tables/<table>.jsonl` (one JSON object
per row). It is read in one transaction (REPEATABLE READ on PostgreSQL, one read transaction
on SQLite's WAL), so a server may keep writing meanwhile. Loading creates the system tables
with this release's revisions, the other tables through `build_tables` (the objects' exact
tables) or from the manifest's portable column types, inserts every row, and moves every id
sequence past the highest id ever handed out, so no id is reused.

Stored files travel in `files/<key>`: copied out of the file store the caller hands over
(a folder or an S3-compatible store, anything with `keys`, `get` and `put`) and put into the
target's store on loading, so a restored database serves the same downloads.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import mimetypes
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    Float,
    ForeignKeyConstraint,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    Time,
    inspect,
    select,
    text,
)
from sqlalchemy.schema import sort_tables_and_constraints
from sqlalchemy.types import TypeDecorator, TypeEngine

from metabiz.errors import MetabizError
from metabiz.platform import migrations
from metabiz.platform.db import utcnow, writer
from metabiz.platform.exact_numbers import read_exactly

FORMAT = "metabiz-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
#: rows inserted per statement when loading
BATCH = 500

#: builds the tables the system revisions do not create (the objects' tables), on a target
#: whose system tables are loaded already; returns them to be created
TableBuilder = Callable[[Connection], Sequence[Table]]


class FileStore(Protocol):
    """Where the stored files a backup carries come from and go to (objects' file storage)."""

    def list_keys(self) -> Iterable[str]: ...

    def get(self, key: str) -> bytes: ...

    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def delete(self, key: str) -> None: ...


class BackupError(MetabizError):
    code = "backup_failed"
    status = 400


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    tables: int
    rows: int
    files: int


# -- writing -------------------------------------------------------------------------------


def write_backup(engine: Engine, path: Path, *, files: FileStore | None = None) -> BackupSummary:
    """Write the snapshot into `path` (a new or empty folder), and every file of the store
    `files` into `path/files/` (after the snapshot, so every file a record of it names was
    stored before it was taken)."""
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise BackupError(f"{path}: the backup folder must be new or empty")
    (path / "tables").mkdir(parents=True, exist_ok=True)
    tables: list[dict[str, Any]] = []
    total = 0
    with _snapshot(engine) as conn:
        meta = MetaData()
        derived = _derived_tables(conn)
        meta.reflect(conn, only=lambda name, _meta: name not in derived)
        revisions = sorted(conn.execute(text(
            f"SELECT version_num FROM {migrations.VERSION_TABLE}")).scalars()) \
            if migrations.VERSION_TABLE in meta.tables else []
        for table in meta.sorted_tables:
            if table.name == migrations.VERSION_TABLE:
                continue
            if conn.dialect.name == "sqlite":
                read_exactly(table)  # exact numbers: stored as scaled integers
            count = 0
            with (path / "tables" / f"{table.name}.jsonl").open("w", encoding="utf-8") as out:
                for row in conn.execute(select(table)).mappings():
                    out.write(json.dumps({k: _encode(v) for k, v in row.items()},
                                         ensure_ascii=False, separators=(",", ":")) + "\n")
                    count += 1
            total += count
            tables.append({"name": table.name, "rows": count,
                           "columns": [_describe(c) for c in table.columns],
                           "next_id": _next_id(conn, table)})
    copied = _copy_out(files, path / "files") if files is not None else 0
    manifest = {"format": FORMAT, "format_version": FORMAT_VERSION,
                "created_at": utcnow().isoformat() + "Z", "source": engine.dialect.name,
                "schema_revisions": revisions, "tables": tables, "files": copied}
    (path / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return BackupSummary(path, len(tables), total, copied)


def _derived_tables(conn: Connection) -> set[str]:
    """SQLite's virtual tables and their shadow tables (the objects' FTS5 search indexes):
    the database derives them from other tables, so a backup leaves them out and loading
    rebuilds them rather than copy rows no ordinary table could hold."""
    if conn.dialect.name != "sqlite":
        return set()
    virtual = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table' "
                                "AND sql LIKE 'CREATE VIRTUAL TABLE%'")).scalars().all()
    return {f"{name}{suffix}" for name in virtual
            for suffix in ("", "_data", "_idx", "_content", "_docsize", "_config")}
def _copy_out(files: FileStore, folder: Path) -> int:
    copied = 0
    for key in files.list_keys():
        target = folder.joinpath(*_parts(key))
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            target.write_bytes(files.get(key))
        except MetabizError:  # deleted since it was listed (its record went meanwhile)
            continue
        copied += 1
    return copied


def _parts(key: str) -> list[str]:
    parts = key.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise BackupError(f"stored file key {key!r} cannot be a path in a backup")
    return parts


def _backed_up_files(path: Path) -> list[tuple[str, Path]]:
    folder = path / "files"
    if not folder.is_dir():
        return []
    return sorted((p.relative_to(folder).as_posix(), p) for p in folder.rglob("*")
                  if p.is_file())


@contextmanager
def _snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection whose reads all see one moment of the database."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(
                isolation_level="REPEATABLE READ") as conn, conn.begin():
            conn.execute(text("SET TRANSACTION READ ONLY"))
            yield conn
    else:
        with engine.connect() as conn, conn.begin():
            yield conn  # under WAL the first read fixes what the whole transaction sees


def _next_id(conn: Connection, table: Table) -> int | None:
    """The id the table would hand out next (past every id ever given, deleted ones too),
    for a table with a single whole-number primary key; None otherwise."""
    keys = list(table.primary_key.columns)
    if len(keys) != 1 or not isinstance(keys[0].type, Integer):
        return None
    key = keys[0]
    highest = conn.execute(select(key).order_by(key.desc()).limit(1)).scalar() or 0
    used = 0
    if conn.dialect.name == "postgresql":
        sequence = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"),
                                {"t": table.name, "c": key.name}).scalar()
        if sequence:
            row = conn.execute(text(f"SELECT last_value, is_called FROM {sequence}")).one()
            used = int(row[0]) if row[1] else int(row[0]) - 1
    elif conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'")).first():
        used = conn.execute(text("SELECT seq FROM sqlite_sequence WHERE name = :t"),
                            {"t": table.name}).scalar() or 0
    return max(int(highest), int(used)) + 1


# -- portable values and types -------------------------------------------------------------


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _decoder(kind: str) -> Callable[[Any], Any]:
    decoders: dict[str, Callable[[Any], Any]] = {
        "numeric": Decimal, "datetime": dt.datetime.fromisoformat,
        "date": dt.date.fromisoformat, "time": dt.time.fromisoformat,
        "binary": base64.b64decode, "boolean": bool}
    plain: Callable[[Any], Any] = lambda v: v  # noqa: E731
    decode = decoders.get(kind, plain)
    return lambda v: None if v is None else decode(v)


def _kind(sql_type: TypeEngine[Any]) -> str:
    """The portable name of a column type (what the manifest records)."""
    if isinstance(sql_type, TypeDecorator):  # an exact number: a NUMERIC
        sql_type = sql_type.impl_instance
    for cls, name in ((Boolean, "boolean"), (BigInteger, "biginteger"), (Integer, "integer"),
                      (Float, "float"), (Numeric, "numeric"), (DateTime, "datetime"),
                      (Date, "date"), (Time, "time"), (JSON, "json"),
                      (LargeBinary, "binary"), (Text, "text"), (String, "string")):
        if isinstance(sql_type, cls):
            return name
    return "text"


def _describe(column: Column[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": column.name, "type": _kind(column.type),
                           "nullable": bool(column.nullable)}
    if column.primary_key:
        out["primary_key"] = True
    for attr in ("length", "precision", "scale"):
        value = getattr(column.type, attr, None)
        if isinstance(value, int):
            out[attr] = value
    return out


def _portable_type(desc: Mapping[str, Any]) -> TypeEngine[Any]:
    kind = desc["type"]
    if kind in ("integer", "biginteger"):  # ids and lookups: 64 bits, SQLite's INTEGER
        return BigInteger().with_variant(Integer(), "sqlite")
    if kind == "numeric":
        return Numeric(desc.get("precision"), desc.get("scale"))
    if kind == "string" and desc.get("length"):
        return String(desc["length"])
    simple: dict[str, TypeEngine[Any]] = {
        "boolean": Boolean(), "float": Float(), "datetime": DateTime(), "date": Date(),
        "time": Time(), "json": JSON(), "binary": LargeBinary()}
    return simple.get(kind, Text())


# -- loading -------------------------------------------------------------------------------


def read_manifest(path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{path}: not a backup (no {MANIFEST})") from None
    except (OSError, ValueError) as err:
        raise BackupError(f"{path / MANIFEST}: unreadable ({err})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path / MANIFEST}: not a metabiz backup")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(f"{path}: backup format {manifest.get('format_version')} is not "
                          f"the one this release reads ({FORMAT_VERSION})")
    return manifest


def load_backup(engine: Engine, path: Path, *, folders: Sequence[Path] = (),
                build_tables: TableBuilder | None = None,
                files: FileStore | None = None) -> BackupSummary:
    """Load the backup at `path` into the EMPTY database behind `engine`, in one
    transaction, and its stored files into the EMPTY store `files`: any error leaves the
    database empty."""
    manifest = read_manifest(path)
    with engine.connect() as conn:
        present = inspect(conn).get_table_names()
    if present:
        raise BackupError(f"the target database is not empty ({len(present)} tables, e.g. "
                          f"{sorted(present)[0]}); load a backup into an empty database only")
    script_heads = migrations.heads(folders)
    if set(manifest.get("schema_revisions") or ()) != set(script_heads):
        raise BackupError(
            "the backup's schema revisions (" + ", ".join(manifest.get("schema_revisions") or
                                                          ["none"]) +
            ") are not this release's (" + ", ".join(sorted(script_heads)) + "): load it with "
            "the release that made it, then run `metabiz upgrade`")
    carried = _backed_up_files(path) if files is not None else []
    if carried:
        present_file = next(iter(files.list_keys()), None) if files is not None else None
        if present_file is not None:
            raise BackupError(f"the file store is not empty (it holds e.g. {present_file}); "
                              "load a backup's files into an empty store only")
    migrations.upgrade(engine, folders)
    described = {t["name"]: t for t in manifest["tables"]}
    total = 0
    try:
        with writer(engine).connect() as conn, _constraints_off(conn), conn.begin():
            system = MetaData()
            system.reflect(conn)
            # the system tables first (users, metadata versions: what builds the rest)
            for table in reversed(system.sorted_tables):
                if table.name in described and table.name != migrations.VERSION_TABLE:
                    conn.execute(table.delete())  # rows a revision seeds (the system user)
            total += _load_tables(conn, path, [t for t in system.sorted_tables
                                               if t.name in described], described)
            built = list(build_tables(conn) if build_tables else ())
            created = _create_tables(conn, built, described, set(system.tables))
            total += _load_tables(conn, path, created, described)
            for table in [*system.sorted_tables, *created]:
                if table.name in described:
                    _move_sequence(conn, table, described[table.name].get("next_id"))
            _check_references(conn)
            copied = _copy_in(carried, files)  # before the commit: a failure undoes the load
    except BaseException:
        _drop_everything(engine)
        raise
    return BackupSummary(path, len(described), total, copied)


def _copy_in(carried: Sequence[tuple[str, Path]], files: FileStore | None) -> int:
    """Put the backup's files into the store; on a failure take back those already put (the
    store was empty), so the load can simply be run again."""
    put: list[str] = []
    try:
        for key, source in carried:
            assert files is not None
            files.put(key, source.read_bytes(),
                      mimetypes.guess_type(key)[0] or "application/octet-stream")
            put.append(key)
    except BaseException:
        for key in put:
            assert files is not None
            files.delete(key)
        raise
    return len(carried)


def _create_tables(conn: Connection, built: Sequence[Table], described: Mapping[str, Any],
                   existing: set[str]) -> list[Table]:
    """Create the backup's remaining tables: `built` ones as built (plus any column the
    backup has beyond them, e.g. a removed field's kept data), the rest from the manifest."""
    wanted = [t for t in built if t.name in described and t.name not in existing]
    by_name = {t.name: t for t in wanted}
    if wanted:
        wanted[0].metadata.create_all(conn, tables=wanted)
    ops = Operations(MigrationContext.configure(conn))
    extra = MetaData()
    for name, desc in described.items():
        if name in existing:
            continue
        if name in by_name:
            have = {c.name for c in by_name[name].columns}
            for column in desc["columns"]:
                if column["name"] not in have:
                    ops.add_column(name, Column(column["name"], _portable_type(column)))
            continue
        Table(name, extra, *(Column(c["name"], _portable_type(c),
                                    primary_key=bool(c.get("primary_key")),
                                    nullable=bool(c.get("nullable", True)))
                             for c in desc["columns"]))
    extra.create_all(conn)
    fresh = MetaData()
    fresh.reflect(conn, only=[n for n in described if n not in existing])
    created = [t for t in fresh.sorted_tables if t.name not in existing]
    if conn.dialect.name == "sqlite":
        for table in created:
            read_exactly(table)  # exact numbers are written as scaled integers
    return created


def _load_tables(conn: Connection, path: Path, tables: Sequence[Table],
                 described: Mapping[str, Any]) -> int:
    """Insert every row of `tables`, parents first; foreign keys that go round in a cycle
    (or point into their own table) are set by an update once every row is in."""
    order = sort_tables_and_constraints(tables)
    late: set[tuple[str, str]] = set()
    for table, constraints in order:
        if table is None:
            late |= {(c.table.name, col.name) for c in constraints for col in c.columns}
    for table in tables:
        for fk in table.foreign_key_constraints:
            if isinstance(fk, ForeignKeyConstraint) and fk.referred_table is table:
                late |= {(table.name, col.name) for col in fk.columns}
    total = 0
    for table, _ in order:
        if table is None:
            continue
        total += _load_table(conn, path, table, {c for t, c in late if t == table.name})
    return total


def _load_table(conn: Connection, path: Path, table: Table, late: set[str]) -> int:
    decode = {c.name: _decoder(_kind(c.type)) for c in table.columns}
    keys = [c.name for c in table.primary_key.columns]
    batch: list[dict[str, Any]] = []
    later: list[dict[str, Any]] = []
    count = 0
    file = path / "tables" / f"{table.name}.jsonl"
    if not file.exists():
        raise BackupError(f"{path}: the file of table {table.name} is missing")
    with file.open(encoding="utf-8") as lines:
        for line in lines:
            raw = json.loads(line)
            row = {k: decode[k](v) for k, v in raw.items() if k in decode}
            if late and any(row.get(name) is not None for name in late):
                later.append({**{k: row[k] for k in keys}, **{n: row[n] for n in late}})
                row.update({n: None for n in late})
            batch.append(row)
            count += 1
            if len(batch) >= BATCH:
                conn.execute(table.insert(), batch)
                batch = []
    if batch:
        conn.execute(table.insert(), batch)
    for values in later:
        conn.execute(table.update().where(*(table.c[k] == values[k] for k in keys))
                     .values({n: values[n] for n in late}))
    return count


def _move_sequence(conn: Connection, table: Table, next_id: int | None) -> None:
    """Make the table hand out `next_id` next (and never an id it gave before)."""
    keys = list(table.primary_key.columns)
    if next_id is None or len(keys) != 1:
        return
    if conn.dialect.name == "postgresql":
        sequence = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"),
                                {"t": table.name, "c": keys[0].name}).scalar()
        if sequence:
            conn.execute(text("SELECT setval(:s, :v, false)"), {"s": sequence, "v": next_id})
    elif conn.execute(text("SELECT 1 FROM sqlite_sequence WHERE name = :t"),
                      {"t": table.name}).first() is not None or _autoincrement(conn, table):
        conn.execute(text("DELETE FROM sqlite_sequence WHERE name = :t"), {"t": table.name})
        conn.execute(text("INSERT INTO sqlite_sequence (name, seq) VALUES (:t, :v)"),
                     {"t": table.name, "v": next_id - 1})


def _autoincrement(conn: Connection, table: Table) -> bool:
    sql = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = :t"),
                       {"t": table.name}).scalar() or ""
    return "AUTOINCREMENT" in sql.upper()


@contextmanager
def _constraints_off(conn: Connection) -> Iterator[None]:
    """SQLite checks foreign keys row by row: off while loading (the backup is consistent,
    checked before the commit by _check_references); PostgreSQL loads parents first."""
    if conn.dialect.name != "sqlite":
        yield
        return
    driver: Any = conn.connection.driver_connection
    driver.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        driver.execute("PRAGMA foreign_keys=ON")


def _check_references(conn: Connection) -> None:
    """SQLite, before the commit: every reference of the loaded rows points somewhere."""
    if conn.dialect.name != "sqlite":
        return
    broken = list(conn.exec_driver_sql("PRAGMA foreign_key_check"))
    if broken:
        raise BackupError(f"the backup holds rows whose references point nowhere: {broken[:5]}")


def _drop_everything(engine: Engine) -> None:
    """Leave the target as empty as it was (the system tables were made before loading)."""
    meta = MetaData()
    with writer(engine).begin() as conn:
        meta.reflect(conn)
        meta.drop_all(conn)
