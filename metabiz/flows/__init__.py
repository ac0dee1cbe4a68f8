"""The flow engine: approval processes, automation rules, assignment rules, jobs, worker.

`write_listeners()` is what the composition roots pass into every records.Context, so
automation, assignment and approval clean-up run for every write, whatever its source.
"""

from __future__ import annotations

from pathlib import Path

from metabiz.objects.records import Context, Listener, WriteEvent
from metabiz.platform.extensions import Extensions

#: the flow tables' Alembic revisions (branch `flows`)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def register(ext: Extensions) -> None:
    """Plug the flow engine into the kernel at start-up."""
    ext.add_migrations(MIGRATIONS)


def on_write(ctx: Context, event: WriteEvent) -> None:
    """The one write listener: approvals of deleted records, assignment on create,
    automation rules (immediate and time-based)."""
    from metabiz.flows import approvals, automation
    from metabiz.flows.actions.base import system_context
    from metabiz.flows.assignment import set_owner
    from metabiz.flows.compiled import flows_of
    from metabiz.flows.formula import Subject, load_record

    if event.object not in ctx.schema.objects:
        return
    compiled = flows_of(ctx.schema)
    if event.kind == "deleted":
        approvals.on_record_deleted(ctx, event)
    elif event.kind == "created":
        for rule in compiled.assignment_rules(event.object):
            if rule.active and rule.on_create:
                system = system_context(ctx)
                obj = ctx.schema.object(event.object)
                subject = Subject(system, obj, load_record(system, obj, event.record_id),
                                  is_new=True)
                user = rule.choose(subject)
                if user is not None:
                    set_owner(subject, user)
                break
    rules = compiled.automation_rules(event.object)
    if rules:
        automation.on_write(ctx, event, rules)


def write_listeners() -> list[Listener]:
    """The listeners every records.Context should carry."""
    return [on_write]


def check_flows(schema: object) -> list[str]:
    """Problems of the flows of a RuntimeSchema (for `metabiz apply`), as
    `flows/<name>.json: /path: message` lines; empty when all compile."""
    from metabiz.flows.compiled import check_flows as check

    return check(schema)  # type: ignore[arg-type]


__all__ = ["MIGRATIONS", "check_flows", "on_write", "register", "write_listeners"]
