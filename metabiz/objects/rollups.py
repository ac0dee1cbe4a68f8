"""Roll-up summaries kept exact in SQL: recomputed for the parents a child write touched.

The record service calls `refresh_parents` in the writing transaction; schema sync calls
`refresh_all` when a roll-up is added or redefined. Roll-ups of roll-ups cascade upwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, func, literal, select, update
from sqlalchemy.sql.elements import ColumnElement

from metabiz.objects.fields.rollup import SCALE, Rollup
from metabiz.objects.schema import CompiledField, CompiledObject, RuntimeSchema
from metabiz.platform.exact_numbers import plain, stored_scale

_AGGREGATES: dict[str, Callable[..., ColumnElement[Any]]] = {
    "sum": func.sum, "min": func.min, "max": func.max, "avg": func.avg}


def summary_expression(schema: RuntimeSchema, parent: CompiledObject, rollup: CompiledField,
                       parent_id: ColumnElement[Any]) -> ColumnElement[Any]:
    """The scalar subquery computing one roll-up for the parent whose id is `parent_id`."""
    fdef = rollup.fdef
    child = schema.object(fdef.child_object or "")
    table = child.table.alias(f"rollup_{child.name}")
    resolve = schema.sql_columns(child.name, table)
    where = [table.c[fdef.relationship_field or ""] == parent_id]
    if rollup.rollup_filter is not None:
        where.append(schema.formula_sql(rollup.rollup_filter, child.name, table=table))
    source = None if fdef.function == "count" else resolve((fdef.rollup_field or "",))
    if schema.dialect == "sqlite" and isinstance(rollup.ftype, Rollup) \
            and rollup.ftype.value_kind(fdef, schema.bundle) == "number":
        value = _scaled_on_sqlite(fdef.function or "sum", table.c.id, source)
    elif source is None:
        value = func.count(table.c.id)
    else:
        value = _AGGREGATES[fdef.function or "sum"](source)
        if fdef.function == "sum":
            value = func.coalesce(value, literal(0))
    return select(value).where(*where).scalar_subquery()


def _scaled_on_sqlite(function: str, row_id: Any, source: Any) -> ColumnElement[Any]:
    """The roll-up as the integer its SQLite column stores (scaled by 10^SCALE), computed
    exactly from the summarised field's own scaled integers."""
    if function == "count" or source is None:
        return func.count(row_id) * literal(10 ** SCALE)
    scale = stored_scale(source)
    if scale is None:  # a computed number (a formula): a double, scaled here
        raw, shift = func.round(source * literal(10 ** SCALE)), 0
    else:
        raw, shift = plain(source), SCALE - scale
    if function == "sum":
        return func.coalesce(func.metabiz_sum(raw, shift), literal(0))
    if function == "avg":
        return func.metabiz_avg(raw, shift)
    return func.metabiz_rescale(_AGGREGATES[function](raw), shift)


def refresh_parents(conn: Connection, schema: RuntimeSchema, child: str,
                    parent_ids: Mapping[str, Iterable[Any]]) -> None:
    """Recompute the roll-ups over `child` for the given parents.

    `parent_ids` maps a relationship field of the child to the parent ids it held
    before and after the write (both the old and the new parent change).
    """
    for parent, rollup in schema.rollups_over(child):
        ids = {i for i in parent_ids.get(rollup.fdef.relationship_field or "", ()) if i is not None}
        if ids:
            _refresh(conn, schema, parent, rollup, ids)


def refresh_touched(conn: Connection, schema: RuntimeSchema, child: str,
                    touched: Sequence[Mapping[str, Any]]) -> None:
    """Recompute the roll-ups over `child` for every parent the touched records point to
    (before and after an update, so a re-parented record leaves its old parent too)."""
    links = {r.fdef.relationship_field for _, r in schema.rollups_over(child)}
    if links:
        refresh_parents(conn, schema, child, {
            link: {record.get(link) for record in touched} for link in links if link})


def refresh_all(conn: Connection, schema: RuntimeSchema, parent: CompiledObject,
                rollup: CompiledField) -> None:
    """Recompute one roll-up for every parent record (after it was added or redefined)."""
    _refresh(conn, schema, parent, rollup, None)


def _refresh(conn: Connection, schema: RuntimeSchema, parent: CompiledObject,
             rollup: CompiledField, ids: set[Any] | None) -> None:
    table = parent.table
    stmt = update(table).values(
        {rollup.name: summary_expression(schema, parent, rollup, table.c.id)})
    if ids is not None:
        stmt = stmt.where(table.c.id.in_(sorted(ids)))
    conn.execute(stmt)
    # A roll-up may itself be summarised one level up (e.g. line → quote → opportunity).
    upper = schema.rollups_over(parent.name)
    if not any(r.fdef.rollup_field == rollup.name for _, r in upper):
        return
    if ids is None:
        for grandparent, r in upper:
            refresh_all(conn, schema, grandparent, r)
        return
    for link in {r.fdef.relationship_field or "" for _, r in upper}:
        rows = conn.execute(select(table.c[link]).where(table.c.id.in_(sorted(ids))))
        refresh_parents(conn, schema, parent.name, {link: {row[0] for row in rows}})
