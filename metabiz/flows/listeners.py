"""The flows' one write listener: runs inside every record write, whatever its source.

It removes the approvals of deleted records, applies assignment rules on create and runs
the object's automation rules (immediate ones now, time-based ones as jobs).
"""

from __future__ import annotations

from metabiz.flows import approvals, automation, date_follow
from metabiz.flows.actions.base import system_context
from metabiz.flows.assignment import set_owner
from metabiz.flows.compiled import flows_of
from metabiz.flows.formula import Subject, load_record
from metabiz.objects.context import Context, WriteEvent


def on_write(ctx: Context, event: WriteEvent) -> None:
    """The one write listener: approvals of deleted records, assignment on create,
    automation rules (immediate and time-based)."""
    if event.object not in ctx.schema.objects:
        return
    compiled = flows_of(ctx.schema)
    if event.kind == "deleted":
        approvals.on_record_deleted(ctx, event)
    elif event.kind == "updated":
        approvals.on_record_updated(ctx, event)
    elif event.kind == "created":
        for rule in compiled.assignment_rules(event.object):
            if rule.active and rule.on_create:
                system = system_context(ctx)
                obj = ctx.schema.object(event.object)
                subject = Subject(system, obj, load_record(system, obj, event.record_id),
                                  is_new=True)
                user = rule.choose(subject)
                if user is not None:
                    set_owner(subject, user, rule=rule, acting=ctx.actor.name)
                break
    rules = compiled.automation_rules(event.object)
    if rules:
        automation.on_write(ctx, event, rules)
    date_follow.on_write(ctx, event, compiled.time_based_rules())
