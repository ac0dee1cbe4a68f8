"""Imports as background jobs: queued by the API and the import page, run by the job worker.

The job kind `import` is registered with the kernel (`Extensions.add_job_kind`); the package
that owns the job table (flows) runs it and provides the queue. Progress is kept in the
imports table: on PostgreSQL after every batch; SQLite lets one writer in at a time, so
there the count moves when the file has been read and when the import ends.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from metabiz.errors import MetabizError
from metabiz.platform.auth import load_actor
from metabiz.platform.extensions import Extensions
from metabiz.spreadsheets import store
from metabiz.spreadsheets.importer import ImportOptions, ImportResult, count_rows, import_file
from metabiz.spreadsheets.sheets import SheetRejected

log = logging.getLogger(__name__)

JOB_KIND = "import"


class JobsUnavailable(MetabizError):
    code = "unavailable"
    status = 503


def enqueue(extensions: Extensions, conn: Connection, import_id: int) -> int:
    """Put the import on the job queue (in the caller's transaction)."""
    if extensions.job_queue is None:
        raise JobsUnavailable("imports run as background jobs, and no job worker is installed")
    return extensions.job_queue(conn, JOB_KIND, {"import": import_id})


def options_of(raw: Mapping[str, Any]) -> ImportOptions:
    mapping = raw.get("mapping")
    return ImportOptions(
        key=raw.get("key") or None, dry_run=bool(raw.get("dry_run")),
        skip_bad_rows=bool(raw.get("skip_bad_rows")),
        mapping=None if mapping is None else {int(k): v for k, v in mapping.items()})


def run_import_job(payload: Mapping[str, Any], env: Any) -> None:
    """The job: run one queued import as its user, recording progress and the outcome."""
    import_id = int(payload["import"])
    engine = env.engine
    if not store.claim(engine, import_id):
        log.info("import %s is not queued any more; nothing to do", import_id)
        return
    try:
        with engine.connect() as conn:
            row = store.load(conn, import_id, with_data=True)
            actor = load_actor(conn, row["actor"])
        options = options_of(row["options"])
        total = count_rows(row["filename"], row["data"])
        store.progress(engine, import_id, total=total, phase="writing")
        live = engine.dialect.name != "sqlite"  # SQLite: the import holds the only write lock

        def show(result: ImportResult) -> None:
            if live:
                store.progress(engine, import_id, processed=result.processed,
                               created=result.created, updated=result.updated)

        result = import_file(engine, env.runtime, actor, row["object"], row["filename"],
                             row["data"], options, show)
    except SheetRejected as err:
        store.finish(engine, import_id, "failed", message=err.message,
                     errors=[{"row": None, "column": None, "field": None, "message": p}
                             for p in err.problems])
        return
    except MetabizError as err:
        store.finish(engine, import_id, "failed", message=err.message)
        return
    except Exception:
        store.finish(engine, import_id, "failed",
                     message="the import stopped on an internal error; nothing was written")
        raise
    ok = result.written or (options.dry_run and (options.skip_bad_rows or not result.errors))
    message = None
    if not ok:
        message = f"nothing written: {result.bad_rows} of {result.total} rows are bad"
    store.finish(engine, import_id, "done" if ok else "failed", total=result.total,
                 processed=result.processed, created=result.created, updated=result.updated,
                 written=result.written, errors=[e.to_json() for e in result.errors],
                 notes=result.notes, message=message)
