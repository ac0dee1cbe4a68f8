"""A template's `data/*.json` files: checked against the metadata they come with, loaded
through the record service, and written back from the database (`template export --with-data`).

Records name lookups by the target's name field (`"account": "Acme"`) and users by name;
`data/_users.json` holds the users (passwords only when a template ships demo users).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select

from metabiz.errors import MetabizError, ValidationError
from metabiz.objects import pools, records
from metabiz.objects.context import Context
from metabiz.objects.fields import json_value
from metabiz.objects.record_input import read_input
from metabiz.objects.schema import CompiledObject
from metabiz.platform.access import SYSTEM
from metabiz.platform.auth import create_user, user_names
from metabiz.platform.db import user_roles, users
from metabiz.platform.metadata.reserved import POOL_COLUMN

USERS_FILE = "_users.json"
#: why a record loaded into a pool was returned there: one of the pool's return reasons
POOL_REASON_KEY = "pool_reason"
#: the reason kept for a record loaded into a pool without one (pages translate it)
DEMO_DATA_NOTE = "demo data"
#: what a record of a data file may carry besides its object's fields
EXTRA_KEYS = ("owner", POOL_COLUMN, POOL_REASON_KEY)

Data = Mapping[str, Sequence[Mapping[str, Any]]]


@dataclass
class Loaded:
    users: list[str] = field(default_factory=list)
    records: dict[str, int] = field(default_factory=dict)
    #: the objects already held records, so no demo record was loaded
    skipped: bool = False


# -- checking ----------------------------------------------------------------------------


def problems(ctx: Context, data: Data, prefix: str = "") -> list[str]:
    """Every problem of the data files against the (new) metadata, as
    `data/<object>.json: /row/field: message`: unknown or computed fields (stale keys after
    a rename), values of the wrong type or format, missing required values. Lookups given
    by name are found only when the data is loaded."""
    found: list[str] = []
    for name, rows in sorted(data.items()):
        file = f"{prefix}data/{name}.json"
        obj = ctx.schema.objects.get(name)
        if obj is None:
            found.append(f"{file}: /: unknown object {name!r} (data/<object>.json holds "
                         "records of that object)")
            continue
        for index, raw in enumerate(rows):
            found.extend(f"{file}: /{index}{where}: {message}"
                         for where, message in _record_problems(ctx, obj, raw))
    return found


def _record_problems(ctx: Context, obj: CompiledObject,
                     raw: Mapping[str, Any]) -> list[tuple[str, str]]:
    if not isinstance(raw, Mapping):
        return [("", "a record must be a JSON object")]
    out: list[tuple[str, str]] = []
    plain: dict[str, Any] = {}
    renamed = {cf.fdef.renamed_from: cf.name for cf in obj.fields.values()
               if cf.fdef.renamed_from}
    for key, value in raw.items():
        cf = obj.fields.get(key)
        if key == POOL_COLUMN and value not in {p.api_name for p in obj.odef.pools}:
            out.append((f"/{key}", f"{obj.name} has no pool {value!r}"))
            continue
        if key == POOL_REASON_KEY:
            out.extend(_pool_reason_problems(obj, raw))
            continue
        if cf is None:
            if key not in EXTRA_KEYS:
                hint = f" (renamed to {renamed[key]!r})" if key in renamed else ""
                out.append((f"/{key}", f"{obj.name} has no field {key!r}{hint}"))
            continue
        if cf.fdef.target and isinstance(value, str):
            continue  # a record named by its name field: found when loading
        plain[key] = value
    _, errors = read_input(ctx, obj, plain, creating=True)
    out.extend((f"/{key}", "; ".join(messages)) for key, messages in sorted(errors.items()))
    for cf in obj.fields.values():
        if cf.fdef.required and cf.ftype.writable and cf.default is None \
                and raw.get(cf.name) in (None, "") and cf.name not in errors:
            out.append(("", f"required field {cf.name!r} has no value"))
    return out


def _pool_reason_problems(obj: CompiledObject,
                          raw: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A `pool_reason` goes with a `pool`; a pool with return reasons takes one of them."""
    where = f"/{POOL_REASON_KEY}"
    named = raw.get(POOL_COLUMN)
    pool = obj.odef.pool(named) if isinstance(named, str) else None
    if pool is None:
        return [(where, f"a {POOL_REASON_KEY} goes with a {POOL_COLUMN!r}")]
    reason = raw[POOL_REASON_KEY]
    if not isinstance(reason, str) or not reason.strip():
        return [(where, "not a text")]
    if pool.return_reasons and pool.reason(reason) is None:
        choices = ", ".join(r.value for r in pool.return_reasons)
        return [(where, f"not a return reason of {pool.api_name}: one of {choices}")]
    return []


# -- loading -----------------------------------------------------------------------------


def load_users(conn: Connection, rows: Sequence[Mapping[str, Any]], loaded: Loaded) -> None:
    """Create the users not there yet, managers first (so `manager` names an existing
    user); an exported user without a password gets a random one (reset it to sign in)."""
    existing = user_names(conn)
    pending = [u for u in rows if u["name"] not in existing]
    while pending:
        ready = [u for u in pending if not u.get("manager") or u["manager"] in existing
                 or u["manager"] == u["name"]]
        if not ready:
            ready = pending[:1]
        for user in ready:
            create_user(conn, user["name"], user.get("password") or _random_password(),
                        roles=user.get("roles", ()),
                        manager=user.get("manager") if user.get("manager") in existing
                        else None, email=user.get("email"),
                        display_name=user.get("display_name"),
                        language=user.get("language", "en"))
            existing.add(user["name"])
            loaded.users.append(user["name"])
            pending.remove(user)


