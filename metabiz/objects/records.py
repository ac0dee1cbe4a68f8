"""The record service: the one write path for the UI, the API, the CLI, imports and flows.

permission → deserialise and validate → defaults → formulas → validation rules → uniqueness
→ write with version check → field history → roll-ups → write listeners (flows).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import marshmallow
from sqlalchemy import Connection, func, insert, select
from sqlalchemy import delete as sql_delete
from sqlalchemy import update as sql_update
from sqlalchemy.exc import IntegrityError

from metabiz.errors import (
    ConflictError,
    FormulaError,
    NotFound,
    PermissionDenied,
    RecordLocked,
    ValidationError,
)
from metabiz.formulas import EvalContext
from metabiz.objects import rollups
from metabiz.objects.fields import json_value
from metabiz.objects.schema import (
    SYSTEM_COLUMN_NAMES,
    CompiledObject,
    RuntimeSchema,
)
from metabiz.platform.access import Actor
from metabiz.platform.db import counters, field_history, users

log = logging.getLogger(__name__)

RECORD_KEY = "_record"  # where errors that belong to no single field are reported
SYSTEM_OUTPUT = ("id", "version", "owner", "created_at", "created_by", "updated_at",
                 "updated_by", "approval_status")


@dataclass(frozen=True)
class WriteEvent:
    """What a write did, handed to listeners (automation, approvals) inside the transaction."""

    kind: str  # created | updated | deleted
    object: str
    record_id: int
    before: Mapping[str, Any] | None  # Python values incl. formulas (None when created)
    after: Mapping[str, Any] | None  # None when deleted
    actor: Actor

    def changed(self) -> set[str]:
        if self.before is None or self.after is None:
            return set()
        return {k for k in self.after if self.before.get(k) != self.after.get(k)}


Listener = Callable[["Context", WriteEvent], None]


@dataclass
class Context:
    """One unit of work: a connection inside a transaction, the schema, the actor."""

    conn: Connection
    schema: RuntimeSchema
    actor: Actor
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    listeners: tuple[Listener, ...] = ()
    #: set by flows acting on their own (e.g. approval actions may write a locked record)
    bypass_lock: bool = False

    @property
    def language(self) -> str:
        return self.actor.language

    def naive_now(self) -> dt.datetime:
        return self.now.astimezone(dt.UTC).replace(tzinfo=None)


# -- reading ---------------------------------------------------------------------------


def get(ctx: Context, object_name: str, record_id: Any) -> dict[str, Any]:
    """The record as JSON (computed fields included, hidden fields left out)."""
    obj = ctx.schema.object(object_name)
    ctx.schema.access.require(ctx.actor, obj.name, "read")
    values = load(ctx, obj, record_id)
    return serialise(ctx, obj, values)


def load(ctx: Context, obj: CompiledObject, record_id: Any, *,
         for_update: bool = False) -> dict[str, Any]:
    """Python values of a visible record, formulas computed; 404 when missing or invisible."""
    try:
        record_id = int(record_id)
    except (TypeError, ValueError):
        raise NotFound(f"no {obj.name} record with id {record_id!r}") from None
    query = select(obj.table).where(obj.table.c.id == record_id)
    owners = ctx.schema.access.visible_owners(ctx.actor, obj.name)
    if owners is not None:
        query = query.where(obj.table.c.owner.in_(sorted(owners)))
    if for_update and ctx.conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = ctx.conn.execute(query).mappings().first()
    if row is None:
        raise NotFound(f"no {obj.name} record with id {record_id}")
    return compute(ctx, obj, obj.decode(row))


def compute(ctx: Context, obj: CompiledObject, values: dict[str, Any],
            resolver: Resolver | None = None) -> dict[str, Any]:
    """Fill in the formula fields (in dependency order); an evaluation error gives blank."""
    if not obj.formula_order:
        return values
    resolver = resolver or Resolver(ctx)
    context = EvalContext(record=values, resolve=resolver.bind(obj, values), now=ctx.now)
    for name in obj.formula_order:
        cf = obj.fields[name]
        assert cf.formula is not None
        try:
            values[name] = cf.ftype.normalise(cf.fdef, cf.formula.run(context))
        except FormulaError as err:
            log.warning("formula %s.%s on record %s: %s", obj.name, name, values.get("id"),
                        err.message)
            values[name] = None
    return values


class Resolver:
    """Follows dotted formula references (`account.industry`) with a per-call cache."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._cache: dict[tuple[str, Any], dict[str, Any] | None] = {}

    def bind(self, obj: CompiledObject,
             values: Mapping[str, Any]) -> Callable[[tuple[str, ...]], Any]:
        def resolve(path: tuple[str, ...]) -> Any:
            current_obj, current = obj, values
            for part in path[:-1]:
                target = current_obj.fields[part].fdef.target
                if target is None or current.get(part) is None:
                    return None
                current_obj = self.ctx.schema.object(target)
                loaded = self.fetch(current_obj, current[part])
                if loaded is None:
                    return None
                current = loaded
            return current.get(path[-1])

        return resolve

    def fetch(self, obj: CompiledObject, record_id: Any) -> dict[str, Any] | None:
        key = (obj.name, record_id)
        if key not in self._cache:
            row = self.ctx.conn.execute(
                select(obj.table).where(obj.table.c.id == record_id)).mappings().first()
            self._cache[key] = None
            if row is not None:
                self._cache[key] = compute(self.ctx, obj, obj.decode(row), self)
        return self._cache[key]


