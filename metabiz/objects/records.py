"""The record service: the one write path for the UI, the API, the CLI, imports and flows.

permission → deserialise and validate → defaults → before-save hooks → formulas → validation
rules (every error of a record in one 422) → uniqueness → write with version check → field
history → roll-ups → write listeners (flows).
The unit of work is `context.Context`; input is read by `record_input`, numbers by `counters`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import delete as sql_delete
from sqlalchemy import false, func, select
from sqlalchemy import update as sql_update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from metabiz.errors import (
    ConflictError,
    FormulaError,
    NotFound,
    RecordLocked,
    ValidationError,
)
from metabiz.formulas import EvalContext, Image, Link
from metabiz.objects import change_log, record_scope, reference_rules, rollups, vlookups
from metabiz.objects.batch_write import db_rows, insert_one, insert_rows, plan_for, read_plain
from metabiz.objects.context import Context, WriteEvent, note_record_write, record_writes
from metabiz.objects.counters import next_number
from metabiz.objects.drafts import Draft, reads, run_before_save, tainted
from metabiz.objects.fields import json_value
from metabiz.objects.readers import SYSTEM_KEYS, reader
from metabiz.objects.record_input import field_refusals, read_input, record_key
from metabiz.objects.schema import CompiledObject
from metabiz.platform.db import field_history, users

log = logging.getLogger(__name__)

RECORD_KEY = "_record"  # where errors that belong to no single field are reported
SYSTEM_OUTPUT = SYSTEM_KEYS


# -- reading ---------------------------------------------------------------------------


def get(ctx: Context, object_name: str, record_id: Any, *,
        rich: bool = False) -> dict[str, Any]:
    """The record as JSON (computed fields included, hidden fields left out); `rich` as
    for `serialise`."""
    obj = ctx.schema.object(object_name)
    ctx.schema.access.require(ctx.actor, obj.name, "read")
    key, plan = record_key(record_id), reader(ctx.schema, obj, ctx.actor)
    if key is None:  # `load`'s path and its answer
        return serialise(ctx, obj, load(ctx, obj, record_id), rich=rich)
    scope = record_scope.conditions(ctx.schema, ctx.actor, obj)
    row = ctx.conn.execute(plan.by_id.where(*scope) if scope else plan.by_id,
                           {"record_id": key}).first()
    if row is None:
        raise NotFound(f"no {obj.name} record with id {key}")
    if rich:
        return plan.to_json(compute(ctx, obj, plan.decode(row)), rich=True)
    return plan.read(row, (lambda values: compute(ctx, obj, values))
                     if obj.formula_order else None)


def load(ctx: Context, obj: CompiledObject, record_id: Any, *,
         for_update: bool = False) -> dict[str, Any]:
    """Python values of a visible record, formulas computed; 404 when missing or invisible."""
    key = record_key(record_id)
    if key is None:  # not an id at all, or one no record can have: simply not there
        raise NotFound(f"no {obj.name} record with id {str(record_id)[:40]!r}")
    record_id = key
    query = select(obj.table).where(obj.table.c.id == record_id, *record_scope.conditions(
        ctx.schema, ctx.actor, obj, reading=not for_update))
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
    context = resolver.context(obj, values)
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
    """Follows dotted formula references (`account.industry`) and VLOOKUP's keys, with a
    per-call cache."""

    def __init__(self, ctx: Context, *, scoped: bool = False) -> None:
        self.ctx = ctx
        #: follow only lookups to records the actor may see (formulas a user types in)
        self.scoped = scoped
        self._cache: dict[tuple[str, Any], dict[str, Any] | None] = {}
        self._keys: dict[tuple[str, str, Any], int | None] = {}

    def context(self, obj: CompiledObject, values: Mapping[str, Any], *,
                prior: Mapping[str, Any] | None = None,
                is_new: bool | None = None) -> EvalContext:
        """What a formula on this record of `obj` runs with: its lookups and VLOOKUPs."""
        return EvalContext(record=values, prior=prior, resolve=self.bind(obj, values),
                           now=self.ctx.now, is_new=is_new, vlookup=self.vlookup)

    def vlookup(self, object_name: str, field_name: str, key_field: str, key: Any) -> Any:
        """VLOOKUP's read: `field_name` of the record whose `key_field` equals `key`, among
        the records the actor may read (see vlookups.py); blank when hidden from them."""
        access, actor = self.ctx.schema.access, self.ctx.actor
        if access.field_rule(actor, object_name, field_name) == "hidden":
            return None
        cached = (object_name, key_field, key)
        if cached not in self._keys:
            self._keys[cached] = vlookups.find(self.ctx.conn, self.ctx.schema, actor,
                                               object_name, key_field, key)
        record_id = self._keys[cached]
        if record_id is None:
            return None
        found = self.fetch(self.ctx.schema.object(object_name), record_id)
        return None if found is None else found.get(field_name)

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
            query = select(obj.table).where(obj.table.c.id == record_id)
            if self.scoped:
                access, actor = self.ctx.schema.access, self.ctx.actor
                if not access.allowed(actor, obj.name, "read"):
                    query = query.where(false())
                else:
                    query = query.where(*record_scope.conditions(self.ctx.schema, actor, obj))
            row = self.ctx.conn.execute(query).mappings().first()
            self._cache[key] = None
            if row is not None:
                self._cache[key] = compute(self.ctx, obj, obj.decode(row), self)
        return self._cache[key]


def serialise(ctx: Context, obj: CompiledObject, values: Mapping[str, Any], *,
              rich: bool = False) -> dict[str, Any]:
    """Python values → the API's JSON record, without the fields hidden from the actor.

    With `rich` (for pages), links and images stay `Link`/`Image` values, whose label a
    page shows and escapes (the API gives only their URL, which is also their str())."""
    out: dict[str, Any] = {name: json_value(values.get(name)) for name in SYSTEM_OUTPUT}
    if obj.odef.pools:
        out["pool"] = values.get("pool")
    hidden = ctx.schema.access.hidden_fields(ctx.actor, obj.name, obj.fields)
    for name, cf in obj.fields.items():
        if name not in hidden:
            value = values.get(name)
            out[name] = value if rich and isinstance(value, Link | Image) else \
                cf.ftype.to_json(cf.fdef, value)
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
             "by": r["changed_by"], "at": json_value(r["changed_at"]),
             **({"kind": r["kind"], "note": r["note"]} if r["kind"] else {})}
            for r in rows if r["field"] not in hidden]


# -- writing ---------------------------------------------------------------------------


def create(ctx: Context, object_name: str, data: Any) -> dict[str, Any]:
    """Create a record from JSON input; returns it as JSON (201 in the API). A batch of one
    (`create_many`): its single INSERT needs no savepoint, and it is read back only if a
    write listener changed records."""
    return create_many(ctx, object_name, [data])[0]


def create_many(ctx: Context, object_name: str, items: Sequence[Any], *,
                returning: bool = True) -> list[dict[str, Any]]:
    """Create records in one pass (imports, demo data); all or nothing.

    The same stages as `create`, with references, uniqueness, auto-numbers and the insert
    batched. Errors of a batch of several name the row: `[3].amount`. With
    `returning=False` the result is only `[{"id": …}]` (imports need no JSON back).
    """
    obj = ctx.schema.object(object_name)
    ctx.schema.access.require(ctx.actor, obj.name, "create")
    plan = plan_for(ctx, obj, field_refusals(ctx, obj))
    system = {"owner": ctx.actor.name, "approval_status": "none", "version": 1, "locked": False,
              "created_by": ctx.actor.name, "updated_by": ctx.actor.name,
              "created_at": ctx.now, "updated_at": ctx.now}
    prepared: list[dict[str, Any]] = []
    errors: dict[int, dict[str, list[str]]] = {}
    for index, data in enumerate(items):
        plain = read_plain(plan, data)
        problems: dict[str, list[str]] = {}
        if plain is not None:  # the quick path: the same steps as _new_record's
            record = {**plan.blank, **plain}
            if not plan.defaulted <= plain.keys():
                _apply_defaults(ctx, obj, record, given=set(plain))
            record.update(system)
            if ctx.before_save:
                draft = Draft(obj, record, None, set(obj.fields), problems)
                run_before_save(ctx, draft)
                problems = draft.errors
        else:
            try:
                record, problems = _new_record(ctx, obj, data)
            except ValidationError as err:  # not a JSON object at all
                record, problems = {name: None for name in obj.fields}, err.fields
        prepared.append(record)
        if problems:
            errors[index] = problems
    every = frozenset(obj.fields)  # what a new record sets (read-only in the checks)
    _check_many(ctx, obj, [(record, None, every) for record in prepared], errors)  # type: ignore[misc]
    numbered = [cf for cf in obj.stored_fields() if cf.fdef.type == "auto_number"]
    for cf in numbered:
        last = next_number(ctx.conn, f"{obj.name}.{cf.name}", len(prepared))
        for offset, record in enumerate(prepared):
            record[cf.name] = cf.ftype.render(  # type: ignore[attr-defined]
                cf.fdef, last - len(prepared) + 1 + offset)
    for cf in obj.fields.values():
        if cf.fdef.type == "rollup":  # a new record has no children yet
            for record in prepared:
                record[cf.name] = Decimal(0) if cf.fdef.function in ("count", "sum") else None
    stamp = ctx.naive_now()
    rows = db_rows(plan, prepared, {**system, "created_at": stamp, "updated_at": stamp})
    # Creation is recorded by created_at/created_by; history starts with the first change.
    ids = _insert(ctx, obj, rows)
    for record, record_id in zip(prepared, ids, strict=True):
        record["id"] = record_id
    note_record_write(ctx.conn)
    rollups.refresh_touched(ctx.conn, ctx.schema, obj.name, prepared)
    written = record_writes(ctx.conn)
    for record in prepared:
        _notify(ctx, WriteEvent("created", obj.name, record["id"], None, record, ctx.actor))
    if not returning:
        return [{"id": record["id"]} for record in prepared]
    if record_writes(ctx.conn) != written:  # automation changed records (owner by assignment…)
        prepared = [_reload(ctx, obj, record["id"]) for record in prepared]
    return [serialise(ctx, obj, record) for record in prepared]


def _new_record(ctx: Context, obj: CompiledObject,
                data: Any) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Input → a full new record (defaults, before-save hooks and system fields) and the
    errors of its input, before any DB check."""
    values, errors = _input(ctx, obj, data, creating=True)
    owner = values.pop("owner", None) or ctx.actor.name
    record: dict[str, Any] = {name: None for name in obj.fields}
    record.update(values)
    _apply_defaults(ctx, obj, record, given=set(values) | set(errors))
    record.update(owner=owner, approval_status="none", version=1, locked=False,
                  created_by=ctx.actor.name, updated_by=ctx.actor.name,
                  created_at=ctx.now, updated_at=ctx.now)
    if ctx.before_save:
        draft = Draft(obj, record, None, set(obj.fields), errors)
        run_before_save(ctx, draft)
        errors = draft.errors
    return record, errors


