"""Listing records: formula filters and sorts compiled to SQL, search, paging, record scope.

A filter or sort that cannot run in the database is refused (400), never evaluated row
by row; the records a role may not see are never selected.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, and_, bindparam, func, select
from sqlalchemy.sql.elements import ColumnElement

from metabiz.errors import BadRequest, FormulaError, PermissionDenied
from metabiz.formulas import SQLITE_LIST_HEADROOM, FType, check
from metabiz.objects import record_scope, search_index
from metabiz.objects.context import Context
from metabiz.objects.readers import Wanted, reader
from metabiz.objects.records import SYSTEM_OUTPUT, Resolver, compute
from metabiz.objects.schema import CompiledObject
from metabiz.objects.vlookups import readable_rows
from metabiz.platform.request_input import int_param

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000


@dataclass(frozen=True)
class Page:
    records: list[dict[str, Any]]
    total: int


def list_records(ctx: Context, object_name: str, *, filter: str | None = None,
                 sort: str | None = None, limit: Any = None, offset: Any = None,
                 fields: str | None = None, q: str | None = None,
                 rich: bool = False, shown: Wanted | None = None) -> Page:
    """One page of the records the actor may see, as JSON (`rich` as for
    `records.serialise`), with the total count. `shown`: only those values, as a page shows
    them (readers.Wanted), instead of `fields` and `rich`."""
    obj = ctx.schema.object(object_name)
    ctx.schema.access.require(ctx.actor, obj.name, "read")
    limit_n = int_param("limit", limit, DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset_n = int_param("offset", offset, 0, 0, None)
    wanted = _fields(ctx, obj, fields)
    conditions = scope(ctx, obj)
    if filter:
        conditions.append(compile_filter(ctx, obj, filter))
    if q and q.strip():
        hidden = ctx.schema.access.hidden_fields(ctx.actor, obj.name, obj.fields)
        conditions.append(search(ctx.conn, obj, q.strip(), hidden))
    plan = reader(ctx.schema, obj, ctx.actor)
    read = plan.shown(shown) if shown is not None else None
    query, page = _page_query(ctx, obj, conditions, sort, limit_n, offset_n,
                              None if read is None else read.columns)  # type: ignore[attr-defined]
    rows = ctx.conn.execute(query, page)
    resolver = Resolver(ctx) if obj.formula_order else None
    if read is not None:
        formulas = (lambda values: compute(ctx, obj, values, resolver)) \
            if read.computes else None  # type: ignore[attr-defined]
        records = [read(row, formulas) for row in rows]
    elif rich:
        records = [plan.to_json(compute(ctx, obj, plan.decode(row), resolver), rich=True)
                   for row in rows]
    else:
        formulas = (lambda values: compute(ctx, obj, values, resolver)) \
            if obj.formula_order else None
        records = [plan.read(row, formulas) for row in rows]
    if wanted is not None and shown is None:
        records = [{k: v for k, v in out.items() if k in wanted} for out in records]
    return Page(records, _total(ctx, obj, conditions, offset_n, limit_n, len(records)))


#: how many page statements a metadata version keeps (one per object and sort asked for)
PAGE_QUERIES = 256


def _page_query(ctx: Context, obj: CompiledObject, conditions: list[ColumnElement[bool]],
                sort: str | None, limit: int, offset: int,
                columns: tuple[str, ...] | None = None) -> tuple[Select[Any], dict[str, int]]:
    """The page's SELECT (of every column, or of `columns`) and its parameters. Without
    conditions (an actor who may read every record, no filter, no search) and sorted by
    stored columns, it is the same for everyone: built once per metadata version, object,
    sort and columns (limit and offset bound), the sort checked once per set of roles."""
    plain = not conditions and all(
        raw.strip().lstrip("-+") in obj.table.c for raw in (sort or "").split(",") if raw.strip())
    selected = [obj.table] if columns is None else [obj.table.c[name] for name in columns]
    if not plain:
        return select(*selected).where(*conditions).order_by(*order_by(ctx, obj, sort)) \
            .limit(limit).offset(offset), {}
    # a sort by stored columns is refused for a set of roles (a hidden field) or never
    allowed: set[tuple[Any, ...]] = ctx.schema.compiled.setdefault("sorts_allowed", set())
    checked = (obj.name, sort or "", ctx.actor.roles, ctx.actor.is_system)
    keys = None
    if checked not in allowed:
        keys = order_by(ctx, obj, sort)
        if len(allowed) >= PAGE_QUERIES:
            allowed.clear()
        allowed.add(checked)
    cache: dict[tuple[str, str, tuple[str, ...] | None], Select[Any]] = \
        ctx.schema.compiled.setdefault("pages", {})
    key = (obj.name, sort or "", columns)
    query = cache.get(key)
    if query is None:
        if len(cache) >= PAGE_QUERIES:
            cache.clear()
        query = cache[key] = select(*selected).order_by(*(keys or order_by(ctx, obj, sort))) \
            .limit(bindparam("page_limit")).offset(bindparam("page_offset"))
    return query, {"page_limit": limit, "page_offset": offset}


def _total(ctx: Context, obj: CompiledObject, conditions: list[ColumnElement[bool]],
           offset: int, limit: int, found: int) -> int:
    """The exact count of matching records: a page that is neither full nor past the end
    tells it (offset + rows); only a full or empty page costs a count query (built once
    per metadata version and object when there are no conditions)."""
    if 0 < found < limit or (found == 0 and offset == 0):
        return offset + found
    if conditions:
        query = select(func.count()).select_from(obj.table).where(*conditions)
        return int(ctx.conn.execute(query).scalar_one())
    # the same SQL for everyone: sent as text, without SQLAlchemy's compiling and caching
    counts: dict[tuple[str, str], str] = ctx.schema.compiled.setdefault("counts", {})
    key = (obj.name, ctx.conn.dialect.name)
    sql = counts.get(key)
    if sql is None:
        sql = counts[key] = str(select(func.count()).select_from(obj.table)
                                .compile(dialect=ctx.conn.dialect))
    return int(ctx.conn.exec_driver_sql(sql).scalar_one())


def scope(ctx: Context, obj: CompiledObject) -> list[ColumnElement[bool]]:
    """The WHERE conditions limiting a query to the records the actor may see."""
    return record_scope.conditions(ctx.schema, ctx.actor, obj)


def compile_filter(ctx: Context, obj: CompiledObject, source: str, *,
                   sqlite_headroom: int = SQLITE_LIST_HEADROOM) -> ColumnElement[bool]:
    """A filter formula as SQL; a 400 naming line and column when it does not check.
    `sqlite_headroom`: what the statement around it takes (a list's by default)."""
    try:
        checked = _checked_filter(ctx, obj, source)
        ctx.schema.access.refuse_hidden(ctx.actor, obj.name,
                                        ctx.schema._dependencies(obj.name, checked))
        return ctx.schema.formula_sql(checked, obj.name, now=ctx.now,
                                      rows=readable_rows(ctx.schema, ctx.actor),
                                      sqlite_headroom=sqlite_headroom)
    except FormulaError as err:
        raise BadRequest.from_formula("filter", err) from None


#: how many checked filters a metadata version keeps (list views and drill-downs repeat)
CHECKED_FILTERS = 512


def _checked_filter(ctx: Context, obj: CompiledObject, source: str) -> Any:
    """The filter parsed and type-checked once per metadata version (parsing is the dear
    part; who may read what is still checked on every use)."""
    cache: dict[tuple[str, str], Any] = ctx.schema.compiled.setdefault("filters", {})
    key = (obj.name, source)
    checked = cache.get(key)
    if checked is None:
        checked = check(source, ctx.schema.catalog, obj.name, context="filter",
                        expected=FType.BOOLEAN)
        if len(cache) >= CHECKED_FILTERS:
            cache.clear()
        cache[key] = checked
    return checked


def order_by(ctx: Context, obj: CompiledObject, sort: str | None) -> list[Any]:
    """`-amount,name` → ORDER BY; formula fields sort in SQL; the id breaks ties."""
    keys: list[Any] = []
    resolve = ctx.schema.sql_columns(obj.name, rows=readable_rows(ctx.schema, ctx.actor),
                                     sqlite_headroom=SQLITE_LIST_HEADROOM)
    for raw in (sort or "").split(","):
        raw = raw.strip()
        if not raw:
            continue
        descending = raw.startswith("-")
        name = raw.lstrip("-+")
        if name not in obj.fields and name not in SYSTEM_OUTPUT:
            raise BadRequest(f"cannot sort by {name!r}: no such field on {obj.name}",
                             fields={"sort": [f"unknown field {name!r}"]})
        _refuse_hidden(ctx, obj, {name})
        cf = obj.fields.get(name)
        if cf is not None and cf.formula is None and not cf.ftype.stored:
            raise BadRequest(f"cannot sort by {name!r}", fields={"sort": [f"{name} is not sortable"]})
        try:
            column = resolve((name,))
        except FormulaError as err:
            raise BadRequest.from_formula("sort", err) from None
        keys.append(column.desc() if descending else column.asc())
    keys.append(obj.table.c.id.desc() if not keys else obj.table.c.id.asc())
    return keys


def search(conn: Connection, obj: CompiledObject, text: str,
           hidden: Collection[str] = ()) -> ColumnElement[bool]:
    """Case-insensitive substring search of the whole text in any searchable stored field
    not `hidden` (a phone field also by its digits), through the search index where it
    can help: SQLite's FTS5 trigram table, PostgreSQL's trigram indexes."""
    fields = [cf.name for cf in obj.fields.values()
              if cf.ftype.searchable and cf.ftype.stored and cf.name not in hidden]
    if not fields:
        return obj.table.c.id.is_(None)
    return and_(*search_index.matching(conn, obj, fields, [text]))


def _refuse_hidden(ctx: Context, obj: CompiledObject, names: set[str]) -> None:
    hidden = ctx.schema.access.hidden_fields(ctx.actor, obj.name, names)
    if hidden:
        raise PermissionDenied("hidden for your role: " + ", ".join(sorted(hidden)),
                               fields={n: ["hidden for your role"] for n in hidden})


def _fields(ctx: Context, obj: CompiledObject, fields: str | None) -> set[str] | None:
    if not fields:
        return None
    names = {f.strip() for f in fields.split(",") if f.strip()}
    system = (*SYSTEM_OUTPUT, "pool") if obj.odef.pools else SYSTEM_OUTPUT
    unknown = sorted(n for n in names if n not in obj.fields and n not in system)
    if unknown:
        raise BadRequest("unknown fields: " + ", ".join(unknown),
                         fields={"fields": [f"unknown field {n!r}" for n in unknown]})
    return names | {"id"}