def serialise(ctx: Context, obj: CompiledObject, values: Mapping[str, Any]) -> dict[str, Any]:
    """Python values → the API's JSON record, without the fields hidden from the actor."""
    out: dict[str, Any] = {name: json_value(values.get(name)) for name in SYSTEM_OUTPUT}
    hidden = ctx.schema.access.hidden_fields(ctx.actor, obj.name, obj.fields)
    for name, cf in obj.fields.items():
        if name not in hidden:
            out[name] = cf.ftype.to_json(cf.fdef, values.get(name))
    return out


def history(ctx: Context, object_name: str, record_id: Any) -> list[dict[str, Any]]:
    """Field changes of a record, oldest first (fields hidden from the actor left out)."""
    obj = ctx.schema.object(object_name)
    ctx.schema.access.require(ctx.actor, obj.name, "read")
    record = load(ctx, obj, record_id)
    hidden = ctx.schema.access.hidden_fields(ctx.actor, obj.name, obj.fields)
    rows = ctx.conn.execute(
        select(field_history).where(field_history.c.object == obj.name,
                                    field_history.c.record_id == record["id"])
        .order_by(field_history.c.id)).mappings()
    return [{"field": r["field"], "old": r["old_value"], "new": r["new_value"],
             "by": r["changed_by"], "at": json_value(r["changed_at"])}
            for r in rows if r["field"] not in hidden]


# -- writing ---------------------------------------------------------------------------


def create(ctx: Context, object_name: str, data: Any) -> dict[str, Any]:
    """Create a record from JSON input; returns it as JSON (201 in the API)."""
    obj = ctx.schema.object(object_name)
    ctx.schema.access.require(ctx.actor, obj.name, "create")
    try:
        values = _input(ctx, obj, data, creating=True)
    except ValidationError as err:
        # Report missing required values together with the type errors.
        given = data if isinstance(data, dict) else {}
        for cf in obj.fields.values():
            if cf.fdef.required and cf.ftype.writable and cf.default is None \
                    and _blank(given.get(cf.name)) and cf.name not in err.fields:
                err.fields[cf.name] = ["required"]
        raise
    owner = values.pop("owner", None) or ctx.actor.name
    record = {name: None for name in obj.fields}
    record.update(values)
    _apply_defaults(ctx, obj, record, given=set(values))
    record.update(owner=owner, approval_status="none", version=1, locked=False,
                  created_by=ctx.actor.name, updated_by=ctx.actor.name,
                  created_at=ctx.now, updated_at=ctx.now)
    _check(ctx, obj, record, prior=None, changed=set(obj.fields))
    row = {cf.name: cf.ftype.to_db(cf.fdef, record.get(cf.name)) for cf in obj.stored_fields()
           if cf.fdef.type not in ("rollup", "auto_number")}
    for cf in obj.stored_fields():
        if cf.fdef.type == "auto_number":
            record[cf.name] = row[cf.name] = cf.ftype.render(  # type: ignore[attr-defined]
                cf.fdef, next_number(ctx.conn, f"{obj.name}.{cf.name}"))
    row.update(owner=owner, approval_status="none", version=1, locked=False,
               created_by=ctx.actor.name, updated_by=ctx.actor.name,
               created_at=ctx.naive_now(), updated_at=ctx.naive_now())
    record_id = _write(ctx, obj, insert(obj.table).values(row).returning(obj.table.c.id))
    ctx.conn.execute(insert(field_history).values(
        object=obj.name, record_id=record_id, field="created", old_value=None, new_value=None,
        changed_by=ctx.actor.name, changed_at=ctx.naive_now()))
    _refresh_rollups(ctx, obj, None, record)
    after = _reload(ctx, obj, record_id)
    _notify(ctx, WriteEvent("created", obj.name, record_id, None, after, ctx.actor))
    return serialise(ctx, obj, after)


