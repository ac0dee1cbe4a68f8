"""Time-based rules whose date reads another record through a lookup (a ticket's SLA due
time from its contract's level): a write to that record moves the jobs of the records that
point to it, so the date a job waits for is always the one its record shows.

Lookups are followed one level deep from the rule's object, through its formula fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from sqlalchemy import select

from metabiz.flows.automation import AutomationRule, schedule_record
from metabiz.flows.formula import load_record
from metabiz.flows.triggers import DateOffset
from metabiz.objects.context import Context, WriteEvent
from metabiz.objects.schema import CompiledObject


def reads_through(obj: CompiledObject, field: str) -> set[tuple[str, str, str]]:
    """(lookup field, target object, target field) that the value of `field` reads,
    following the object's own formula fields."""
    links: set[tuple[str, str, str]] = set()
    seen: set[str] = set()
    todo = [field]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        cf = obj.fields.get(name)
        if cf is None or cf.formula is None:
            continue
        for path in cf.formula.checked.references:
            link = obj.fields.get(path[0])
            if len(path) > 1 and link is not None and link.fdef.target:
                links.add((path[0], link.fdef.target, path[1]))
            else:
                todo.append(path[0])
    return links


def _following(rules: Iterable[AutomationRule], ctx: Context,
               object_name: str) -> Iterator[tuple[AutomationRule, str, set[str]]]:
    """The time-based rules whose date reads `object_name` through a lookup: each with the
    lookup field and the fields of `object_name` it reads."""
    for rule in rules:
        if not isinstance(rule.trigger, DateOffset) or rule.object not in ctx.schema.objects:
            continue
        obj = ctx.schema.object(rule.object)
        by_link: dict[str, set[str]] = {}
        for link, target, field in reads_through(obj, rule.trigger.field):
            if target == object_name:
                by_link.setdefault(link, set()).add(field)
        for link, fields in by_link.items():
            yield rule, link, fields


def on_write(ctx: Context, event: WriteEvent, rules: Iterable[AutomationRule]) -> None:
    """Reschedule the jobs of the records whose rule date reads the changed record."""
    if event.kind != "updated":
        return  # a new record has no referrers yet; deleting one nulls or refuses links
    changed = event.changed()
    for rule, link, fields in _following(rules, ctx, event.object):
        if not fields & changed:
            continue
        obj = ctx.schema.object(rule.object)
        column = obj.table.c[link]
        ids = ctx.conn.execute(select(obj.table.c.id).where(column == event.record_id)
                               .order_by(obj.table.c.id)).scalars().all()
        for record_id in ids:
            schedule_record(ctx, rule, obj.name, record_id,
                            load_record(ctx, obj, record_id))
