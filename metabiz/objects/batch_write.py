"""The record service's batch path for creating records: per-object plans and the insert.

A `WritePlan` is what creating records of one object needs, worked out once per metadata
version (field loaders, defaults, columns); `insert_rows` writes a batch and returns its ids
in input order (one executemany, without a statement per row or a sentinel to order by).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Insert, Table, func, insert, select

from metabiz.objects.context import Context
from metabiz.objects.fields.base import NOT_PLAIN, FieldType
from metabiz.objects.fields.number import PRECISION, Number
from metabiz.objects.fields.picklist import Picklist
from metabiz.objects.fields.text import Text
from metabiz.objects.schema import CompiledField, CompiledObject, RuntimeSchema

#: a field's input value → its normalised Python value, or NOT_PLAIN when the value needs the
#: general reading (record_input.read_input, which also words every error)
Loader = Callable[[Any], Any]


@dataclass(frozen=True)
class WritePlan:
    """How records of one object are created by one actor (see module docstring)."""

    #: every field, blank: the start of a new record
    blank: dict[str, Any]
    #: the fields the actor may set, each with its loader
    loaders: dict[str, Loader]
    #: fields with a default formula (applied when the input leaves them out)
    defaulted: frozenset[str]
    #: (field, to_db or None when the value is stored as it is) of every stored field
    columns: tuple[tuple[str, Callable[[Any], Any] | None], ...]


#: the plans of each schema version, by object and the fields the actor may not set
_PLANS: weakref.WeakKeyDictionary[RuntimeSchema, dict[tuple[str, frozenset[str]], WritePlan]] \
    = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def plan_for(ctx: Context, obj: CompiledObject, refusals: dict[str, str]) -> WritePlan:
    """The plan of `obj` for an actor with these refusals, made once per metadata version."""
    key = (obj.name, frozenset(refusals))
    plans = _PLANS.get(ctx.schema)
    plan = None if plans is None else plans.get(key)
    if plan is None:
        plan = WritePlan(
            blank=dict.fromkeys(obj.fields),
            loaders={name: _loader(cf) for name, cf in obj.fields.items()
                     if name not in refusals},
            defaulted=frozenset(cf.name for cf in obj.fields.values() if cf.default),
            columns=tuple((cf.name, _to_db(cf)) for cf in obj.stored_fields()))
        with _LOCK:
            _PLANS.setdefault(ctx.schema, {})[key] = plan
    return plan


def read_plain(plan: WritePlan, data: Any) -> dict[str, Any] | None:
    """The values of a plainly well-formed input object (only fields the actor may set,
    each value plain); None when anything needs the general reading."""
    if type(data) is not dict:
        return None
    loaders = plan.loaders
    values: dict[str, Any] = {}
    for key, value in data.items():
        loader = loaders.get(key)
        if loader is None:
            return None
        loaded = loader(value)
        if loaded is NOT_PLAIN:
            return None
        values[key] = loaded
    return values


def _overrides(ftype: FieldType, method: str, base: type) -> bool:
    return getattr(type(ftype), method) is not getattr(base, method)


def _loader(cf: CompiledField) -> Loader:
    """quick_load then normalise, specialised for the commonest types (same results)."""
    ftype, fdef = cf.ftype, cf.fdef
    if isinstance(ftype, Number) and not _overrides(ftype, "quick_load", Number) \
            and not _overrides(ftype, "normalise", Number):
        return _number_loader(ftype, cf)
    if type(ftype) is Text:
        return _text_loader(fdef.max_length or 255)
    if type(ftype) is Picklist:
        return _choice_loader(frozenset(fdef.picklist_values()))
    quick_load, normalise = ftype.quick_load, ftype.normalise

    def load(value: Any) -> Any:
        loaded = quick_load(fdef, value)
        return loaded if loaded is NOT_PLAIN else normalise(fdef, loaded)
    return load


def _number_loader(ftype: Number, cf: CompiledField) -> Loader:
    """Number.quick_load + Number.normalise with the field's bounds worked out once."""
    fdef = cf.fdef
    scale = ftype.scale(fdef)
    digits = PRECISION - scale
    quantum = Decimal(1).scaleb(-scale)
    low = None if fdef.min is None else Decimal(str(fdef.min))
    high = None if fdef.max is None else Decimal(str(fdef.max))

    def load(value: Any) -> Any:
        if value is None:
            return None
        kind = type(value)
        if kind is Decimal:  # as marshmallow's Decimal field takes it (imports give these)
            number = value
        elif kind is str or kind is int or kind is float:
            try:
                number = Decimal(value if kind is not float else str(value))
            except InvalidOperation:
                return NOT_PLAIN
        else:
            return NOT_PLAIN
        if not number.is_finite() or (number and number.adjusted() >= digits) \
                or (low is not None and number < low) or (high is not None and number > high):
            return NOT_PLAIN
        return number.quantize(quantum, rounding=ROUND_HALF_UP)
    return load


def _text_loader(longest: int) -> Loader:
    """Text.quick_load + Text.normalise."""
    def load(value: Any) -> Any:
        if value is None:
            return None
        if type(value) is str and len(value) <= longest:
            return value if value.strip() else None  # blank_text
        return NOT_PLAIN
    return load