def update(ctx: Context, object_name: str, record_id: Any, data: Any) -> dict[str, Any]:
    """Partial update; a stale `version` in the body gives 409. Returns the record as JSON."""
    obj = ctx.schema.object(object_name)
    ctx.schema.access.require(ctx.actor, obj.name, "edit")
    before = load(ctx, obj, record_id, for_update=True)
    expected = data.get("version") if isinstance(data, dict) else None
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if k != "version"}
    if expected is not None and (not isinstance(expected, int) or isinstance(expected, bool)):
        raise ValidationError("invalid version", fields={"version": ["Not a valid integer."]})
    if expected is not None and expected != before["version"]:
        raise ConflictError(f"{obj.name} {before['id']} was changed by someone else "
                            f"(your version {expected}, current {before['version']})",
                            fields={"version": ["stale version"]},
                            details={"current_version": before["version"]})
    _check_lock(ctx, obj, before)
    values = _input(ctx, obj, data, creating=False)
    record = dict(before)
    record.update(values)
    changed = {k for k in values if before.get(k) != values[k]}
    if not changed:
        return serialise(ctx, obj, before)
    _check(ctx, obj, record, prior=before, changed=changed)
    row = {name: obj.fields[name].ftype.to_db(obj.fields[name].fdef, record[name])
           for name in changed if name in obj.fields}
    if "owner" in changed:
        row["owner"] = record["owner"]
    row.update(version=before["version"] + 1, updated_by=ctx.actor.name,
               updated_at=ctx.naive_now())
    done = ctx.conn.execute(sql_update(obj.table).where(
        obj.table.c.id == before["id"], obj.table.c.version == before["version"]).values(row))
    if done.rowcount != 1:
        raise ConflictError(f"{obj.name} {before['id']} was changed by someone else",
                            fields={"version": ["stale version"]})
    _log_changes(ctx, obj, before, record, changed)
    _refresh_rollups(ctx, obj, before, record)
    after = _reload(ctx, obj, before["id"])
    _notify(ctx, WriteEvent("updated", obj.name, before["id"], before, after, ctx.actor))
    return serialise(ctx, obj, after)


def delete(ctx: Context, object_name: str, record_id: Any) -> None:
    """Delete a record; master-detail children go with it, restricting lookups refuse (409)."""
    obj = ctx.schema.object(object_name)
    ctx.schema.access.require(ctx.actor, obj.name, "delete")
    before = load(ctx, obj, record_id, for_update=True)
    _check_lock(ctx, obj, before)
    _delete(ctx, obj, before)


def _delete(ctx: Context, obj: CompiledObject, before: dict[str, Any]) -> None:
    record_id = before["id"]
    for child_name, link in obj.children:
        child = ctx.schema.object(child_name)
        cf = child.fields[link]
        column = child.table.c[link]
        if cf.fdef.type == "master_detail":
            rows = ctx.conn.execute(select(child.table).where(column == record_id)).mappings()
            for row in rows.all():
                _delete(ctx, child, compute(ctx, child, child.decode(row)))
        elif cf.fdef.on_delete == "set_null":
            ctx.conn.execute(sql_update(child.table).where(column == record_id)
                             .values({link: None}))
        else:
            count = ctx.conn.execute(select(func.count()).where(column == record_id)).scalar()
            if count:
                raise ConflictError(
                    f"{obj.name} {record_id} cannot be deleted: {count} {child.name} "
                    f"record(s) refer to it through {child.name}.{link}",
                    details={"object": child.name, "field": link, "count": count})
    ctx.conn.execute(sql_delete(obj.table).where(obj.table.c.id == record_id))
    _refresh_rollups(ctx, obj, before, None)
    _notify(ctx, WriteEvent("deleted", obj.name, record_id, before, None, ctx.actor))