def _batch_error(obj: CompiledObject, errors: Mapping[int, Mapping[str, list[str]]],
                 count: int, kind: type[ValidationError] | type[ConflictError]) -> Exception:
    if count == 1:
        only = next(iter(errors.values()))
        if kind is ConflictError:
            return ConflictError("a unique value is already taken", fields=only)
        return ValidationError(f"invalid {obj.name} record", fields=only)
    fields = {f"[{i}].{name}": messages for i, row in sorted(errors.items())
              for name, messages in row.items()}
    first = min(errors)
    return kind(f"{len(errors)} of {count} {obj.name} records are invalid (first: row {first})",
                fields=fields)


def update(ctx: Context, object_name: str, record_id: Any, data: Any, *,
           system: Mapping[str, Any] | None = None,
           kind: str | None = None, note: str | None = None) -> dict[str, Any]:
    """Partial update; a stale `version` in the body gives 409. Returns the record as JSON.

    `system` sets system columns beside the input (pools: `pool`, `owner` None); `kind` and
    `note` mark its history rows (a claim, a return and its reason, a transfer)."""
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
    values, errors = _input(ctx, obj, data, creating=False)
    values = {**values, **(system or {})}
    record = dict(before)
    record.update(values)
    changed = {k for k in values if before.get(k) != values[k]}
    if not changed and not errors:
        return serialise(ctx, obj, before)
    if ctx.before_save:
        draft = Draft(obj, record, before, changed, errors)
        run_before_save(ctx, draft)
        errors = draft.errors
    _check_many(ctx, obj, [(record, before, changed)], {0: errors} if errors else None)
    if not changed:
        return serialise(ctx, obj, before)
    row = {name: obj.fields[name].ftype.to_db(obj.fields[name].fdef, record[name])
           for name in changed if name in obj.fields}
    for name in changed & {"owner", *(system or ())}:
        row[name] = record[name]
    row.update(version=before["version"] + 1, updated_by=ctx.actor.name,
               updated_at=ctx.naive_now())
    done = ctx.conn.execute(sql_update(obj.table).where(
        obj.table.c.id == before["id"], obj.table.c.version == before["version"]).values(row))
    if done.rowcount != 1:
        raise ConflictError(f"{obj.name} {before['id']} was changed by someone else",
                            fields={"version": ["stale version"]})
    note_record_write(ctx.conn)
    change_log.log_changes(ctx, obj, before, record, changed, kind=kind, note=note)
    rollups.refresh_touched(ctx.conn, ctx.schema, obj.name, [before, record])
    after = _reload(ctx, obj, before["id"])
    _notify(ctx, WriteEvent("updated", obj.name, before["id"], before, after, ctx.actor,
                            change=kind))
    if ctx.listeners:  # automation may have changed it further
        after = _reload(ctx, obj, before["id"])
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
    note_record_write(ctx.conn)
    # the record's field history goes with it
    ctx.conn.execute(sql_delete(field_history).where(field_history.c.object == obj.name,
                                                     field_history.c.record_id == record_id))
    rollups.refresh_touched(ctx.conn, ctx.schema, obj.name, [before])
    _notify(ctx, WriteEvent("deleted", obj.name, record_id, before, None, ctx.actor))


