"""Schema evolution of public pools: the `pool` column, and records adopted by a new pool.

An object that gains pools gets the column; a new pool with `adopt_field` takes the records
whose boolean field (current, or removed with its data kept) is true: a template that kept
its pool in a field moves onto the platform's pools in the same apply.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from alembic.operations import Operations
from sqlalchemy import Connection, MetaData, Table, insert, select, true, update

from metabiz.objects.evolution.plan import Change, plural
from metabiz.objects.schema import CompiledObject, pool_column
from metabiz.platform.db import field_history
from metabiz.platform.metadata.model import ObjectDef
from metabiz.platform.metadata.reserved import POOL_COLUMN


def migrate_pools(conn: Connection, ops: Operations, obj: CompiledObject,
                  previous: ObjectDef | None, columns: set[str],
                  step: Callable[[str, str], Change], now: dt.datetime) -> None:
    """Add the pool column of an existing table and let new pools adopt their records."""
    if not obj.odef.pools:
        return
    if POOL_COLUMN not in columns:
        ops.add_column(obj.table.name, pool_column())
        columns.add(POOL_COLUMN)
        step("+", f"add public pools to {obj.name} (column {POOL_COLUMN})")
    known = {p.api_name for p in previous.pools} if previous is not None else set()
    for pool in obj.odef.pools:
        if pool.api_name in known or not pool.adopt_field or pool.adopt_field not in columns:
            continue
        # the flag may be a removed field the compiled table no longer maps: reflect it
        stored = Table(obj.table.name, MetaData(), autoload_with=conn)
        flagged = (stored.c[pool.adopt_field].is_(true()), stored.c[POOL_COLUMN].is_(None))
        raw = conn.execute(select(stored.c.id, stored.c.owner).where(*flagged)).all()
        if not raw:
            continue
        conn.execute(update(stored).where(*flagged)
                     .values({POOL_COLUMN: pool.api_name, "owner": None}))
        stamp = now.astimezone(dt.UTC).replace(tzinfo=None)
        rows = [{"object": obj.name, "record_id": int(record_id), "field": name,
                 "old_value": old, "new_value": new, "changed_by": "system",
                 "changed_at": stamp, "kind": "return", "note": None}
                for record_id, owner in raw
                for name, old, new in (("owner", owner, None), (POOL_COLUMN, None, pool.api_name))
                if old != new]
        for start in range(0, len(rows), 500):
            conn.execute(insert(field_history), rows[start:start + 500])
        step("~", f"move {plural(len(raw), f'{obj.name} record')} into pool {pool.api_name} "
                  f"(from {pool.adopt_field})")
