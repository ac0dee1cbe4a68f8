"""Exporting records as CSV or XLSX: what the import reads back (round trip gives the same
records), only the records and fields the user may read, with the role's `export` right.

Lookups are written as the target's name, users by name, picklists by value (or label with
`headers="labels"`); formula values are included and left out again by an import. Files and
images are written as links to their download (absolute when the export knows the site's address).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from sqlalchemy import select

from metabiz.errors import BadRequest, NotFound, PermissionDenied
from metabiz.objects import query
from metabiz.objects.context import Context
from metabiz.objects.fields.file import StoredFile
from metabiz.objects.forms import lookup_names, picklist_label
from metabiz.objects.records import Resolver, compute
from metabiz.objects.schema import CompiledObject
from metabiz.spreadsheets.columns import SYSTEM_COLUMNS
from metabiz.spreadsheets.sheets import FORMATS, Link, write_csv, write_xlsx

_CHUNK = 1000
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@dataclass(frozen=True)
class ExportRequest:
    format: str = "csv"
    filter: str | None = None
    fields: str | None = None  # "a,b": these columns, in this order
    view: str | None = None  # a list view: its filter, columns and sort
    q: str | None = None
    sort: str | None = None
    headers: str = "api"  # api (api_names) or labels (in the user's language)
    #: the site's address (`https://crm.example.com/`): file links start with it
    base_url: str = ""


def check_format(fmt: str | None) -> str:
    chosen = (fmt or "csv").lower().lstrip(".")
    if chosen not in FORMATS:
        raise BadRequest(f"format must be csv or xlsx, not {fmt!r}",
                         fields={"format": ["csv or xlsx"]})
    return chosen


def export(ctx: Context, object_name: str, request: ExportRequest, out: IO[bytes]) -> int:
    """Write the records as `request.format` to `out`; how many records were written."""
    obj = ctx.schema.object(object_name)
    access = ctx.schema.access
    access.require(ctx.actor, obj.name, "read")
    if not access.allowed(ctx.actor, obj.name, "export"):
        raise PermissionDenied(f"your role may not export {obj.name} records")
    fmt = check_format(request.format)
    if request.headers not in ("api", "labels"):
        raise BadRequest("headers must be api or labels", fields={"headers": ["api or labels"]})
    names, conditions, sort = _plan(ctx, obj, request)
    header = [_header(obj, name, request.headers, ctx.language) for name in names]
    written = [0]

    def rows() -> Iterator[list[Any]]:
        for values in _records(ctx, obj, conditions, sort, names):
            written[0] += 1
            yield [_cell(ctx, obj, name, values.get(name), request) for name in names]

    if fmt == "csv":
        write_csv(out, header, rows())
    else:
        write_xlsx(out, header, rows(), title=obj.odef.label.get(ctx.language))
    return written[0]


def _plan(ctx: Context, obj: CompiledObject,
          request: ExportRequest) -> tuple[list[str], list[Any], str | None]:
    access = ctx.schema.access
    hidden = access.hidden_fields(ctx.actor, obj.name, obj.fields)
    view = None
    if request.view:
        view = obj.odef.list_view(request.view)
        if view is None:
            raise NotFound(f"{obj.name} has no list view named {request.view!r}")
    if request.fields:
        names = [n.strip() for n in request.fields.split(",") if n.strip()]
        unknown = [n for n in names if n not in obj.fields and n not in SYSTEM_COLUMNS]
        if unknown:
            raise BadRequest("unknown fields: " + ", ".join(unknown),
                             fields={"fields": [f"unknown field {n!r}" for n in unknown]})
        refused = sorted(set(names) & hidden)
        if refused:
            raise PermissionDenied("hidden for your role: " + ", ".join(refused),
                                   fields={n: ["hidden for your role"] for n in refused})
    elif view is not None and view.columns:
        names = ["id", *(n for n in view.columns if n in obj.fields and n not in hidden)]
    else:
        names = ["id", *(n for n in obj.fields if n not in hidden), "owner"]
    names = list(dict.fromkeys(names))
    conditions = query.scope(ctx, obj)
    formulas = [f"({view.filter})"] if view is not None and view.filter else []
    if request.filter:
        formulas.append(f"({request.filter})")
    if formulas:
        conditions.append(query.compile_filter(ctx, obj, " && ".join(formulas)))
    if request.q and request.q.strip():
        conditions.append(query.search(ctx.conn, obj, request.q.strip(), hidden))
    sort = request.sort or (view.sort if view is not None else None)
    return names, conditions, sort


def _records(ctx: Context, obj: CompiledObject, conditions: list[Any], sort: str | None,
             names: list[str]) -> Iterator[dict[str, Any]]:
    """The records in order, computed values filled in, lookup names looked up per chunk."""
    statement = select(obj.table).where(*conditions).order_by(
        *query.order_by(ctx, obj, sort or "id"))
    resolver = Resolver(ctx)
    lookups = [n for n in names if n in obj.fields and
               obj.fields[n].fdef.type in ("lookup", "master_detail")]
    result = ctx.conn.execution_options(yield_per=_CHUNK).execute(statement).mappings()
    for chunk in result.partitions(_CHUNK):
        batch = [compute(ctx, obj, obj.decode(row), resolver) for row in chunk]
        wanted: dict[str, set[Any]] = {}
        for name in lookups:
            wanted.setdefault(str(obj.fields[name].fdef.target), set()).update(
                r[name] for r in batch if r.get(name) is not None)
        found = lookup_names(ctx, wanted) if wanted else {}
        for values in batch:
            for name in lookups:
                value = values.get(name)
                if value is not None:
                    values[name] = found.get((str(obj.fields[name].fdef.target), value), value)
            yield values


def _header(obj: CompiledObject, name: str, mode: str, lang: str) -> str:
    if mode == "api":
        return name
    if name in obj.fields:
        return obj.fields[name].fdef.label.get(lang)
    english, chinese = SYSTEM_COLUMNS[name]
    return chinese if lang == "zh" else english


def _cell(ctx: Context, obj: CompiledObject, name: str, value: Any,
          request: ExportRequest) -> Any:
    """A value as the sheet shows it (and an import reads it back)."""
    if value is None:
        return None
    mode = request.headers
    if isinstance(value, StoredFile):  # the download, which asks for the record's access
        return Link(request.base_url.rstrip("/") + value.url)
    cf = obj.fields.get(name)
    if cf is None:  # system columns
        return value
    kind = cf.fdef.type
    if kind == "picklist" and mode == "labels":
        return picklist_label(cf, value, ctx.language)
    if kind == "multi_picklist":
        return ";".join(picklist_label(cf, v, ctx.language) if mode == "labels" else v
                        for v in value)
    if kind in ("lookup", "master_detail") and isinstance(value, int):
        return value  # no readable name: the id, which an import also reads
    if isinstance(value, dt.datetime | dt.date | bool | int | str) or value is None:
        return value
    json = cf.ftype.to_json(cf.fdef, value)
    if isinstance(json, dict | list):
        return str(json.get("url") or json.get("name") or "") if isinstance(json, dict) \
            else ";".join(str(v) for v in json)
    return value if hasattr(value, "as_tuple") else json
