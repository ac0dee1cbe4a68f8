"""Record access as SQL: the condition selecting the records of an object a user may read
and edit, with the records of detail objects controlled by their master.

A role's `record_access` gives `own` (the user's team's records) or `all`, and members of
an object's public pools see the pooled records. The records of a
detail object (one with a `master_detail` field) follow their master instead: whoever may
see the master sees its details, and a detail's own owner grants nothing beyond that
(Salesforce's "controlled by parent"); a detail with no master is its owner's. Object rights
(read, edit…) are checked apart.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.sql.elements import ColumnElement

from metabiz.objects.context import Context
from metabiz.objects.schema import CompiledObject, RuntimeSchema
from metabiz.platform.access import Actor

#: how many master-detail levels are followed (a detail of a detail of …)
MAX_LEVELS = 10


def masters(obj: CompiledObject) -> list[tuple[str, str]]:
    """(field, master object) for each master-detail field of `obj`."""
    return [(cf.name, cf.fdef.target) for cf in obj.fields.values()
            if cf.fdef.type == "master_detail" and cf.fdef.target]


def visible(schema: RuntimeSchema, actor: Actor, obj: CompiledObject,
            table: Any = None, *, reading: bool = True,
            level: int = 0) -> ColumnElement[bool] | None:
    """The WHERE condition on `table` (default: the object's table) limiting it to the
    records `actor` may see; None when they may see every record. `reading` adds what the
    registered read grants open (an approver's pending records): for reading, not editing."""
    table = obj.table if table is None else table
    own = _own(schema, actor, obj, table, reading=reading, level=level)
    if own is None or not reading:
        return own
    grants = [found for grant in schema.read_grants
              if (found := grant(actor, obj.name, table.c.id)) is not None]
    return or_(own, *grants) if grants else own


def _own(schema: RuntimeSchema, actor: Actor, obj: CompiledObject, table: Any, *,
         reading: bool, level: int) -> ColumnElement[bool] | None:
    # the owners in the actor's scope, and the public pools they are a member of
    owned = schema.access.record_filter(actor, obj.name, table)
    if owned is None:
        return None
    links = masters(obj)
    if not links or level >= MAX_LEVELS:
        return owned
    conditions = []
    for link, target in links:
        master = schema.objects.get(target)
        if master is None:
            continue
        alias = master.table.alias(f"master_{level}_{link}")
        through = visible(schema, actor, master, alias, reading=reading, level=level + 1)
        if through is None:
            continue  # every master is visible, so every detail of one is
        # a detail not (yet) under a master is its owner's, like any record
        conditions.append(or_(
            and_(table.c[link].is_(None), owned),
            exists(select(alias.c.id).where(alias.c.id == table.c[link], through))))
    if not conditions:
        return None
    return and_(*conditions) if len(conditions) > 1 else conditions[0]


def conditions(schema: RuntimeSchema, actor: Actor, obj: CompiledObject,
               table: Any = None, *, reading: bool = True) -> list[ColumnElement[bool]]:
    """`visible` as a list of WHERE conditions (empty when every record is visible)."""
    found = visible(schema, actor, obj, table, reading=reading)
    return [] if found is None else [found]


def can_read(ctx: Context, object_name: str, record_id: int) -> bool:
    """Whether the unit of work's actor may see this record (e.g. one just created, which
    an assignment rule may have given to someone else)."""
    obj = ctx.schema.object(object_name)
    query = select(obj.table.c.id).where(obj.table.c.id == record_id,
                                         *conditions(ctx.schema, ctx.actor, obj))
    return ctx.conn.execute(query).first() is not None
