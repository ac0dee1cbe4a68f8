"""Metadata versions for the builder: the list, one version with its diff to the one before,
and reverting to an earlier version as a new one.

A revert is an apply like any other (`documents.apply_change`); renames made since are
reversed with `renamed_from`, so every field reads its data as it did then.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, select

from metabiz.builder_ui.documents import apply_change
from metabiz.errors import NotFound
from metabiz.objects.evolution import Plan
from metabiz.platform.db import metadata_versions
from metabiz.platform.extensions import Extensions
from metabiz.platform.metadata.store import (
    current_version,
    list_versions,
    split_apps,
    version_record,
)
from metabiz.platform.metadata.store import load_documents as stored_documents


def _at(when: Any) -> str:
    return str(when.strftime("%Y-%m-%dT%H:%M:%SZ"))


def versions(conn: Connection) -> list[dict[str, Any]]:
    """Every applied version, newest first: number, when, who, summary."""
    return [{"version": v.version, "at": _at(v.applied_at), "by": v.applied_by,
             "summary": v.summary} for v in reversed(list_versions(conn))]


def version(conn: Connection, number: int) -> dict[str, Any]:
    """One version's documents and what changed from the version before it."""
    record = version_record(conn, number)
    if record is None:
        raise NotFound(f"no metadata version {number}")
    before = stored_documents(conn, number - 1) if number > 1 else {}
    return {"version": number, "at": record["applied_at"], "by": record["applied_by"],
            "summary": record["summary"], "current": number == current_version(conn),
            "documents": record["documents"], "diff": diff(before, record["documents"])}


def _text(doc: Any) -> list[str]:
    return json.dumps(doc, ensure_ascii=False, indent=2).splitlines()


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per document: `added`, `removed` or `changed`, with unified diff lines of its JSON."""
    out = []
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        change = "added" if old is None else "removed" if new is None else "changed"
        lines = list(difflib.unified_diff(_text(old) if old is not None else [],
                                          _text(new) if new is not None else [],
                                          lineterm="", n=2))[2:]
        out.append({"document": key, "change": change, "lines": lines})
    return out


# -- revert -------------------------------------------------------------------------------


def _objects(documents: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Object name → its document, across apps."""
    found = {}
    for docs in split_apps(documents).values():
        for rel, doc in docs.items():
            if rel.startswith("objects/") and isinstance(doc, dict):
                found[rel.removeprefix("objects/").removesuffix(".json")] = doc
    return found


def _field_names(doc: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {f["api_name"]: f for f in doc.get("fields", [])
            if isinstance(f, dict) and isinstance(f.get("api_name"), str)}


def renames_since(history: Sequence[Mapping[str, Any]]) -> tuple[dict[str, str],
                                                             dict[tuple[str, str], str]]:
    """What the objects and fields of `history[0]` are called in `history[-1]`:
    (object → its name now, (object, field) → the field's name now)."""
    first = _objects(history[0])
    objects = {name: name for name in first}
    fields = {(o, f): f for o, doc in first.items() for f in _field_names(doc)}
    previous = first
    for documents in history[1:]:
        now = _objects(documents)
        for name, doc in now.items():
            old = doc.get("renamed_from")
            if isinstance(old, str) and old in previous and name not in previous:
                objects = {k: (name if v == old else v) for k, v in objects.items()}
        for name, doc in now.items():
            source = next((k for k, v in objects.items() if v == name), name)
            before = previous.get(name) or previous.get(str(doc.get("renamed_from")), {})
            had = _field_names(before)
            for fname, fdoc in _field_names(doc).items():
                old = fdoc.get("renamed_from")
                if isinstance(old, str) and old in had and fname not in had:
                    fields = {k: (fname if k[0] == source and v == old else v)
                              for k, v in fields.items()}
        previous = now
    return objects, fields


def reverted_documents(target: Mapping[str, Any], history: Sequence[Mapping[str, Any]]
                       ) -> dict[str, Any]:
    """`target` with `renamed_from` saying how to get there from today's names."""
    objects, fields = renames_since(history)
    out: dict[str, Any] = {}
    for key, doc in target.items():
        rel = key.partition("/")[2]
        if not (rel.startswith("objects/") and isinstance(doc, dict)):
            out[key] = doc
            continue
        name = rel.removeprefix("objects/").removesuffix(".json")
        doc = {k: v for k, v in doc.items() if k != "renamed_from"}
        if objects.get(name, name) != name:
            doc["renamed_from"] = objects[name]
        new_fields = []
        for fdoc in doc.get("fields", []):
            if isinstance(fdoc, dict):
                fdoc = {k: v for k, v in fdoc.items() if k != "renamed_from"}
                fname = fdoc.get("api_name")
                now = fields.get((name, fname)) if isinstance(fname, str) else None
                if now is not None and now != fname:
                    fdoc["renamed_from"] = now
            new_fields.append(fdoc)
        if "fields" in doc:
            doc["fields"] = new_fields
        out[key] = doc
    return out


def revert(engine: Engine, extensions: Extensions, number: int, *, dry_run: bool = False,
           applied_by: str = "system") -> Plan:
    """Make the metadata what it was at version `number`, as a new version."""
    with engine.connect() as conn:
        latest = current_version(conn)
        if not 1 <= number <= latest:
            raise NotFound(f"no metadata version {number}")
        rows = conn.execute(select(metadata_versions.c.documents)
                            .where(metadata_versions.c.version >= number)
                            .order_by(metadata_versions.c.version)).scalars().all()
    history = [dict(r) for r in rows]
    wanted = reverted_documents(history[0], history)

    def change(current: dict[str, Any]) -> dict[str, Any]:
        return wanted

    return apply_change(engine, extensions, change, summary=f"builder: revert to version "
                        f"{number}", dry_run=dry_run, applied_by=applied_by)