def set_system(ctx: Context, object_name: str, record_id: int, **values: Any) -> None:
    """Set approval_status / locked / owner without the user-facing checks (flows only)."""
    obj = ctx.schema.object(object_name)
    allowed = {"approval_status", "locked", "owner"}
    assert set(values) <= allowed, values
    ctx.conn.execute(sql_update(obj.table).where(obj.table.c.id == record_id).values(
        **values, version=obj.table.c.version + 1, updated_at=ctx.naive_now(),
        updated_by=ctx.actor.name))


# -- the stages ------------------------------------------------------------------------


def _input(ctx: Context, obj: CompiledObject, data: Any, *, creating: bool) -> dict[str, Any]:
    """Deserialise JSON input: unknown, read-only and forbidden fields, types, formats."""
    if not isinstance(data, dict):
        raise ValidationError("the record must be a JSON object",
                              fields={RECORD_KEY: ["expected a JSON object"]})
    errors: dict[str, list[str]] = {}
    forbidden: dict[str, list[str]] = {}
    payload: dict[str, Any] = {}
    owner = data.get("owner")
    for key, value in data.items():
        cf = obj.fields.get(key)
        if key == "owner":
            continue
        if key == "id" and not creating:
            continue  # the id in the body of a PATCH is the record's own
        if cf is None:
            reason = "is set by the system" if key in SYSTEM_COLUMN_NAMES else "unknown field"
            errors[key] = [f"{key} {reason}" if key in SYSTEM_COLUMN_NAMES else reason]
            continue
        if not cf.ftype.writable:
            errors[key] = ["read-only: computed by metabiz"]
            continue
        rule = ctx.schema.access.field_rule(ctx.actor, obj.name, key)
        if rule is not None:
            forbidden[key] = [f"{rule.replace('_', '-')} for your role"]
            continue
        payload[key] = value
    if forbidden:
        raise PermissionDenied("you may not set " + ", ".join(sorted(forbidden)),
                               fields=forbidden)
    try:
        loaded = obj.input_schema.load(payload, partial=True)
    except marshmallow.ValidationError as err:
        for key, messages in _flatten(err.messages).items():
            errors.setdefault(key, []).extend(messages)
        loaded = {}
    values = {k: obj.fields[k].ftype.normalise(obj.fields[k].fdef, v) for k, v in loaded.items()}
    if owner is not None or ("owner" in data and not creating):
        if not isinstance(owner, str) or not _user_exists(ctx.conn, owner):
            errors.setdefault("owner", []).append(f"no active user named {owner!r}")
        else:
            values["owner"] = owner
    if errors:
        raise ValidationError(f"invalid {obj.name} record", fields=errors)
    return values


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


def _apply_defaults(ctx: Context, obj: CompiledObject, record: dict[str, Any],
                    given: set[str]) -> None:
    context = EvalContext(record=record, now=ctx.now, is_new=True)
    for cf in obj.fields.values():
        if cf.default is None or cf.name in given:
            continue
        try:
            value = cf.default.run(context)
        except FormulaError as err:
            log.warning("default of %s.%s: %s", obj.name, cf.name, err.message)
            continue
        if value is not None and isinstance(value, Decimal | int | float) and \
                cf.fdef.type in ("text", "long_text"):
            value = str(value)
        record[cf.name] = cf.ftype.normalise(cf.fdef, value)


