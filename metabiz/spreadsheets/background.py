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
#: how many times a worker may start one import (the first run and one restart)
MAX_RUNS = 2


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
    """The job: run one queued import as its user, recording progress and the outcome.

    The outcome of a written import commits with its rows, so an import whose worker died
    (its job taken over once the lease ran out) wrote nothing and starts again from the first
    row; a second death fails it. Every write of a run names the run, so a worker that only
    seemed dead cannot overwrite the run that replaced it."""
    import_id = int(payload["import"])
    engine = env.engine
    taken_over = bool(getattr(env, "taken_over", False))
    run = store.claim(engine, import_id, taken_over=taken_over,
                      may_restart=int(getattr(env, "attempt", 1)) <= MAX_RUNS)
    if run is None:
        log.info("import %s is not queued any more; nothing to do", import_id)
        return
    restarted = store.RESTARTED if taken_over else None
    try:
        with engine.connect() as conn:
            row = store.load(conn, import_id, with_data=True)
            actor = load_actor(conn, row["actor"])
        options = options_of(row["options"])
        total = count_rows(row["filename"], row["data"])
        store.progress(engine, import_id, run, total=total, phase="writing")
        live = engine.dialect.name != "sqlite"  # SQLite: the import holds the only write lock

        def show(result: ImportResult) -> None:
            if live:
                store.progress(engine, import_id, run, processed=result.processed,
                               created=result.created, updated=result.updated)

        def settle(conn: Connection, result: ImportResult) -> None:
            if not store.finish_in(conn, import_id, "done", run, **_outcome(result),
                                   message=restarted):
                raise RunReplaced(f"import {import_id} was started again by another worker")

        result = import_file(engine, env.runtime, actor, row["object"], row["filename"],
                             row["data"], options, show, before_commit=settle)
    except RunReplaced as err:
        log.warning("%s; this run's rows were rolled back", err)
        return
    except SheetRejected as err:
        store.finish(engine, import_id, "failed", run, message=err.message,
                     errors=[{"row": None, "column": None, "field": None, "message": p}
                             for p in err.problems])
        return
    except MetabizError as err:
        store.finish(engine, import_id, "failed", run, message=err.message)
        return
    except Exception:
        store.finish(engine, import_id, "failed", run,
                     message="the import stopped on an internal error; nothing was written")
        raise
    if result.written:
        return  # recorded with its rows
    ok = options.dry_run and (options.skip_bad_rows or not result.errors)
    message = restarted
    if not ok:
        message = f"nothing written: {result.bad_rows} of {result.total} rows are bad"
    store.finish(engine, import_id, "done" if ok else "failed", run, **_outcome(result),
                 message=message)


class RunReplaced(Exception):
    """Another worker started the import again (this one's lease had run out): roll back."""


def _outcome(result: ImportResult) -> dict[str, Any]:
    return {"total": result.total, "processed": result.processed, "created": result.created,
            "updated": result.updated, "written": result.written,
            "errors": [e.to_json() for e in result.errors], "notes": result.notes}
