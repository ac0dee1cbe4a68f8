"""Restore and purge: bringing a removed object or field back, or deleting its data for good.

A removed object's table and a removed field's column stay (with the old columns conversions
set aside) until purged; restoring puts the last definition back through a normal apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import Engine, inspect, select

from metabiz.errors import ConflictError, NotFound
from metabiz.objects.evolution.apply import apply_documents
from metabiz.objects.evolution.columns import purge_column, purge_table
from metabiz.objects.evolution.plan import Plan
from metabiz.platform.db import metadata_versions, writer
from metabiz.platform.extensions import Extensions
from metabiz.platform.metadata.store import current_version, forget_losses, save_version
from metabiz.platform.metadata.store import load_documents as stored_documents


def restore(engine: Engine, target: str, *, extensions: Extensions,
            applied_by: str = "system") -> Plan:
    """Bring a removed object or field back into the metadata, with its kept data."""
    object_name, _, field_name = target.partition(".")
    with engine.connect() as conn:
        stored = stored_documents(conn)
        history = list(conn.execute(select(metadata_versions.c.documents)
                                    .order_by(metadata_versions.c.version.desc())).scalars())
    current = _object_key(stored, object_name)
    if not field_name:
        if current is not None:
            raise ConflictError(f"object {object_name!r} is not removed")
        for documents in history:
            key = _object_key(documents, object_name)
            if key is not None:
                def put_object_back(d: dict[str, Any], key: str = key,
                                    doc: Any = documents[key]) -> dict[str, Any]:
                    return {**d, key: doc}

                return apply_documents(engine, put_object_back, extensions=extensions,
                                       applied_by=applied_by, summary=f"restore {target}")
        raise NotFound(f"no removed object {object_name!r} to restore")
    if current is None:
        raise NotFound(f"object {object_name!r} is not active: restore it first")
    if any(f.get("api_name") == field_name for f in stored[current].get("fields", [])):
        raise ConflictError(f"field {target!r} is not removed")
    for documents in history:
        key = _object_key(documents, object_name)
        old_field = next((f for f in documents[key].get("fields", [])
                          if f.get("api_name") == field_name), None) if key else None
        if old_field is not None:
            def put_back(d: dict[str, Any], key: str = current,
                         old_field: dict[str, Any] = old_field) -> dict[str, Any]:
                doc = dict(d[key])
                doc["fields"] = [*doc.get("fields", []), old_field]
                return {**d, key: doc}

            return apply_documents(engine, put_back, extensions=extensions,
                                   applied_by=applied_by, summary=f"restore {target}")
    raise NotFound(f"no removed field {target!r} to restore")


def purge(engine: Engine, target: str, *, applied_by: str = "system") -> Plan:
    """Delete a removed object's table or a removed field's column (and backups) for good."""
    object_name, _, field_name = target.partition(".")
    plan = Plan()
    with writer(engine).begin() as conn:
        plan.base = current_version(conn)
        stored = stored_documents(conn)
        key = _object_key(stored, object_name)
        table = f"obj_{object_name}"
        inspector = inspect(conn)
        ops = Operations(MigrationContext.configure(conn))
        if not field_name:
            if key is not None:
                raise ConflictError(f"object {object_name!r} is active: remove it from the "
                                    "metadata first")
            if not inspector.has_table(table):
                raise NotFound(f"no removed object {object_name!r} to purge")
            purge_table(conn, ops, table)
            forget_losses(conn, object_name)
            plan.add("-", f"purge object {object_name} and all its records")
        else:
            if key is None or not inspector.has_table(table):
                raise NotFound(f"object {object_name!r} is not active")
            if any(f.get("api_name") == field_name for f in stored[key].get("fields", [])):
                raise ConflictError(f"field {target!r} is active: remove it from the "
                                    "metadata first")
            names = [c["name"] for c in inspector.get_columns(table)
                     if c["name"] == field_name or c["name"].startswith(f"{field_name[:48]}__v")]
            if not names:
                raise NotFound(f"no removed field {target!r} to purge")
            for column in names:
                purge_column(conn, ops, table, column)
            forget_losses(conn, object_name, field_name)
            plan.add("-", f"purge field {target} and its values")
        plan.version = save_version(conn, stored, applied_by, "; ".join(plan.steps))
    return plan


def _object_key(documents: Mapping[str, Any], object_name: str) -> str | None:
    suffix = f"/objects/{object_name}.json"
    return next((k for k in documents if k.endswith(suffix)), None)