def _check(ctx: Context, obj: CompiledObject, record: dict[str, Any],
           prior: Mapping[str, Any] | None, changed: set[str]) -> None:
    """Required fields, references, formulas, validation rules and uniqueness."""
    errors: dict[str, list[str]] = {}
    for cf in obj.fields.values():
        value = record.get(cf.name)
        if cf.fdef.required and cf.ftype.writable and _blank(value):
            errors.setdefault(cf.name, []).append("required")
        if value is None or cf.name not in changed:
            continue
        if cf.fdef.type in ("lookup", "master_detail"):
            target = ctx.schema.object(cf.fdef.target or "")
            found = ctx.conn.execute(select(target.table.c.id)
                                     .where(target.table.c.id == value)).first()
            if found is None:
                errors.setdefault(cf.name, []).append(f"no {target.name} record with id {value}")
        elif cf.fdef.type == "user" and not _user_exists(ctx.conn, value):
            errors.setdefault(cf.name, []).append(f"no active user named {value!r}")
    if errors:
        raise ValidationError(f"invalid {obj.name} record", fields=errors)
    compute(ctx, obj, record)
    if obj.rules:
        resolver = Resolver(ctx)
        context = EvalContext(record=record, prior=prior, resolve=resolver.bind(obj, record),
                              now=ctx.now, is_new=prior is None)
        for rule in obj.rules:
            try:
                failed = rule.condition.run(context)
            except FormulaError as err:
                log.warning("validation rule %s.%s: %s", obj.name, rule.api_name, err.message)
                continue
            if failed is True:
                errors.setdefault(rule.field or RECORD_KEY, []).append(
                    rule.message.get(ctx.language))
    if errors:
        raise ValidationError(f"invalid {obj.name} record", fields=errors)
    taken: dict[str, list[str]] = {}
    for cf in obj.fields.values():
        if not cf.fdef.unique or cf.name not in changed or record.get(cf.name) is None:
            continue
        column = obj.table.c[cf.name]
        query = select(obj.table.c.id).where(
            column == cf.ftype.to_db(cf.fdef, record[cf.name]))
        if prior is not None:
            query = query.where(obj.table.c.id != prior["id"])
        if ctx.conn.execute(query.limit(1)).first() is not None:
            taken[cf.name] = [f"{json_value(record[cf.name])!r} is already used by another "
                              f"{obj.name} record"]
    if taken:
        raise ConflictError("a unique value is already taken", fields=taken)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == ()


def _check_lock(ctx: Context, obj: CompiledObject, record: Mapping[str, Any]) -> None:
    if record.get("locked") and not ctx.bypass_lock and not ctx.actor.is_admin:
        raise RecordLocked(f"{obj.name} {record['id']} is locked while its approval is pending")


def _write(ctx: Context, obj: CompiledObject, statement: Any) -> int:
    try:
        with ctx.conn.begin_nested():
            return int(ctx.conn.execute(statement).scalar_one())
    except IntegrityError as err:
        # The checks above normally catch this; a concurrent writer may still win the race.
        raise ConflictError(f"the {obj.name} record conflicts with another one: "
                            f"{str(err.orig).splitlines()[0]}") from None


def _user_exists(conn: Connection, name: Any) -> bool:
    if not isinstance(name, str):
        return False
    return conn.execute(select(users.c.id).where(users.c.name == name,
                                                 users.c.active.is_(True))).first() is not None


def next_number(conn: Connection, counter: str) -> int:
    """The next value of a named counter, unique under concurrent inserts."""
    done = conn.execute(sql_update(counters).where(counters.c.name == counter)
                        .values(value=counters.c.value + 1))
    if done.rowcount == 0:
        try:
            with conn.begin_nested():
                conn.execute(insert(counters).values(name=counter, value=1))
            return 1
        except IntegrityError:
            conn.execute(sql_update(counters).where(counters.c.name == counter)
                         .values(value=counters.c.value + 1))
    return int(conn.execute(select(counters.c.value)
                            .where(counters.c.name == counter)).scalar_one())


def _log_changes(ctx: Context, obj: CompiledObject, before: Mapping[str, Any],
                 after: Mapping[str, Any], changed: Iterable[str]) -> None:
    rows = []
    for name in sorted(changed):
        cf = obj.fields.get(name)
        to_json = (lambda v, cf=cf: cf.ftype.to_json(cf.fdef, v)) if cf else json_value
        rows.append({"object": obj.name, "record_id": before["id"], "field": name,
                     "old_value": to_json(before.get(name)), "new_value": to_json(after.get(name)),
                     "changed_by": ctx.actor.name, "changed_at": ctx.naive_now()})
    if rows:
        ctx.conn.execute(insert(field_history), rows)


def _refresh_rollups(ctx: Context, obj: CompiledObject, before: Mapping[str, Any] | None,
                     after: Mapping[str, Any] | None) -> None:
    links = {r.fdef.relationship_field for _, r in ctx.schema.rollups_over(obj.name)}
    if not links:
        return
    ids = {link: {(before or {}).get(link), (after or {}).get(link)} for link in links if link}
    rollups.refresh_parents(ctx.conn, ctx.schema, obj.name, ids)


def _reload(ctx: Context, obj: CompiledObject, record_id: int) -> dict[str, Any]:
    row = ctx.conn.execute(select(obj.table).where(obj.table.c.id == record_id)).mappings().one()
    return compute(ctx, obj, obj.decode(row))


def _notify(ctx: Context, event: WriteEvent) -> None:
    for listener in ctx.listeners:
        listener(ctx, event)
