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


def claim(engine: Engine, import_id: int) -> bool:
    """Start a queued import; False when it is not queued (another worker has it)."""
    with writer(engine).begin() as conn:
        done = conn.execute(update(imports).where(
            imports.c.id == import_id, imports.c.status == "queued").values(
            status="running", phase="reading", started_at=_now()))
        return done.rowcount == 1


def progress(engine: Engine, import_id: int, **values: Any) -> None:
    with writer(engine).begin() as conn:
        conn.execute(update(imports).where(imports.c.id == import_id).values(**values))


def finish(engine: Engine, import_id: int, status: str, **values: Any) -> None:
    progress(engine, import_id, status=status, phase=None, finished_at=_now(), **values)


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
