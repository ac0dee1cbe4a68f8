"""Orphaned stored files: blobs no record names any more — an upload whose process died
before its save committed or rolled back, a delete whose blob removal failed — found and
deleted by `metabiz files sweep` once they are older than any upload still in progress.

Every column of the objects' tables that may hold a file is read: the file and image fields,
and the columns the current metadata does not name (removed fields and objects, kept until
purged, and the old values a retype keeps), so a restore finds its files still there.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import click
from sqlalchemy import Connection, MetaData, String, select

from metabiz.objects.file_storage import PARTIAL, FileStorage, storage_for
from metabiz.objects.schema import RuntimeSchema
from metabiz.platform.cli import CliEnv, command

#: how a stored file's description starts in its column (fields/file.py writes it)
_STORED = '{"name": '
#: the columns every object table has, none of which holds a file
_SYSTEM = {"id", "owner", "created_at", "created_by", "updated_at", "updated_by", "version",
           "approval_status", "locked"}
FILE_TYPES = ("file", "image")
DEFAULT_HOURS = 24.0


@dataclass(frozen=True)
class Orphan:
    key: str
    stored_at: dt.datetime


def referenced_keys(conn: Connection, schema: RuntimeSchema) -> set[str]:
    """The keys (files and thumbnails) some row of an object table names."""
    plain: dict[str, set[str]] = {}  # table → columns that never hold a file
    for obj in schema.objects.values():
        plain[obj.table.name] = _SYSTEM | {
            name for name, cf in obj.fields.items() if cf.fdef.type not in FILE_TYPES}
    meta = MetaData()
    meta.reflect(conn, only=lambda name, _: name.startswith("obj_"))
    keys: set[str] = set()
    for table in meta.sorted_tables:
        skip = plain.get(table.name, _SYSTEM)
        for column in table.columns:
            if column.name in skip or not isinstance(column.type, String):
                continue
            for (raw,) in conn.execute(select(column).where(column.like(_STORED + "%"))):
                keys.update(_keys_of(raw))
    return keys


def _keys_of(raw: str) -> list[str]:
    try:
        data = json.loads(raw)
    except ValueError:
        return []
    if not isinstance(data, dict):
        return []
    return [str(data[k]) for k in ("key", "thumbnail") if isinstance(data.get(k), str)]


def orphans(storage: FileStorage, referenced: set[str], *, older_than: dt.timedelta,
            now: dt.datetime) -> list[Orphan]:
    """Stored files no record names, stored before `now - older_than` (a younger one may
    belong to a save still in progress)."""
    cutoff = now - older_than
    found = []
    for key, stored_at in storage.listing():
        named = key[:-len(PARTIAL)] if key.endswith(PARTIAL) else key
        if stored_at < cutoff and (key != named or named not in referenced):
            found.append(Orphan(key, stored_at))
    return sorted(found, key=lambda o: o.key)


@click.group("files")
def files_group() -> None:
    """Stored files and images (METABIZ_FILES: a folder or an S3-compatible store)."""


@command(files_group, "sweep")
@click.option("--older-than", "hours", default=DEFAULT_HOURS, show_default=True,
              type=click.FloatRange(min=0), metavar="HOURS",
              help="only files stored at least this long ago (uploads in progress are younger)")
@click.option("--dry-run", is_flag=True, help="list the orphaned files, delete nothing")
def sweep(env: CliEnv, hours: float, dry_run: bool) -> None:
    """Delete stored files that no record names (uploads whose save never committed, files
    whose deletion failed)."""
    storage = storage_for(env.config.files, env.config.instance_path)
    runtime = env.runtime()
    with runtime.engine.connect() as conn:
        referenced = referenced_keys(conn, runtime.schema(conn))
    found = orphans(storage, referenced, older_than=dt.timedelta(hours=hours),
                    now=dt.datetime.now(dt.UTC))
    for orphan in found:
        if not dry_run:
            storage.delete(orphan.key)
        click.echo(f"{orphan.key}\t{orphan.stored_at:%Y-%m-%dT%H:%M:%SZ}")
    verb = "would delete" if dry_run else "deleted"
    click.echo(f"{verb} {len(found)} orphaned files (older than {hours:g} hours); "
               f"{len(referenced)} stored files are in use")
