"""`metabiz backup PATH` and `metabiz load-backup PATH`: the kernel's portable snapshot
(platform/backup.py) with the objects' tables built exactly as the runtime builds them.

Loading compiles the metadata version the backup holds and creates its objects' tables as an
apply would (types, keys, indexes, AUTOINCREMENT); removed objects and fields kept for a
restore come back from the manifest's portable column types.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import click
from sqlalchemy import Connection, Table

from metabiz.objects import search_index
from metabiz.objects.runtime import bundle_from_documents
from metabiz.objects.schema import RuntimeSchema
from metabiz.platform.backup import load_backup, write_backup
from metabiz.platform.cli import CliEnv, command
from metabiz.platform.db import make_engine
from metabiz.platform.extensions import Extensions
from metabiz.platform.metadata.store import current_version
from metabiz.platform.metadata.store import load_documents as stored_documents


def files_folder(env: CliEnv) -> Path:
    """Where stored files live: METABIZ_FILES when it names a folder, else instance/files."""
    configured = os.environ.get("METABIZ_FILES", "")
    if configured and "://" not in configured:
        return Path(configured)
    return env.config.instance_path / "files"


def object_tables(extensions: Extensions) -> Callable[[Connection], Sequence[Table]]:
    """A table builder for `load_backup`: the objects' tables of the loaded metadata."""
    def build(conn: Connection) -> Sequence[Table]:
        version = current_version(conn)
        if not version:
            return ()
        bundle = bundle_from_documents(stored_documents(conn, version),
                                       tuple(extensions.document_kinds))
        schema = RuntimeSchema(version, bundle, dialect=conn.dialect.name)
        return [obj.table for obj in schema.objects.values()]
    return build


@command(name="backup")
@click.argument("path", type=click.Path(file_okay=False, path_type=Path))
def backup(env: CliEnv, path: Path) -> None:
    """Write a consistent, portable snapshot of the database (and stored files) to PATH."""
    summary = write_backup(env.engine(), path, files=files_folder(env))
    click.echo(f"backup written to {summary.path}: {summary.tables} tables, "
               f"{summary.rows} rows, {summary.files} files")


@command(name="load-backup")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
def load(env: CliEnv, path: Path) -> None:
    """Load the backup at PATH into an empty database (SQLite or PostgreSQL)."""
    engine = make_engine(env.config.database_url)
    try:
        summary = load_backup(engine, path, folders=env.extensions.migrations,
                              build_tables=object_tables(env.extensions),
                              files=files_folder(env))
        search_index.upgrade(engine, env.extensions)  # a backup holds no search index
    finally:
        engine.dispose()
    click.echo(f"backup loaded from {summary.path}: {summary.tables} tables, "
               f"{summary.rows} rows, {summary.files} files")
