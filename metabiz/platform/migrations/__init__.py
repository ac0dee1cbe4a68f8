"""Schema revisions of the system tables: Alembic, run from code, with its own version table.

Each package keeps its revisions as one Alembic branch in a folder (the kernel's in
`versions/`, branch `platform`; higher packages hand theirs in through
`Extensions.add_migrations`). No alembic.ini and no env.py are needed: `upgrade` drives
Alembic's `EnvironmentContext` directly on a connection of ours, in one transaction.

A database made before revisions existed (release 0.1: system tables, no version table) is
recognised by the tables a branch's first revision lists in `baseline_tables`, stamped at that
revision and upgraded from there, keeping every row.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, inspect, text

from metabiz.errors import OutOfDateDatabase, UnknownDatabaseSchema
from metabiz.platform.db import writer

#: where the applied revisions are recorded (one row per branch head); never `alembic_version`,
#: so a user's own Alembic project in the same database is left alone
VERSION_TABLE = "metabiz_schema_version"

#: the kernel's own revisions (branch `platform`), always among those run
KERNEL_VERSIONS = Path(__file__).resolve().parent / "versions"

#: one PostgreSQL advisory lock key for upgrades: two processes starting at once take turns
_PG_LOCK = 0x6D627A01


def upgrade(engine: Engine, folders: Sequence[Path] = ()) -> list[str]:
    """Bring the system tables to the newest revision of every branch, in one transaction.

    Works on a blank database (creates everything), one made by release 0.1 (stamped at the
    baselines it holds, then upgraded) and one at any older revision. Returns the revisions
    the database moved through, oldest first: those it ran and the baselines it recognised;
    empty when it was current.
    """
    script = _scripts(_locations(folders))
    with writer(engine).connect() as conn, _foreign_keys_off(conn), conn.begin():
        return _upgrade(conn, script)


def pending(engine: Engine, folders: Sequence[Path] = ()) -> list[str]:
    """The revisions `upgrade` would move the database through, oldest first (empty: current)."""
    script = _scripts(_locations(folders))
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        heads = _heads(conn, context, script)
        if heads is not None and set(heads) == set(script.get_heads()):
            return []
        baselines = _baselines(conn, script) if heads is None else []
        lower = tuple(baselines) if heads is None else heads
        return [*baselines, *(rev.revision for rev in reversed(list(
            script.iterate_revisions("heads", lower, implicit_base=True))))]


def require_current(engine: Engine, folders: Sequence[Path] = ()) -> None:
    """Raise OutOfDateDatabase unless the system tables are at the newest revision."""
    missing = pending(engine, folders)
    if missing:
        raise OutOfDateDatabase(missing)


def heads(folders: Sequence[Path] = ()) -> list[str]:
    """The newest revision of every branch: what a current database records."""
    return sorted(_scripts(_locations(folders)).get_heads())


def summaries(folders: Sequence[Path] = ()) -> dict[str, str]:
    """Each revision's one-line summary (the first line of its docstring), by id."""
    script = _scripts(_locations(folders))
    return {rev.revision: next(iter((rev.doc or "").strip().splitlines()), "")
            for rev in script.walk_revisions()}


def is_blank(engine: Engine, folders: Sequence[Path] = ()) -> bool:
    """True for a database that holds no version table and no table of any baseline."""
    script = _scripts(_locations(folders))
    with engine.connect() as conn:
        names = set(inspect(conn).get_table_names())
    return VERSION_TABLE not in names and not any(
        name in names for base in script.get_bases() for name in _baseline_tables(script, base))


# -- inside ------------------------------------------------------------------------------

