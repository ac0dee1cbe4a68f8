"""Public pools (公海) and owner transfers: claim, return, assign and transfer records.

Each is one `records.update` (the one write path) setting `owner` and `pool`, its history
rows marked with the kind (claim, return, assign, transfer) and a return's reason.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Text, cast, func, select, text

from metabiz.errors import (
    ClaimLimitReached,
    ConflictError,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from metabiz.objects import records
from metabiz.objects.context import Context
from metabiz.objects.schema import CompiledObject
from metabiz.platform.db import field_history, users
from metabiz.platform.metadata.model import PoolDef
from metabiz.platform.metadata.reserved import POOL_COLUMN

#: the advisory lock space of claims (PostgreSQL's two-key locks never meet one-key ones)
CLAIM_LOCKS = 0x706F6F6C  # "pool"
#: the history kinds of an owner change, in the words the timeline uses
KINDS = ("claim", "return", "assign", "transfer")


@dataclass(frozen=True)
class PoolRef:
    """A pool of an object, as pages and navigation name it."""

    object_name: str
    pool: PoolDef


def pool_of(ctx: Context, object_name: str, pool_name: str) -> tuple[CompiledObject, PoolDef]:
    """The object and its pool, when the actor is a member or admin of it; 404 otherwise
    (a pool one is not a member of is not there for them)."""
    obj = ctx.schema.object(object_name)
    pool = obj.odef.pool(pool_name)
    if pool is None or not ctx.schema.access.pool_member(ctx.actor, obj.name, pool.api_name):
        raise NotFound(f"no pool {pool_name!r} on {obj.name}")
    return obj, pool


def my_pools(ctx: Context) -> list[PoolRef]:
    """Every pool the actor is a member or admin of, object by object."""
    access = ctx.schema.access
    return [PoolRef(obj.name, pool) for obj in ctx.schema.objects.values()
            for pool in obj.odef.pools
            if access.allowed(ctx.actor, obj.name, "read")
            and access.pool_member(ctx.actor, obj.name, pool.api_name)]


def held_from(ctx: Context, obj: CompiledObject, pool: str, owner: str) -> int:
    """How many records `owner` holds that last left `pool` (claimed or assigned, not
    returned since): what its claim limit counts."""
    last_pool_row = (select(field_history.c.old_value)
                     .where(field_history.c.object == obj.name,
                            field_history.c.record_id == obj.table.c.id,
                            field_history.c.field == POOL_COLUMN)
                     .order_by(field_history.c.id.desc()).limit(1)
                     .correlate(obj.table).scalar_subquery())
    # one owner holds few records: a look-up of each one's last pool change is cheapest
    return int(ctx.conn.execute(
        select(func.count()).select_from(obj.table)
        .where(obj.table.c.owner == owner, *_held(obj, last_pool_row, pool))).scalar_one())


def holdings(ctx: Context, obj: CompiledObject, pool: str) -> dict[str, int]:
    """`held_from` of everyone holding records from `pool`, by user name, in one grouped
    statement: each record's last pool change found once for all, not per owned record."""
    pool_changes = (select(func.max(field_history.c.id).label("id"))
                    .where(field_history.c.object == obj.name,
                           field_history.c.field == POOL_COLUMN)
                    .group_by(field_history.c.record_id).subquery())
    last = field_history.alias("last_pool_change")
    rows = ctx.conn.execute(
        select(obj.table.c.owner, func.count())
        .select_from(obj.table.join(last, last.c.record_id == obj.table.c.id)
                     .join(pool_changes, pool_changes.c.id == last.c.id))
        .where(obj.table.c.owner.is_not(None), *_held(obj, last.c.old_value, pool))
        .group_by(obj.table.c.owner))
    return {str(owner): int(count) for owner, count in rows}


def _held(obj: CompiledObject, left: ColumnElement[Any], pool: str) -> list[ColumnElement[bool]]:
    """Held from `pool`: the record is out of every pool and `left`, the pool its last pool
    change took it out of, is `pool`."""
    return [obj.table.c[POOL_COLUMN].is_(None), cast(left, Text) == json.dumps(pool)]


def claim(ctx: Context, object_name: str, record_id: Any) -> dict[str, Any]:
    """The actor takes a record of a pool they are a member of (409 `claim_limit` when they
    hold as many from it as its limit allows, 409 when someone claimed it first)."""
    obj, record, pool = _pooled(ctx, object_name, record_id)
    if pool.claim_limit is not None:
        _one_claim_at_a_time(ctx, obj, pool, ctx.actor.name)
        held = held_from(ctx, obj, pool.api_name, ctx.actor.name)
        if held >= pool.claim_limit:
            raise ClaimLimitReached(
                f"you already hold {held} records from {pool.label.get(ctx.language)}; "
                f"the limit is {pool.claim_limit}: return one before claiming another",
                details={"limit": pool.claim_limit, "held": held})
    return records.update(ctx, obj.name, record["id"], {}, kind="claim",
                          system={"owner": ctx.actor.name, POOL_COLUMN: None})


