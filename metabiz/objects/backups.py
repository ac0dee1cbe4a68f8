"""`metabiz backup PATH` and `metabiz load-backup PATH`: the kernel's portable snapshot
(platform/backup.py) with the objects' tables built exactly as the runtime builds them.

Loading compiles the metadata version the backup holds and creates its objects' tables as an
apply would (types, keys, indexes, AUTOINCREMENT); removed objects and fields kept for a
restore come back from the manifest's portable column types. Stored files come from and go
to the configured file storage (METABIZ_FILES: a folder or an S3-compatible store).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import click
from sqlalchemy import Connection, Table

from metabiz.objects import search_index
from metabiz.objects.file_storage import FileStorage, storage_for
from metabiz.objects.runtime import bundle_from_documents
from metabiz.objects.schema import RuntimeSchema
from metabiz.platform.backup import load_backup, write_backup
from metabiz.platform.cli import CliEnv, command
from metabiz.platform.db import make_engine
from metabiz.platform.extensions import Extensions
from metabiz.platform.metadata.store import current_version
from metabiz.platform.metadata.store import load_documents as stored_documents


def file_store(env: CliEnv) -> FileStorage:
    """Where stored files live (METABIZ_FILES: a folder or an S3-compatible store)."""
    return storage_for(env.config.files, env.config.instance_path)


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
    summary = write_backup(env.engine(), path, files=file_store(env))
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
                              files=file_store(env))
        search_index.upgrade(engine, env.extensions)  # a backup holds no search index
    finally:
        engine.dispose()
    click.echo(f"backup loaded from {summary.path}: {summary.tables} tables, "
               f"{summary.rows} rows, {summary.files} files")
