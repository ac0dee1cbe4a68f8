"""What earlier metadata versions defined: the last definition of every object and field.

A removed object or field keeps its data; restoring it, or adding it again under the same
name, finds the definition that data was written under here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from metabiz.errors import MetadataError
from metabiz.platform.db import metadata_versions
from metabiz.platform.metadata.loader import load_documents as load_app
from metabiz.platform.metadata.model import ObjectDef


def definitions_in_history(conn: Connection) -> dict[str, ObjectDef]:
    """For every object and field ever applied, its newest definition (older ones lose)."""
    found: dict[str, dict[str, Any]] = {}
    fields: dict[str, dict[str, Any]] = {}
    rows = conn.execute(select(metadata_versions.c.documents)
                        .order_by(metadata_versions.c.version)).scalars()
    for documents in rows:
        for key, doc in documents.items():
            rel = key.partition("/")[2]
            if rel.startswith("objects/") and isinstance(doc, dict):
                name = rel.removeprefix("objects/").removesuffix(".json")
                found[name] = doc
                merged = fields.setdefault(name, {})
                for f in doc.get("fields", []):
                    merged[f.get("api_name")] = f
    result: dict[str, ObjectDef] = {}
    for name, doc in found.items():
        doc = {**doc, "fields": list(fields[name].values())}
        doc.pop("layouts", None)
        doc.pop("list_views", None)
        doc.pop("validation_rules", None)
        try:
            bundle = load_app({f"objects/{name}.json": doc}, known_objects=set(found))
        except MetadataError:
            continue
        if bundle.objects:
            result[name] = bundle.objects[0]
    return result
