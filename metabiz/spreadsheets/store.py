"""The imports table: each uploaded file with its options and status, so any server process
(and the worker running it) reads the same progress.

Status: `draft` (uploaded on the page, columns not yet confirmed) → `queued` → `running` →
`done` or `failed`. Created only by the revisions in metabiz/spreadsheets/migrations/.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    Engine,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
    update,
)

from metabiz.errors import NotFound
from metabiz.platform.access import Actor
from metabiz.platform.db import UTCDateTime, writer
from metabiz.platform.request_input import MAX_BIGINT

sheet_metadata = MetaData()

imports = Table(
    "sheet_imports", sheet_metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("object", String(64), nullable=False),
    Column("actor", String(64), nullable=False),  # who imports (their rights apply)
    Column("filename", String(255), nullable=False),
    Column("data", LargeBinary, nullable=False),  # the file as uploaded
    Column("options", JSON, nullable=False),  # key, dry_run, skip_bad_rows, mapping
    Column("status", String(16), nullable=False),
    Column("phase", String(16)),  # while running: reading | writing
    Column("total", Integer, nullable=False),
    Column("processed", Integer, nullable=False),
    Column("created", Integer, nullable=False),
    Column("updated", Integer, nullable=False),
    Column("errors", JSON),  # [{"row", "column", "field", "message"}]
    Column("notes", JSON),  # columns left out, and why
    Column("message", Text),  # why a failed import failed as a whole
    Column("written", Boolean, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("started_at", UTCDateTime()),
    Column("finished_at", UTCDateTime()),
    Index("ix_sheet_imports_actor", "actor", "object"),
)

FINISHED = ("done", "failed")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def create(conn: Connection, *, object_name: str, actor: str, filename: str, data: bytes,
           options: Mapping[str, Any], status: str = "queued") -> int:
    return int(conn.execute(insert(imports).values(
        object=object_name, actor=actor, filename=filename[:255], data=data,
        options=dict(options), status=status, total=0, processed=0, created=0, updated=0,
        written=False, created_at=_now()).returning(imports.c.id)).scalar_one())


def load(conn: Connection, import_id: Any, actor: Actor | None = None,
         with_data: bool = False) -> dict[str, Any]:
    """One import; NotFound for an unknown id or another user's import (admins see all)."""
    try:
        key = int(import_id)
    except (TypeError, ValueError):
        raise NotFound(f"no import with id {import_id!r}") from None
    if not 0 < key <= MAX_BIGINT:  # no id is that large (SQLite could not even compare it)
        raise NotFound(f"no import with id {import_id!r}")
    columns = [c for c in imports.c if with_data or c.name != "data"]
    row = conn.execute(select(*columns).where(imports.c.id == key)).mappings().first()
    if row is None or (actor is not None and not actor.is_admin and row["actor"] != actor.name):
        raise NotFound(f"no import with id {import_id!r}")
    return dict(row)


def recent(conn: Connection, actor: Actor, object_name: str, limit: int = 5) -> list[dict[str, Any]]:
    columns = [c for c in imports.c if c.name not in ("data", "errors")]
    return [dict(r) for r in conn.execute(
        select(*columns).where(imports.c.actor == actor.name, imports.c.object == object_name,
                               imports.c.status != "draft")
        .order_by(imports.c.id.desc()).limit(limit)).mappings()]


def set_options(conn: Connection, import_id: int, options: Mapping[str, Any],
                status: str) -> None:
    conn.execute(update(imports).where(imports.c.id == import_id).values(
        options=dict(options), status=status))


#: what an import says once its first worker stopped mid-way and another started it again
RESTARTED = ("the worker running this import stopped before it finished; nothing of that "
             "attempt was written, and the import started again from the first row")
#: why an import failed when its worker stopped again and again
WORKER_STOPPED = ("the import stopped twice because the worker running it stopped (ran out of "
                  "memory or was shut down); nothing was written. Import the file again, or "
                  "split it into smaller files")


def claim(engine: Engine, import_id: int, *, taken_over: bool = False,
          may_restart: bool = True) -> dt.datetime | None:
    """Start a queued import, or — `taken_over`: the worker running it stopped, so its
    transaction never committed — start it again from scratch (once: `may_restart`), else
    fail it. Returns this run's token (its `started_at`, which later writes of the run must
    match), or None when there is nothing to run."""
    now = _now()
    with writer(engine).begin() as conn:
        status = conn.execute(select(imports.c.status).where(imports.c.id == import_id)).scalar()
        if status == "queued":
            conn.execute(update(imports).where(imports.c.id == import_id).values(
                status="running", phase="reading", started_at=now))
            return now
        if status != "running" or not taken_over:
            return None
        if not may_restart:
            conn.execute(update(imports).where(imports.c.id == import_id).values(
                status="failed", phase=None, finished_at=now, message=WORKER_STOPPED))
            return None
        conn.execute(update(imports).where(imports.c.id == import_id).values(
            phase="reading", started_at=now, total=0, processed=0, created=0, updated=0,
            errors=None, notes=None, written=False, message=RESTARTED))
        return now


def _run_of(import_id: int, run: dt.datetime | None) -> Any:
    """The import, while `run` (the token `claim` gave) is its current run."""
    where = imports.c.id == import_id
    return where if run is None else where & (imports.c.started_at == run) & \
        (imports.c.status == "running")


def progress(engine: Engine, import_id: int, run: dt.datetime | None = None,
             **values: Any) -> bool:
    """Record progress (of run `run` only); False when another run has taken over."""
    with writer(engine).begin() as conn:
        return conn.execute(update(imports).where(_run_of(import_id, run))
                            .values(**values)).rowcount == 1


def finish(engine: Engine, import_id: int, status: str, run: dt.datetime | None = None,
           **values: Any) -> bool:
    return progress(engine, import_id, run, status=status, phase=None, finished_at=_now(),
                    **values)


def finish_in(conn: Connection, import_id: int, status: str, run: dt.datetime | None,
              **values: Any) -> bool:
    """`finish` inside the import's own transaction (its outcome commits with its rows)."""
    return conn.execute(update(imports).where(_run_of(import_id, run)).values(
        status=status, phase=None, finished_at=_now(), **values)).rowcount == 1


def status_json(row: Mapping[str, Any]) -> dict[str, Any]:
    """The API's view of an import (the contract's status is running, done or failed)."""
    status = row["status"]
    return {"id": row["id"], "object": row["object"], "filename": row["filename"],
            "status": status if status in FINISHED else "running",
            "phase": row["phase"] or (status if status not in FINISHED else None),
            "total": row["total"], "processed": row["processed"], "created": row["created"],
            "updated": row["updated"], "written": bool(row["written"]),
            "errors": row.get("errors") or [], "notes": row.get("notes") or [],
            "message": row["message"], "options": {k: v for k, v in row["options"].items()
                                                   if k != "mapping"}}
