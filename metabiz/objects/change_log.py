"""The field history a write leaves: one row per changed field, old and new values as JSON,
who and when, and for claims, returns, transfers and notes their kind and note."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import insert

from metabiz.objects.context import Context
from metabiz.objects.fields import json_value
from metabiz.objects.schema import CompiledObject
from metabiz.platform.db import field_history


def log_changes(ctx: Context, obj: CompiledObject, before: Mapping[str, Any],
                after: Mapping[str, Any], changed: Iterable[str], *,
                kind: str | None = None, note: str | None = None) -> None:
    """Record the changed fields of one record (nothing when none changed)."""
    rows = []
    for name in sorted(changed):
        cf = obj.fields.get(name)
        old, new = before.get(name), after.get(name)
        if cf is not None:
            old, new = cf.ftype.to_json(cf.fdef, old), cf.ftype.to_json(cf.fdef, new)
        else:
            old, new = json_value(old), json_value(new)
        rows.append({"object": obj.name, "record_id": before["id"], "field": name,
                     "old_value": old, "new_value": new,
                     "changed_by": ctx.actor.name, "changed_at": ctx.naive_now(),
                     "kind": kind, "note": note})
    if rows:
        ctx.conn.execute(insert(field_history), rows)