def assign(ctx: Context, object_name: str, record_id: Any, owner: Any) -> dict[str, Any]:
    """A pool admin gives a pooled record to a user (403 for members, 422 for an unknown or
    deactivated user). The claim limit governs members' claims, not an admin's assigning:
    `assign_many` also tells who holds more than it afterwards."""
    return _assign(ctx, object_name, record_id, owner)[0]


@dataclass(frozen=True)
class Assigned:
    """Records a pool admin assigned, and the assignees now above a pool's claim limit."""

    records: list[dict[str, Any]]
    above_limit: list[AboveLimit]


def assign_many(ctx: Context, object_name: str, ids: Iterable[Any], owner: Any) -> Assigned:
    """Assign pooled records to one user, all or nothing (as `assign`); the warnings name
    the assignee once per pool whose claim limit they are now above."""
    done, touched = [], {}
    for record_id in dict.fromkeys(str(i) for i in ids):
        record, pool = _assign(ctx, object_name, record_id, owner)
        done.append(record)
        touched[pool.api_name] = pool
    obj = ctx.schema.object(object_name)
    return Assigned(done, [a for pool in touched.values()
                           for a in above_limit(ctx, obj, pool, [owner])])


def _assign(ctx: Context, object_name: str, record_id: Any,
            owner: Any) -> tuple[dict[str, Any], PoolDef]:
    obj, record, pool = _pooled(ctx, object_name, record_id)
    if not ctx.schema.access.pool_admin(ctx.actor, obj.name, pool.api_name):
        raise PermissionDenied(f"only the admins of {pool.label.get(ctx.language)} may "
                               "assign its records")
    _active_user(ctx, owner)
    return records.update(ctx, obj.name, record["id"], {}, kind="assign",
                          system={"owner": owner, POOL_COLUMN: None}), pool


@dataclass(frozen=True)
class AboveLimit:
    """A user who holds more records from a pool than its claim limit lets members claim."""

    owner: str
    held: int
    limit: int

    pool: PoolDef

    def to_json(self) -> dict[str, Any]:
        pool = self.pool
        return {"code": "above_claim_limit", "owner": self.owner, "pool": pool.api_name,
                "held": self.held, "limit": self.limit,
                "message": f"{self.owner} now holds {self.held} records from "
                           f"{pool.label.get('en')}, above its claim limit of {self.limit}"}


def above_limit(ctx: Context, obj: CompiledObject, pool: PoolDef,
                owners: Iterable[str]) -> list[AboveLimit]:
    """Which of `owners` hold more records from `pool` than its claim limit (none without a
    limit), in the order given."""
    if pool.claim_limit is None:
        return []
    out = []
    for owner in dict.fromkeys(owners):
        held = held_from(ctx, obj, pool.api_name, owner)
        if held > pool.claim_limit:
            out.append(AboveLimit(owner, held, pool.claim_limit, pool))
    return out


def return_to_pool(ctx: Context, object_name: str, record_id: Any, *,
                   reason: Any = None, pool: str | None = None,
                   automation: str | None = None) -> dict[str, Any]:
    """The owner (or a pool admin) puts a record back into a pool with a reason.

    Without `pool` the record goes back to the pool it last came from, else to the object's
    first pool. A pool with `return_reasons` requires one of them from people; `automation`
    (the rule's name) returns any record, its reason optional.
    """
    obj = ctx.schema.object(object_name)
    if not obj.odef.pools:
        raise NotFound(f"{obj.name} has no public pool")
    record = records.load(ctx, obj, record_id, for_update=True)
    if record.get(POOL_COLUMN):
        raise ConflictError(f"{_name(obj, record)} is in a pool already")
    target = _target_pool(ctx, obj, record, pool)
    if automation is None and record.get("owner") != ctx.actor.name \
            and not ctx.schema.access.pool_admin(ctx.actor, obj.name, target.api_name):
        raise PermissionDenied(f"only the owner of {_name(obj, record)} or an admin of "
                               f"{target.label.get(ctx.language)} may return it")
    note = _reason(ctx, target, reason) if automation is None else (reason or automation)
    return records.update(ctx, obj.name, record["id"], {}, kind="return", note=note,
                          system={"owner": None, POOL_COLUMN: target.api_name})


def transfer(ctx: Context, object_name: str, ids: Any, owner: Any) -> list[dict[str, Any]]:
    """Give records to another user: the edit right on each, all or nothing (422 for an
    unknown or deactivated user; a pooled record is claimed or assigned, not transferred)."""
    obj = ctx.schema.object(object_name)
    ctx.schema.access.require(ctx.actor, obj.name, "edit")
    if not isinstance(ids, list) or not ids:
        raise ValidationError("choose the records to transfer",
                              fields={"ids": ["a non-empty list of record ids"]})
    _active_user(ctx, owner)
    done = []
    for record_id in dict.fromkeys(str(i) for i in ids):
        record = records.load(ctx, obj, record_id, for_update=True)
        if record.get(POOL_COLUMN):
            raise ConflictError(f"{_name(obj, record)} is in a public pool: claim or assign "
                                "it instead")
        done.append(records.update(ctx, obj.name, record["id"], {"owner": owner},
                                   kind="transfer"))
    return done