def set_system(ctx: Context, object_name: str, record_id: int, **values: Any) -> None:
    """Set approval_status / locked / owner without the user-facing checks (flows only)."""
    obj = ctx.schema.object(object_name)
    allowed = {"approval_status", "locked", "owner"}
    assert set(values) <= allowed, values
    ctx.conn.execute(sql_update(obj.table).where(obj.table.c.id == record_id).values(
        **values, version=obj.table.c.version + 1, updated_at=ctx.naive_now(),
        updated_by=ctx.actor.name))
    note_record_write(ctx.conn)


# -- the stages ------------------------------------------------------------------------


def _input(ctx: Context, obj: CompiledObject, data: Any, *,
           creating: bool) -> tuple[dict[str, Any], dict[str, list[str]]]:
    if not isinstance(data, dict):
        raise ValidationError("the record must be a JSON object",
                              fields={RECORD_KEY: ["expected a JSON object"]})
    return read_input(ctx, obj, data, creating=creating)


def _apply_defaults(ctx: Context, obj: CompiledObject, record: dict[str, Any],
                    given: set[str]) -> None:
    # A default may follow lookups the user already filled in (`product.unit_price`).
    context = Resolver(ctx).context(obj, record, is_new=True)
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


CheckItem = tuple[dict[str, Any], Mapping[str, Any] | None, set[str]]


