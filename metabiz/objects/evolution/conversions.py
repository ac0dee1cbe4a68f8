"""Type conversions of stored values: what each old value becomes, and which cannot convert.

The migration sets the old column aside and writes what `convert_values` gives; a lookup
converted to text becomes the name of the record it pointed to.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select, type_coerce

from metabiz.errors import FormulaError
from metabiz.objects.context import Context
from metabiz.objects.evolution.preflight import Failure
from metabiz.objects.fields import field_type
from metabiz.objects.records import Resolver
from metabiz.objects.schema import CompiledField, CompiledObject, RuntimeSchema
from metabiz.platform.access import SYSTEM
from metabiz.platform.metadata.model import FieldDef, MetadataBundle

REFERENCE_TYPES = frozenset({"lookup", "master_detail"})


@dataclass
class Conversion:
    """What converting one field's stored values gives."""

    #: (record id, the value for the new column) of every value that converts
    converted: list[tuple[int, Any]] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    #: how many values were looked at
    total: int = 0
    #: date-times that had a time of day a date drops
    timed: int = 0


def convert_values(conn: Connection, schema: RuntimeSchema, old: MetadataBundle,
                   obj: CompiledObject, cf: CompiledField, before: FieldDef,
                   target: CompiledObject | None, now: dt.datetime) -> Conversion:
    """Each stored value of `cf` (defined as `before` in `old`) converted to its new type.

    `target` is what an old lookup's target object is now called (its records' names are
    what the lookup converts to).
    """
    old_type, new_type = field_type(before.type), cf.ftype
    table = obj.table
    stored = type_coerce(table.c[cf.name], old_type.column_type(before, old))
    query = select(table.c.id, stored).order_by(table.c.id)
    if old_type.from_db(before, None) is None:  # a blank checkbox is false: convert it
        query = query.where(stored.is_not(None))
    rows = conn.execute(query).all()
    names = record_names(conn, schema, target, {raw for _, raw in rows}, now) \
        if before.type in REFERENCE_TYPES else None
    result = Conversion(total=len(rows))
    for record_id, raw in rows:
        value = old_type.from_db(before, raw)
        try:
            if names is not None:  # a lookup becomes the name of the record it points to
                shown = names.get(raw)
                if shown is None:
                    raise ValueError(f"{before.target} {raw} has no name" if raw in names
                                     else f"{before.target} {raw} does not exist")
                new_value = new_type.from_text(cf.fdef, shown)
            else:
                new_value = new_type.convert(cf.fdef, old_type, before, value)
        except ValueError as err:
            result.failures.append(Failure(record_id, old_type.as_text(before, value),
                                           str(err)))
            continue
        if isinstance(value, dt.datetime) and cf.fdef.type == "date" \
                and value.timetz().replace(tzinfo=None) != dt.time():
            result.timed += 1
        result.converted.append((record_id, new_type.to_db(cf.fdef, new_value)))
    return result


def record_names(conn: Connection, schema: RuntimeSchema, target: CompiledObject | None,
                 ids: set[Any], now: dt.datetime) -> dict[Any, str | None]:
    """id → the text of its name field, for the records of a lookup's target."""
    if target is None:
        return {}
    name_cf = target.fields.get(target.odef.name_field or "")
    resolver = Resolver(Context(conn, schema, SYSTEM, now=now))
    names: dict[Any, str | None] = {}
    wanted = sorted(ids)
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        rows = conn.execute(select(target.table).where(target.table.c.id.in_(chunk))).mappings()
        for row in rows:
            record = target.decode(row)
            if name_cf is None:
                shown: str | None = str(row["id"])
            elif name_cf.formula is not None:
                try:
                    value = name_cf.formula.run(resolver.context(target, record))
                except FormulaError:
                    value = None
                shown = field_type(name_cf.fdef.return_type or "text").as_text(
                    name_cf.fdef, value)
            else:
                shown = name_cf.ftype.as_text(name_cf.fdef, record.get(name_cf.name))
            names[row["id"]] = shown if shown and shown.strip() else None
    return names