def _upgrade(conn: Connection, script: ScriptDirectory) -> list[str]:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK})
    moved: list[str] = []
    # the steps are what `alembic upgrade heads` runs (its command module calls the same)
    env = EnvironmentContext(Config(), script,
                             fn=lambda heads, _context: script._upgrade_revs("heads", heads))
    with env:
        env.configure(connection=conn, version_table=VERSION_TABLE,
                      on_version_apply=lambda step, **_: moved.append(step.up_revision_id))
        context = env.get_context()
        heads = _heads(conn, context, script)
        if heads is not None and set(heads) == set(script.get_heads()):
            return []
        broken = _broken_references(conn)
        if heads is None:
            for baseline in _baselines(conn, script):
                context.stamp(script, baseline)
                moved.append(baseline)
        env.run_migrations()
        new = _broken_references(conn) - broken
        if new:
            raise RuntimeError(f"revisions {', '.join(moved)} left rows whose foreign keys "
                               f"point nowhere: {sorted(new)[:10]}")
    return moved


@contextmanager
def _foreign_keys_off(conn: Connection) -> Iterator[None]:
    """Alembic's batch mode rebuilds a table on SQLite (copy, drop, rename); with foreign keys
    enforced, dropping a table others reference would cascade into their rows. The pragma
    cannot change inside a transaction, so it is set on the driver connection around it, and
    `_broken_references` checks what it would have checked before the commit."""
    if conn.dialect.name != "sqlite":
        yield
        return
    driver: Any = conn.connection.driver_connection
    driver.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        driver.execute("PRAGMA foreign_keys=ON")


def _broken_references(conn: Connection) -> set[tuple[Any, ...]]:
    """SQLite: rows whose foreign key points nowhere (PostgreSQL never lets them exist)."""
    if conn.dialect.name != "sqlite":
        return set()
    return {tuple(row) for row in conn.exec_driver_sql("PRAGMA foreign_key_check")}


def _locations(folders: Sequence[Path]) -> tuple[str, ...]:
    seen: dict[str, None] = {str(KERNEL_VERSIONS): None}
    for folder in folders:
        seen.setdefault(str(Path(folder).resolve()), None)
    return tuple(seen)


@lru_cache(maxsize=8)
def _scripts(locations: tuple[str, ...]) -> ScriptDirectory:
    """The revisions of these folders, parsed once per process (they never change while it runs)."""
    script = ScriptDirectory(str(Path(__file__).resolve().parent), version_locations=locations)
    script.get_heads()  # parse now: a broken revision file fails the start, not a request
    return script


def _heads(conn: Connection, context: MigrationContext,
           script: ScriptDirectory) -> tuple[str, ...] | None:
    """The revisions recorded in the version table (None when there is no version table)."""
    if not inspect(conn).has_table(VERSION_TABLE):
        return None
    heads = context.get_current_heads()
    try:
        script.get_revisions(heads)
    except CommandError as err:
        raise UnknownDatabaseSchema(
            f"the database is at revision {', '.join(heads)}, which this release of metabiz "
            f"does not know: it was upgraded by a newer release ({err})") from None
    return heads


def _baselines(conn: Connection, script: ScriptDirectory) -> list[str]:
    """The first revisions whose tables a database without a version table already holds."""
    names = set(inspect(conn).get_table_names())
    found: list[str] = []
    for base in sorted(script.get_bases()):
        tables = _baseline_tables(script, base)
        present = [name for name in tables if name in names]
        if present and len(present) < len(tables):
            missing = ", ".join(name for name in tables if name not in names)
            raise UnknownDatabaseSchema(
                f"the database holds some of the tables of revision {base} but not {missing}: "
                "it was not made by a release of metabiz, so it cannot be upgraded")
        if present:
            found.append(base)
    return found


def _baseline_tables(script: ScriptDirectory, base: str) -> tuple[str, ...]:
    revision: Any = script.get_revision(base)
    return tuple(getattr(revision.module, "baseline_tables", ()))


__all__ = ["KERNEL_VERSIONS", "VERSION_TABLE", "OutOfDateDatabase", "UnknownDatabaseSchema",
           "is_blank", "pending", "require_current", "summaries", "upgrade"]
