"""Automation rules: a trigger, a condition and actions, run inside the write that fired them.

After-save rules run once the record is written; before-save rules (`"timing":
"before_save"`) update the record itself inside the write, before its validation rules.
Time-based rules are scheduled as jobs (rescheduled when the date moves, cancelled on
delete) and run by the worker if their condition still holds.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from metabiz.errors import MetadataError, NotFound
from metabiz.flows import jobs
from metabiz.flows.actions import Action, Scope, compile_actions, run_actions
from metabiz.flows.actions.base import system_context, too_deep
from metabiz.flows.actions.update import Update
from metabiz.flows.compiled import flows_of
from metabiz.flows.definitions.model import AutomationRuleDef
from metabiz.flows.formula import FlowFormula, Subject, Where, input_value, load_record
from metabiz.flows.triggers import DateOffset, Trigger, trigger
from metabiz.formulas import FType
from metabiz.objects import records
from metabiz.objects.context import Context, WriteEvent
from metabiz.objects.drafts import Draft
from metabiz.objects.schema import RuntimeSchema
from metabiz.platform.access import SYSTEM

log = logging.getLogger(__name__)


class AutomationRule:
    """A compiled automation rule."""

    def __init__(self, rdef: AutomationRuleDef, schema: RuntimeSchema) -> None:
        self.name = rdef.api_name
        self.label = rdef.label
        self.object = rdef.object
        self.active = rdef.active
        where = Where(rdef.api_name)
        self.trigger: Trigger = trigger(rdef.trigger)
        self.condition = None
        if rdef.condition:
            self.condition = FlowFormula(schema, rdef.object, rdef.condition,
                                         where / "condition", expected=FType.BOOLEAN)
        self.actions: list[Action] = compile_actions(
            rdef.actions, Scope(schema, rdef.object, where / "actions"))
        self.before_save = rdef.timing == "before_save"
        if self.before_save:
            _refuse_for_before_save(rdef, where)

    @property
    def source(self) -> str:
        return f"automation {self.name}"

    def holds(self, subject: Subject) -> bool:
        return self.condition is None or self.condition.holds(subject)


BEFORE_SAVE_TRIGGERS = ("created", "updated", "field_changed")


def _refuse_for_before_save(rdef: AutomationRuleDef, where: Where) -> None:
    """A before-save rule runs on a record not written yet: it may only set its fields."""
    problems = []
    if rdef.trigger.kind not in BEFORE_SAVE_TRIGGERS:
        problems.append(f"{where / 'trigger'}: a before-save rule runs on \"created\", "
                        f"\"updated\" or \"field_changed\", not on {rdef.trigger.kind!r} "
                        "(use \"timing\": \"after_save\")")
    for index, action in enumerate(rdef.actions):
        if action.kind != "update":
            problems.append(f"{where / 'actions' / index / action.kind}: a before-save rule "
                            "may only update the record itself; move this action to an "
                            "after-save rule (\"timing\": \"after_save\")")
    if problems:
        raise MetadataError(problems)


def before_save(ctx: Context, draft: Draft) -> None:
    """The before-save hook: the object's before-save rules, in the order of their names,
    each seeing the updates of the ones before it; formula fields are computed again after
    each rule that changed something."""
    if draft.obj.name not in ctx.schema.objects:
        return
    rules = [r for r in flows_of(ctx.schema).automation_rules(draft.obj.name) if r.before_save]
    if not rules:
        return
    kind = "created" if draft.is_new else "updated"
    system = system_context(ctx)
    records.compute(ctx, draft.obj, draft.values)  # conditions may read formula fields
    for rule in sorted(rules, key=lambda r: r.name):
        event = WriteEvent(kind, draft.obj.name, draft.values.get("id") or 0, draft.prior,
                           draft.values, ctx.actor)
        subject = Subject(system, draft.obj, draft.values, prior=draft.prior,
                          is_new=draft.is_new)
        if not rule.trigger.fires(event) or not rule.holds(subject):
            continue
        for action in rule.actions:
            assert isinstance(action, Update)
            draft.set(ctx, {name: input_value(f.value(subject))
                            for name, f in action.values.items()})
            records.compute(ctx, draft.obj, draft.values)


def on_write(ctx: Context, event: WriteEvent, rules: list[AutomationRule]) -> None:
    """Run the rules a write fires and (re)schedule the time-based ones."""
    scheduled = [r for r in rules if r.trigger.scheduled]
    if scheduled:
        schedule(ctx, event, scheduled)
    firing = [r for r in rules if not r.trigger.scheduled and not r.before_save
              and r.trigger.fires(event)]
    if not firing:
        return
    if too_deep(ctx, f"{', '.join(r.name for r in firing)} on {event.object} "
                     f"{event.record_id}"):
        return
    system = system_context(ctx)
    obj = ctx.schema.object(event.object)
    # the record as it is now: an earlier listener (assignment on create) may have changed it
    values = dict(event.before or {}) if event.kind == "deleted" else \
        load_record(system, obj, event.record_id)
    subject = Subject(system, obj, values,
                      prior=event.before if event.kind == "updated" else None,
                      is_new=event.kind == "created")
    for rule in firing:
        if rule.holds(subject):
            run_actions(rule.actions, subject, source=rule.source, event=event.kind)


# -- time-based rules ----------------------------------------------------------------------


def schedule(ctx: Context, event: WriteEvent, rules: list[AutomationRule]) -> None:
    for rule in rules:
        schedule_record(ctx, rule, event.object, event.record_id,
                        event.after if event.kind != "deleted" else None)


def schedule_record(ctx: Context, rule: AutomationRule, object_name: str, record_id: int,
                    values: Mapping[str, Any] | None) -> None:
    """Make the rule's job for this record run at the time its date gives now (cancelled
    when the record is gone or its date blank)."""
    assert isinstance(rule.trigger, DateOffset)
    ref = f"{rule.name}:{object_name}:{record_id}"
    due = rule.trigger.due(values) if values is not None else None
    if due is None:
        jobs.cancel(ctx.conn, ref=ref)
        return
    key = f"time:{ref}:{due.isoformat()}"
    jobs.cancel(ctx.conn, ref=ref, keep_key=key)
    jobs.reschedule(ctx.conn, "time_rule", {
        "rule": rule.name, "object": object_name, "record_id": record_id,
        "due": due.isoformat()}, run_at=due, now=ctx.now, key=key, ref=ref)


@jobs.register
class TimeRuleJob(jobs.JobKind):
    """Runs a time-based rule on its record, if the record, the rule and the due time
    are still the same and the condition holds."""

    name = "time_rule"

    def run(self, job: jobs.Job, env: jobs.JobEnv) -> None:
        assert env.conn is not None
        payload = job.payload
        ctx = env.runtime.context(env.conn, SYSTEM, now=env.now, bypass_lock=True)
        rule = flows_of(ctx.schema).automation_rule(payload["rule"])
        if rule is None or not rule.active or not isinstance(rule.trigger, DateOffset) \
                or rule.object != payload["object"] or rule.object not in ctx.schema.objects:
            log.info("time-based job %s: rule %s is gone or changed; skipped", job.id,
                     payload["rule"])
            return
        obj = ctx.schema.object(rule.object)
        try:
            values = load_record(ctx, obj, payload["record_id"])
        except NotFound:
            return
        due = rule.trigger.due(values)
        if due != dt.datetime.fromisoformat(payload["due"]) or due > env.now:
            # the date moved (a formula date whose lookup changed, too): follow it
            schedule_record(ctx, rule, obj.name, values["id"], values)
            return
        if rule.trigger.passed(values, env.now):
            log.info("time-based job %s: %s on %s %s is out of date (the worker ran late); "
                     "skipped", job.id, rule.name, obj.name, values["id"])
            return
        subject = Subject(ctx, obj, values)
        if rule.holds(subject):
            run_actions(rule.actions, subject, source=rule.source, event="scheduled")