def pool_entries(ctx: Context, obj: CompiledObject,
                 ids: Iterable[int]) -> dict[int, Mapping[str, Any]]:
    """When each of these pooled records entered its pool, who held it before and why it
    was returned: the latest return row of each (none for records created in a pool)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = ctx.conn.execute(
        select(field_history).where(field_history.c.object == obj.name,
                                    field_history.c.record_id.in_(wanted),
                                    field_history.c.field == "owner",
                                    field_history.c.kind == "return")
        .order_by(field_history.c.id)).mappings()
    return {int(r["record_id"]): {"at": r["changed_at"], "previous_owner": r["old_value"],
                                  "reason": r["note"]} for r in rows}


# -- the parts ---------------------------------------------------------------------------


def _pooled(ctx: Context, object_name: str,
            record_id: Any) -> tuple[CompiledObject, dict[str, Any], PoolDef]:
    obj = ctx.schema.object(object_name)
    record = records.load(ctx, obj, record_id, for_update=True)
    name = record.get(POOL_COLUMN)
    pool = obj.odef.pool(name) if name else None
    if pool is None:
        who = f" (it belongs to {record['owner']})" if record.get("owner") else ""
        raise ConflictError(f"{_name(obj, record)} is not in a public pool{who}")
    if not ctx.schema.access.pool_member(ctx.actor, obj.name, pool.api_name):
        raise PermissionDenied(f"you are not a member of {pool.label.get(ctx.language)}")
    return obj, record, pool


def _one_claim_at_a_time(ctx: Context, obj: CompiledObject, pool: PoolDef, user: str) -> None:
    """Make the claims of one user from one pool wait for each other until commit, so two at
    once cannot both count the same holdings and pass the limit together. PostgreSQL: a
    transaction-scoped advisory lock on (object, pool, user); SQLite's writers already hold
    the database's write lock (`BEGIN IMMEDIATE`)."""
    if ctx.conn.dialect.name != "postgresql":
        return
    digest = hashlib.blake2b(f"{obj.name}|{pool.api_name}|{user}".encode(), digest_size=4)
    ctx.conn.execute(text("SELECT pg_advisory_xact_lock(:space, :key)"),
                     {"space": CLAIM_LOCKS, "key": int.from_bytes(digest.digest(), "big",
                                                                  signed=True)})


def _target_pool(ctx: Context, obj: CompiledObject, record: Mapping[str, Any],
                 name: str | None) -> PoolDef:
    if name is not None:
        found = obj.odef.pool(name) if isinstance(name, str) else None
        if found is None:
            raise ValidationError(f"no pool {name!r} on {obj.name}",
                                  fields={"pool": [f"unknown pool {name!r}"]})
        return found
    came_from = ctx.conn.execute(
        select(field_history.c.old_value)
        .where(field_history.c.object == obj.name, field_history.c.record_id == record["id"],
               field_history.c.field == POOL_COLUMN)
        .order_by(field_history.c.id.desc()).limit(1)).scalar()
    found = obj.odef.pool(came_from) if isinstance(came_from, str) else None
    return found or obj.odef.pools[0]


def _reason(ctx: Context, pool: PoolDef, reason: Any) -> str | None:
    if reason is not None and not isinstance(reason, str):
        raise ValidationError("the reason must be text", fields={"reason": ["not a text"]})
    reason = (reason or "").strip() or None
    if pool.return_reasons:
        if reason is None or pool.reason(reason) is None:
            choices = ", ".join(r.value for r in pool.return_reasons)
            raise ValidationError(f"choose why you return it: {choices}",
                                  fields={"reason": [f"one of {choices}"]})
    elif reason is not None and len(reason) > 500:
        raise ValidationError("the reason is too long", fields={"reason": ["at most 500 characters"]})
    return reason


def _active_user(ctx: Context, name: Any) -> None:
    found = isinstance(name, str) and ctx.conn.execute(
        select(users.c.id).where(users.c.name == name, users.c.active.is_(True))).first()
    if not found:
        raise ValidationError(f"no active user named {name!r}",
                              fields={"owner": [f"no active user named {name!r}"]})


def _name(obj: CompiledObject, record: Mapping[str, Any]) -> str:
    name_field = obj.odef.name_field
    value = record.get(name_field) if name_field else None
    return f"{obj.odef.label.get()} {value!s}" if value else f"{obj.odef.label.get()} #{record['id']}"


def pool_filter(pool: PoolDef, extra: str | None = None) -> str:
    """A list filter formula keeping the records of `pool` (and `extra`, when given)."""
    own = f'{POOL_COLUMN} = "{pool.api_name}"'
    return f"({own}) && ({extra})" if extra and extra.strip() else own
