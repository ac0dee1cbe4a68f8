"""Kanban boards and stage paths: a picklist field's values as columns, with each column's
count and sum, and moving a record to another value through the record service.

The counts and sums are one grouped query with the record scope applied; the cards of
each column come from `query.list_records`, so they show exactly what the list would.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from metabiz.errors import BadRequest
from metabiz.objects import query, records
from metabiz.objects.context import Context
from metabiz.objects.schema import CompiledField, CompiledObject
from metabiz.platform.exact_numbers import exact_sum

#: cards listed per column (the header still counts and sums all of them)
CARDS_PER_COLUMN = 50
#: picklists a stage path shows on the record page, by name (the first one found wins)
STAGE_NAMES = ("stage", "status", "phase")
#: fields whose values a column may sum
SUMMABLE = ("currency", "number")  # not percent: a sum of percentages means nothing
#: the column of records with no value (shown only when there are some)
BLANK = ""


@dataclass(frozen=True)
class Column:
    value: str  # BLANK for "no value"
    label: str
    count: int
    total: Decimal | None  # the sum field's sum; None without a sum field


def board_fields(ctx: Context, obj: CompiledObject) -> list[CompiledField]:
    """The picklists a board can group by: stored, visible to the actor."""
    hidden = ctx.schema.access.hidden_fields(ctx.actor, obj.name, obj.fields)
    return [cf for cf in obj.fields.values()
            if cf.fdef.type == "picklist" and cf.ftype.stored and cf.name not in hidden]


def board_field(ctx: Context, obj: CompiledObject, name: str | None) -> CompiledField:
    """The picklist `name` (400 when it is not one the actor may group by); the object's
    stage-like picklist when `name` is empty."""
    fields = board_fields(ctx, obj)
    if not name:
        chosen = stage_field(ctx, obj) or (fields[0] if fields else None)
        if chosen is None:
            raise BadRequest(f"{obj.name} has no picklist field to show as a board",
                             fields={"board": ["no picklist field"]})
        return chosen
    for cf in fields:
        if cf.name == name:
            return cf
    raise BadRequest(f"{name!r} is not a picklist field of {obj.name}",
                     fields={"board": [f"{name} is not a picklist field"]})


def stage_field(ctx: Context, obj: CompiledObject) -> CompiledField | None:
    """The picklist a record page shows as a stage path (`stage`, `status`, `phase`…)."""
    fields = {cf.name: cf for cf in board_fields(ctx, obj)}
    for name in STAGE_NAMES:
        if name in fields:
            return fields[name]
    return next((cf for n, cf in fields.items() if n.endswith(("_stage", "_status"))), None)


def summable_fields(ctx: Context, obj: CompiledObject) -> list[CompiledField]:
    """The stored number and currency fields the actor may see."""
    hidden = ctx.schema.access.hidden_fields(ctx.actor, obj.name, obj.fields)
    return [cf for cf in obj.fields.values() if cf.fdef.type in SUMMABLE
            and cf.ftype.stored and cf.name not in hidden]


def sum_field(ctx: Context, obj: CompiledObject, name: str | None) -> CompiledField | None:
    """The field the columns sum: `name` if given (400 if it cannot be summed), else the
    first currency field the actor may see, else none."""
    summable = summable_fields(ctx, obj)
    if name:
        for cf in summable:
            if cf.name == name:
                return cf
        raise BadRequest(f"cannot sum {name!r} on {obj.name}",
                         fields={"sum": [f"{name} is not a number field"]})
    return next((cf for cf in summable if cf.fdef.type == "currency"), None)


def value_filter(field: CompiledField, value: str) -> str:
    """A filter formula selecting the records whose picklist holds `value` (or none)."""
    if value == BLANK:
        return f"ISBLANK({field.name})"
    literal = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'ISPICKVAL({field.name}, "{literal}")'


def columns(ctx: Context, obj: CompiledObject, field: CompiledField,
            total_of: CompiledField | None, *, filter: str | None = None,
            q: str | None = None) -> list[Column]:
    """One column per picklist value, in the picklist's order, with count and sum; records
    with no value (or a value since removed from the picklist) make a leading column."""
    ctx.schema.access.require(ctx.actor, obj.name, "read")
    column = obj.table.c[field.name]
    conditions = query.scope(ctx, obj)
    if filter:
        conditions.append(query.compile_filter(ctx, obj, filter))
    if q and q.strip():
        hidden = ctx.schema.access.hidden_fields(ctx.actor, obj.name, obj.fields)
        conditions.append(query.search(ctx.conn, obj, q.strip(), hidden))
    summed = exact_sum(obj.table.c[total_of.name], ctx.schema.dialect) \
        if total_of is not None else None
    selected = [column, func.count()] + ([summed] if summed is not None else [])
    found: dict[str, tuple[int, Any]] = {}
    for row in ctx.conn.execute(select(*selected).where(*conditions).group_by(column)):
        found[row[0] or BLANK] = (int(row[1]), row[2] if summed is not None else None)
    lang = ctx.language
    known = [v.value for v in field.fdef.values]
    out = [Column(v.value, v.label.get(lang), *_count_total(found.get(v.value), total_of))
           for v in field.fdef.values]
    stray = [found[v] for v in found if v not in known]
    if stray:
        count = sum(c for c, _ in stray)
        total = sum((Decimal(str(t)) for _, t in stray if t is not None), Decimal(0))
        out.insert(0, Column(BLANK, "", count, total if total_of is not None else None))
    return out


def _count_total(found: tuple[int, Any] | None,
                 total_of: CompiledField | None) -> tuple[int, Decimal | None]:
    if total_of is None:
        return (found[0] if found else 0), None
    if found is None:
        return 0, Decimal(0)
    return found[0], Decimal(str(found[1])) if found[1] is not None else Decimal(0)


def cards(ctx: Context, obj: CompiledObject, field: CompiledField, value: str, *,
          filter: str | None = None, q: str | None = None, sort: str | None = None,
          limit: int = CARDS_PER_COLUMN) -> list[dict[str, Any]]:
    """The first records of one column, as the list would show them (rich JSON)."""
    if value == BLANK:
        known = " && ".join(f"NOT({value_filter(field, v.value)})" for v in field.fdef.values)
        wanted = f"({value_filter(field, BLANK)}) || ({known})" if known else \
            value_filter(field, BLANK)
    else:
        wanted = value_filter(field, value)
    combined = f"({filter}) && ({wanted})" if filter else wanted
    return query.list_records(ctx, obj.name, filter=combined, sort=sort, limit=limit, q=q,
                              rich=True).records


def move(ctx: Context, object_name: str, record_id: Any, field_name: str, value: str,
         version: int | None = None) -> dict[str, Any]:
    """Set a record's picklist to `value` through the record service: its validation rules,
    locking (a pending approval refuses: 409 record_locked) and version check apply."""
    obj = ctx.schema.object(object_name)
    field = board_field(ctx, obj, field_name)
    data: dict[str, Any] = {field.name: value or None}
    if version is not None:
        data["version"] = version
    return records.update(ctx, obj.name, record_id, data)