def _random_password() -> str:
    return secrets.token_urlsafe(24)


def load_records(ctx: Context, data: Data, loaded: Loaded) -> None:
    """Create the records (targets before the records naming them), all or nothing; a
    problem names the file and row. Objects that hold records already get none."""
    schema = ctx.schema
    if any(ctx.conn.execute(select(func.count()).select_from(schema.object(n).table)).scalar()
           for n in data):
        loaded.skipped = True
        return
    for name in _dependency_order(ctx, data):
        obj = schema.object(name)
        for index, raw in enumerate(data[name]):
            values = {}
            pool = raw.get(POOL_COLUMN)  # a record loaded straight into a public pool
            for key, value in raw.items():
                if key in (POOL_COLUMN, POOL_REASON_KEY):
                    continue
                cf = obj.fields.get(key)
                if cf is not None and cf.fdef.target and isinstance(value, str):
                    value = _find_by_name(ctx, cf.fdef.target, value,
                                          f"data/{name}.json: /{index}/{key}")
                values[key] = value
            try:
                created = records.create(ctx, name, values)
                if pool is not None:
                    pools.return_to_pool(ctx, name, created["id"], pool=pool,
                                         reason=raw.get(POOL_REASON_KEY),
                                         automation=DEMO_DATA_NOTE)
            except MetabizError as err:
                detail = "; ".join(f"{k}: {', '.join(v)}" for k, v in err.fields.items())
                raise ValidationError(
                    f"data/{name}.json: /{index}: {err.message}"
                    + (f" ({detail})" if detail else ""), fields=err.fields) from None
        loaded.records[name] = loaded.records.get(name, 0) + len(data[name])


def _dependency_order(ctx: Context, data: Data) -> list[str]:
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in order or name in visiting or name not in data:
            return
        visiting.add(name)
        for cf in ctx.schema.object(name).fields.values():
            if cf.fdef.target and cf.fdef.target != name:
                visit(cf.fdef.target)
        visiting.discard(name)
        order.append(name)

    for name in sorted(data):
        visit(name)
    return order


def _find_by_name(ctx: Context, target: str, value: str, where: str) -> int:
    """The id of the target record whose name field (stored or formula) is `value`."""
    obj = ctx.schema.object(target)
    name_field = obj.odef.name_field
    if not name_field or name_field not in obj.fields:
        raise ValidationError(f"{where}: {target} has no name field to look up {value!r}")
    name = ctx.schema.sql_columns(target)((name_field,))
    found = ctx.conn.execute(select(obj.table.c.id).where(name == value)
                             .order_by(obj.table.c.id)).scalar()
    if found is None:
        raise ValidationError(f"{where}: no {target} named {value!r}")
    return int(found)


# -- exporting ---------------------------------------------------------------------------


def export_records(ctx: Context, objects: Sequence[str], folder: Path) -> list[Path]:
    """Every record of `objects` as `data/<object>.json`, in the form loading reads: stored
    writable fields (lookups by the target's name when it has one, else the id), owner."""
    written = []
    for name in objects:
        obj = ctx.schema.object(name)
        rows = ctx.conn.execute(select(obj.table).order_by(obj.table.c.id)).mappings().all()
        if not rows:
            continue
        out = []
        for row in rows:
            values = obj.decode(row)
            record: dict[str, Any] = {}
            for cf in obj.fields.values():
                value = values.get(cf.name)
                if not cf.ftype.writable or value is None:
                    continue
                if cf.fdef.target and cf.fdef.type != "user":
                    value = _name_of(ctx, cf.fdef.target, value)
                else:
                    value = cf.ftype.to_json(cf.fdef, value)
                record[cf.name] = value
            if values.get("owner") and values["owner"] != SYSTEM.name:
                record["owner"] = values["owner"]  # the system's records stay the system's
            out.append(record)
        target = folder / "data" / f"{name}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n",
                          encoding="utf-8")
        written.append(target)
    return written


def _name_of(ctx: Context, target: str, record_id: Any) -> Any:
    obj = ctx.schema.object(target)
    name_field = obj.odef.name_field
    if not name_field or obj.fields[name_field].formula is not None:
        return record_id
    found = ctx.conn.execute(select(obj.table.c[name_field]).where(
        obj.table.c.id == record_id)).scalar()
    return json_value(found) if found is not None else record_id


def export_users(conn: Connection, folder: Path) -> Path:
    """Every user without their password, as `data/_users.json`."""
    roles: dict[str, list[str]] = {}
    for user, role in conn.execute(select(user_roles.c.user_name, user_roles.c.role)
                                   .order_by(user_roles.c.role)):
        roles.setdefault(user, []).append(role)
    out = []
    for row in conn.execute(select(users).where(users.c.name != SYSTEM.name)
                            .order_by(users.c.id)).mappings():
        entry: dict[str, Any] = {"name": row["name"], "roles": roles.get(row["name"], [])}
        for key in ("display_name", "email", "manager", "language"):
            if row.get(key) and not (key == "display_name" and row[key] == row["name"]):
                entry[key] = row[key]
        out.append(entry)
    target = folder / "data" / USERS_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return target
