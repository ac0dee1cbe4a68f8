"""A write's JSON input, deserialised: the "deserialise and validate" stage of the record service.

Unknown, computed, system and role-protected keys are refused; each value goes through its
field type's marshmallow field and is normalised; an owner must name an active user.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import marshmallow
from sqlalchemy import Connection, select

from metabiz.errors import PermissionDenied, ValidationError
from metabiz.objects.context import Context
from metabiz.objects.fields.base import NOT_PLAIN
from metabiz.objects.schema import SYSTEM_COLUMN_NAMES, CompiledObject
from metabiz.platform.db import users
from metabiz.platform.request_input import whole_number


def deserialise(ctx: Context, obj: CompiledObject, data: dict[str, Any], *,
                creating: bool) -> dict[str, Any]:
    """Deserialise JSON input: unknown, read-only and forbidden fields, types, formats."""
    values, errors = read_input(ctx, obj, data, creating=creating)
    if errors:
        raise ValidationError(f"invalid {obj.name} record", fields=errors)
    return values


def read_input(ctx: Context, obj: CompiledObject, data: dict[str, Any], *,
               creating: bool) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The values that read well and the errors of those that did not, so that the record
    service can go on to the validation rules that do not read a bad field (one 422 lists
    every problem). A forbidden field is a 403 at once."""
    errors: dict[str, list[str]] = {}
    forbidden: dict[str, list[str]] = {}
    payload: dict[str, Any] = {}
    owner = data.get("owner")
    refusals = field_refusals(ctx, obj)
    for key, value in data.items():
        if key == "owner" or (key == "id" and not creating):
            continue  # the owner is checked below; a PATCH may carry the record's own id
        refusal = refusals.get(key) if key in obj.fields else (
            f"{key} is set by the system" if key in SYSTEM_COLUMN_NAMES else "unknown field")
        if refusal is None:
            payload[key] = value
        elif refusal.endswith("for your role"):
            forbidden[key] = [refusal]
        else:
            errors[key] = [refusal]
    if forbidden:
        raise PermissionDenied("you may not set " + ", ".join(sorted(forbidden)),
                               fields=forbidden)
    # Each value through its marshmallow field (the schema's own load adds nothing here
    # but overhead: input is flat and every key was checked above).
    values: dict[str, Any] = {}
    bound = obj.input_schema.fields
    for key, value in payload.items():
        cf = obj.fields[key]
        loaded = cf.ftype.quick_load(cf.fdef, value)
        if loaded is not NOT_PLAIN:
            values[key] = cf.ftype.normalise(cf.fdef, loaded)
            continue
        try:
            loaded = bound[key].deserialize(value, key, payload)
        except marshmallow.ValidationError as err:
            errors.setdefault(key, []).extend(_flatten({key: err.messages})[key])
            continue
        values[key] = cf.ftype.normalise(cf.fdef, loaded)
    if owner is None and "owner" in data and not creating and ctx.actor.is_system:
        values["owner"] = None  # flows may clear it (a lead back in the public pool)
    elif owner is not None or ("owner" in data and not creating):
        if not isinstance(owner, str) or not _user_exists(ctx.conn, owner):
            errors.setdefault("owner", []).append(f"no active user named {owner!r}")
        else:
            values["owner"] = owner
    return values, errors


def field_refusals(ctx: Context, obj: CompiledObject) -> dict[str, str]:
    """Why the actor may not set each field they may not set (computed once per metadata
    version, object and set of roles, as the field rules depend on nothing else)."""
    known: dict[Any, dict[str, str]] = ctx.schema.compiled.setdefault("field_refusals", {})
    key = (obj.name, ctx.actor.roles, ctx.actor.is_system)
    cached = known.get(key)
    if cached is None:
        cached = {}
        for name, cf in obj.fields.items():
            rule = ctx.schema.access.field_rule(ctx.actor, obj.name, name)
            if not cf.ftype.writable:
                cached[name] = "read-only: computed by metabiz"
            elif rule is not None:
                cached[name] = f"{rule.replace('_', '-')} for your role"
        known[key] = cached
    return cached


def _flatten(messages: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            if isinstance(value, dict):  # list items: {0: [...]}
                out[str(key)] = [m for sub in value.values() for m in
                                 (sub if isinstance(sub, list) else [str(sub)])]
            else:
                out[str(key)] = [str(m) for m in (value if isinstance(value, list) else [value])]
    return out


def _user_exists(conn: Connection, name: Any) -> bool:
    if not isinstance(name, str):
        return False
    return conn.execute(select(users.c.id).where(users.c.name == name,
                                                 users.c.active.is_(True))).first() is not None


#: the largest id a record can have (a signed 64-bit integer column)
MAX_RECORD_ID = 2**63 - 1


def record_key(raw: Any) -> int | None:
    """A record id from a URL or JSON value: ASCII digits (or an int) from 1 to 2^63 - 1;
    None for anything else (Unicode digits, signs, floats, ids no column can hold)."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, Decimal) and raw.is_finite() and raw == raw.to_integral_value():
        value = int(raw)
    elif isinstance(raw, str) and (number := whole_number(raw)) is not None:
        value = number
    else:
        return None
    return value if 1 <= value <= MAX_RECORD_ID else None