def _check_many(ctx: Context, obj: CompiledObject, items: Sequence[CheckItem],
                known: Mapping[int, Mapping[str, list[str]]] | None = None) -> None:
    """Required fields, references, formulas, validation rules and uniqueness.

    Each item is (record, prior record or None, changed field names); references and
    unique values are checked with one query per field for the whole batch. `known` are
    the input errors found before: they are reported together with the required and
    reference errors and the validation rules that read no bad field (one 422 for all).
    """
    errors: dict[int, dict[str, list[str]]] = {
        index: {name: list(messages) for name, messages in fields.items()}
        for index, fields in (known or {}).items() if fields}
    unread = {index for index, fields in errors.items() if RECORD_KEY in fields}
    required = [cf.name for cf in obj.fields.values() if cf.fdef.required and cf.ftype.writable]
    for index, (record, _, _) in enumerate(items):
        if index in unread:  # not a record at all (not a JSON object)
            continue
        for name in required:
            if _blank(record.get(name)) and name not in errors.get(index, {}):
                errors.setdefault(index, {}).setdefault(name, []).append("required")
    for cf in obj.fields.values():
        if cf.fdef.type not in ("lookup", "master_detail", "user"):
            continue
        wanted = {record[cf.name] for record, _, changed in items
                  if cf.name in changed and record.get(cf.name) is not None}
        if not wanted:
            continue
        found = _existing(ctx, cf.fdef.target, wanted)
        for index, (record, _, changed) in enumerate(items):
            value = record.get(cf.name)
            if cf.name in changed and value is not None and value not in found:
                message = (f"no active user named {value!r}" if cf.fdef.type == "user"
                           else f"no {cf.fdef.target} record with id {value}")
                errors.setdefault(index, {}).setdefault(cf.name, []).append(message)
    resolver = Resolver(ctx)
    reference_rules.check(ctx, obj, items, resolver.fetch, errors)
    for index, (record, prior, _) in enumerate(items):
        compute(ctx, obj, record, resolver)
        if not obj.rules or index in unread:
            continue
        context = resolver.context(obj, record, prior=prior, is_new=prior is None)
        bad = tainted(obj, errors.get(index, ()))
        for rule in obj.rules:
            if bad and reads(obj, rule) & bad:
                continue  # it reads a bad value: it cannot be judged yet
            try:
                failed = rule.condition.run(context)
            except FormulaError as err:
                log.warning("validation rule %s.%s: %s", obj.name, rule.api_name, err.message)
                continue
            if failed is True:
                errors.setdefault(index, {}).setdefault(rule.field or RECORD_KEY, []).append(
                    rule.message.get(ctx.language))
    if errors:
        raise _batch_error(obj, errors, len(items), ValidationError)
    taken = _unique_conflicts(ctx, obj, items)
    if taken:
        raise _batch_error(obj, taken, len(items), ConflictError)


