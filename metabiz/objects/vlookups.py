"""VLOOKUP's reads: the record of an object found by a key field, as the actor may read it.

A user's formulas see through VLOOKUP only what that user could read themselves: records of
objects their roles may read, within their record scope, and fields not hidden from them
(anything else reads as blank). The same rule runs in Python (`find`) and in SQL
(`readable_rows`, for filters and sorts), so a list filters on the values it shows.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, case, false, select, true
from sqlalchemy.sql.elements import ColumnElement

from metabiz.formulas import FType
from metabiz.formulas.functions import sql_support
from metabiz.formulas.values import as_text, ms_of_time
from metabiz.objects.schema import ColumnResolver, CompiledObject, RowReader, RuntimeSchema
from metabiz.platform.access import Actor


def readable_rows(schema: RuntimeSchema, actor: Actor) -> RowReader:
    """The rows of an object `actor` may read, as a resolver over a fresh alias of them:
    none without the read right, the actor's record scope, hidden fields as blank."""
    access = schema.access

    def rows(target: CompiledObject) -> ColumnResolver:
        table = target.table
        source: Any
        if not access.allowed(actor, target.name, "read"):
            source = select(table).where(false()).subquery()
        else:
            readable = access.record_filter(actor, target.name, table)
            source = table.alias() if readable is None else \
                select(table).where(readable).subquery()
        columns = schema.sql_columns(target.name, source, rows=rows)
        hidden = access.hidden_fields(actor, target.name, target.fields)

        def resolve(path: tuple[str, ...]) -> ColumnElement[Any]:
            column = columns(path)
            if path[0] in hidden:  # blank, typed like the column (PostgreSQL needs a type)
                return case((false(), column))
            return column

        return resolve

    return rows


def find(conn: Connection, schema: RuntimeSchema, actor: Actor, object_name: str,
         key_field: str, key: Any) -> int | None:
    """The id of the record of `object_name` whose `key_field` equals `key` (as `=` compares
    in formulas), the lowest among several, among those `actor` may read; None when none."""
    target = schema.object(object_name)
    spec = schema.catalog.field(object_name, key_field)
    if spec is None:
        return None
    columns = readable_rows(schema, actor)(target)
    dialect = schema.dialect
    held = sql_support.field_value(columns((key_field,)), spec.type, dialect)
    query = select(columns(("id",))).where(held == _literal(key, spec.type, dialect)) \
        .order_by(columns(("id",))).limit(1)
    found = conn.execute(query).scalar()
    return None if found is None else int(found)


def _literal(value: Any, ftype: FType, dialect: str) -> Any:
    """A formula value as the SQL back end holds a value of `ftype`."""
    if ftype is FType.NUMBER and isinstance(value, Decimal):
        return sql_support.number_literal(value, dialect)
    if ftype is FType.BOOLEAN:
        return true() if value else false()
    if ftype is FType.DATETIME and isinstance(value, dt.datetime):
        return sql_support.datetime_literal(value, dialect)
    if ftype is FType.DATE and isinstance(value, dt.date):
        return sql_support.date_literal(value, dialect)
    if ftype is FType.TIME and isinstance(value, dt.time):
        return sql_support.number_literal(Decimal(ms_of_time(value)), dialect)
    return sql_support.text_literal(as_text(value) or "")
