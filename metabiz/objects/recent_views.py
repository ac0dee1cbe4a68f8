"""Recently viewed records: each user's last opened records (Salesforce's Recent Items),
recorded by the record page and listed on home.

One row per user and record in `sys_recent_views`, its time moved on every view; at most
KEPT rows per user (the oldest go). Listing keeps only the records the user may STILL read
(object right and record scope, as of now); a deleted record's rows go with it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from metabiz.objects import forms, record_scope
from metabiz.objects.context import Context, WriteEvent
from metabiz.platform.db import recent_views, utcnow

#: rows kept per user
KEPT = 50
#: records listed on home
SHOWN = 10


@dataclass(frozen=True)
class RecentRecord:
    """One recently viewed record as home lists it."""

    object: str
    record_id: int
    name: str
    object_label: str
    viewed_at: dt.datetime


def record_view(conn: Connection, user_name: str, object_name: str, record_id: int,
                at: dt.datetime | None = None) -> None:
    """Note that `user_name` opened the record now (or `at`), keeping their KEPT newest."""
    at = at or utcnow()
    dialect: Any = postgresql if conn.dialect.name == "postgresql" else sqlite
    insert = dialect.insert(recent_views).values(
        user_name=user_name, object=object_name, record_id=record_id, viewed_at=at)
    conn.execute(insert.on_conflict_do_update(
        index_elements=["user_name", "object", "record_id"], set_={"viewed_at": at}))
    # the (KEPT+1)-th newest view and any as old go (at most KEPT are left, even on a tie)
    oldest_kept = (select(recent_views.c.viewed_at)
                   .where(recent_views.c.user_name == user_name)
                   .order_by(recent_views.c.viewed_at.desc()).offset(KEPT).limit(1)
                   .scalar_subquery())
    conn.execute(delete(recent_views).where(recent_views.c.user_name == user_name,
                                            recent_views.c.viewed_at <= oldest_kept))


def recent(ctx: Context, limit: int = SHOWN) -> list[RecentRecord]:
    """The actor's most recently viewed records, newest first, that they may still read:
    records deleted since, out of their scope now, or of objects they can no longer read
    (or that are gone from the metadata) are left out."""
    rows = ctx.conn.execute(
        select(recent_views.c.object, recent_views.c.record_id, recent_views.c.viewed_at)
        .where(recent_views.c.user_name == ctx.actor.name)
        .order_by(recent_views.c.viewed_at.desc(), recent_views.c.object,
                  recent_views.c.record_id.desc())
        .limit(KEPT)).all()
    wanted: dict[str, set[Any]] = {}
    for row in rows:
        if row.object in ctx.schema.objects:
            wanted.setdefault(row.object, set()).add(row.record_id)
    names = forms.lookup_names(ctx, wanted, scoped=True)
    for object_name, ids in wanted.items():
        names.update(_unnamed(ctx, object_name, ids))
    out: list[RecentRecord] = []
    for row in rows:
        name = names.get((row.object, row.record_id))
        if name is None:
            continue
        obj = ctx.schema.objects[row.object]
        out.append(RecentRecord(row.object, row.record_id, name,
                                obj.odef.label.get(ctx.language), row.viewed_at))
        if len(out) == limit:
            break
    return out


def _unnamed(ctx: Context, object_name: str, ids: set[Any]) -> dict[tuple[str, Any], str]:
    """The records of an object whose name field is hidden from the actor (lookup_names
    leaves them out): still listed, as "Label #id", when the actor may read them."""
    obj = ctx.schema.objects[object_name]
    access = ctx.schema.access
    if not obj.odef.name_field or not access.allowed(ctx.actor, obj.name, "read") or \
            access.field_rule(ctx.actor, obj.name, obj.odef.name_field) != "hidden":
        return {}
    found = ctx.conn.execute(select(obj.table.c.id).where(
        obj.table.c.id.in_(sorted(ids)),
        *record_scope.conditions(ctx.schema, ctx.actor, obj))).scalars()
    return {(obj.name, record_id): forms.record_name(obj, {"id": record_id}, ctx.language)
            for record_id in found}


def on_write(ctx: Context, event: WriteEvent) -> None:
    """A deleted record leaves everyone's recent views (a write listener)."""
    if event.kind == "deleted":
        ctx.conn.execute(delete(recent_views).where(recent_views.c.object == event.object,
                                                    recent_views.c.record_id == event.record_id))