def _choice_loader(choices: frozenset[str]) -> Loader:
    """Picklist.quick_load + Picklist.normalise."""
    def load(value: Any) -> Any:
        if value is None:
            return None
        if type(value) is str and value in choices:
            return value if value.strip() else None  # blank_text
        return NOT_PLAIN
    return load


def _to_db(cf: CompiledField) -> Callable[[Any], Any] | None:
    if not _overrides(cf.ftype, "to_db", FieldType):
        return None
    to_db, fdef = cf.ftype.to_db, cf.fdef
    return lambda value: to_db(fdef, value)


def db_rows(plan: WritePlan, records: list[dict[str, Any]],
            system: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows to insert: every stored field in its stored form, the system columns and
    each record's own owner (hooks may have set it)."""
    plain = [name for name, to_db in plan.columns if to_db is None]
    converted = [(name, to_db) for name, to_db in plan.columns if to_db is not None]
    rows = []
    for record in records:
        row = {name: record[name] for name in plain}
        for name, to_db in converted:
            row[name] = to_db(record[name])
        row.update(system)
        row["owner"] = record["owner"]
        rows.append(row)
    return rows


def insert_one(ctx: Context, obj: CompiledObject, row: dict[str, Any]) -> int:
    """Insert one row and return its id: SQLite's last row id, PostgreSQL's RETURNING id
    (the statement is built once per table)."""
    statement = _SINGLE_INSERTS.get(obj.table)
    if statement is None:
        statement = _SINGLE_INSERTS[obj.table] = insert(obj.table)
    key = ctx.conn.execute(statement, row).inserted_primary_key
    assert key is not None
    return int(key[0])


#: each record table's one-row INSERT (tables belong to one metadata version each)
_SINGLE_INSERTS: weakref.WeakKeyDictionary[Table, Insert] = weakref.WeakKeyDictionary()


def insert_rows(ctx: Context, obj: CompiledObject, rows: list[dict[str, Any]]) -> list[int]:
    """Insert rows (one statement, batched by the driver) and return their ids in order."""
    if len(rows) > 1 and ctx.conn.dialect.name == "sqlite":
        return _insert_sqlite(ctx, obj, rows)
    if len(rows) > 1 and ctx.conn.dialect.name == "postgresql":
        sequence = _id_sequence(ctx, obj)
        if sequence is not None:
            return _insert_postgresql(ctx, obj, rows, sequence)
    statement = insert(obj.table).returning(obj.table.c.id, sort_by_parameter_order=True)
    return [int(i) for i in ctx.conn.execute(statement, rows).scalars()]


def _insert_sqlite(ctx: Context, obj: CompiledObject, rows: list[dict[str, Any]]) -> list[int]:
    """SQLite: one executemany without RETURNING (with RETURNING, SQLite runs a statement
    per row), then the new ids: the rows above the largest id before the insert.

    Why those are exactly this insert's rows, in input order: record tables are
    AUTOINCREMENT, so each new id is larger than every id the table ever had; and nobody else
    writes in between, as SQLite lets one writer at a time: this transaction holds the write
    lock from its first write to its end (metabiz's writers take it at BEGIN), and a
    connection whose snapshot is older than another's commit cannot take it at all."""
    column = obj.table.c.id
    before = ctx.conn.execute(select(func.max(column))).scalar() or 0
    ctx.conn.execute(insert(obj.table), rows)
    count, first, last = ctx.conn.execute(
        select(func.count(), func.min(column), func.max(column)).where(column > before)).one()
    if count != len(rows):  # cannot happen (see above); never hand out wrong ids
        raise RuntimeError(f"{obj.name}: inserted {len(rows)} rows but found {count}")
    if last - first == count - 1:  # the usual case: consecutive ids
        return list(range(first, last + 1))
    return [int(i) for i in ctx.conn.execute(
        select(column).where(column > before).order_by(column)).scalars()]


def _id_sequence(ctx: Context, obj: CompiledObject) -> str | None:
    """The sequence behind the table's id column (PostgreSQL), looked up once per unit of work."""
    key = ("id_sequence", obj.table.name)
    if key not in ctx.cache:
        ctx.cache[key] = ctx.conn.execute(
            select(func.pg_get_serial_sequence(obj.table.name, "id"))).scalar()
    return ctx.cache[key]  # type: ignore[no-any-return]


def _insert_postgresql(ctx: Context, obj: CompiledObject, rows: list[dict[str, Any]],
                       sequence: str) -> list[int]:
    """PostgreSQL: the ids drawn from the id sequence in one query, then one executemany
    (psycopg pipelines it) instead of INSERT … RETURNING ordered by a sentinel, which costs
    PostgreSQL a large statement to plan per batch. Drawn ids are never handed out again;
    sorted, they keep the input order."""
    ids = sorted(int(i) for i in ctx.conn.execute(
        select(func.nextval(sequence)).select_from(func.generate_series(1, len(rows))))
        .scalars())
    for row, record_id in zip(rows, ids, strict=True):
        row["id"] = record_id
    ctx.conn.execute(insert(obj.table), rows)
    return ids