def _existing(ctx: Context, target: str | None, wanted: set[Any]) -> set[Any]:
    """Which of the wanted ids (or user names, for target None) exist and may be linked:
    a record the actor may not see is reported like a missing one."""
    if target is None:
        column, table = users.c.name, users
        extra: list[ColumnElement[bool]] = [users.c.active.is_(True)]
    else:
        linked = ctx.schema.object(target)
        table = linked.table
        column, extra = table.c.id, record_scope.conditions(ctx.schema, ctx.actor, linked,
                                                            reading=False)
    found: set[Any] = set()
    values = sorted(wanted, key=str)
    for start in range(0, len(values), 500):
        chunk = values[start:start + 500]
        found.update(ctx.conn.execute(select(column).where(column.in_(chunk), *extra)).scalars())
    return found


def _unique_conflicts(ctx: Context, obj: CompiledObject,
                      items: Sequence[CheckItem]) -> dict[int, dict[str, list[str]]]:
    taken: dict[int, dict[str, list[str]]] = {}
    for cf in obj.fields.values():
        if not cf.fdef.unique:
            continue
        mine: dict[Any, list[int]] = {}
        for index, (record, _, changed) in enumerate(items):
            if cf.name in changed and record.get(cf.name) is not None:
                mine.setdefault(cf.ftype.to_db(cf.fdef, record[cf.name]), []).append(index)
        if not mine:
            continue
        own_ids = [prior["id"] for _, prior, _ in items if prior is not None]
        column = obj.table.c[cf.name]
        values = list(mine)
        used: set[Any] = set()
        for start in range(0, len(values), 500):
            query = select(column).where(column.in_(values[start:start + 500]))
            if own_ids:
                query = query.where(obj.table.c.id.not_in(own_ids))
            used.update(ctx.conn.execute(query).scalars())
        for value, indexes in mine.items():
            clash = indexes if value in used else indexes[1:]
            for index in clash:
                taken.setdefault(index, {})[cf.name] = [
                    f"{json_value(items[index][0][cf.name])!r} is already used by another "
                    f"{obj.name} record"]
    return taken


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == ()


def _check_lock(ctx: Context, obj: CompiledObject, record: Mapping[str, Any]) -> None:
    if record.get("locked") and not ctx.bypass_lock and not ctx.actor.is_admin:
        approved = record.get("approval_status") == "approved"
        why = "since its approval" if approved else "while its approval is pending"
        raise RecordLocked(f"{obj.name} {record['id']} is locked {why}",
                           details={"locked": "approved" if approved else "pending"})


def _insert(ctx: Context, obj: CompiledObject, rows: list[dict[str, Any]]) -> list[int]:
    """Insert rows (one statement, batched by the driver) and return their ids in order.
    A batch runs in a savepoint; one row is one INSERT, all or nothing by itself."""
    try:
        if len(rows) == 1:
            return [insert_one(ctx, obj, rows[0])]
        with ctx.conn.begin_nested():
            return insert_rows(ctx, obj, rows)
    except IntegrityError as err:
        # The checks above normally catch this; a concurrent writer may still win the race.
        raise ConflictError(f"the {obj.name} record conflicts with another one: "
                            f"{str(err.orig).splitlines()[0]}") from None


def _reload(ctx: Context, obj: CompiledObject, record_id: int) -> dict[str, Any]:
    row = ctx.conn.execute(select(obj.table).where(obj.table.c.id == record_id)).mappings().one()
    return compute(ctx, obj, obj.decode(row))


def _notify(ctx: Context, event: WriteEvent) -> None:
    for listener in ctx.listeners:
        listener(ctx, event)
