"""What every flow action shares: compiling its parameters and running it on a record.

An action is one class with a `name` (its JSON key) and a JSON `schema`; synchronous
actions write through the record service as the system, the others enqueue jobs.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from metabiz.flows.definitions.model import ActionDef
from metabiz.flows.formula import FlowFormula, Subject, Where
from metabiz.formulas import FType
from metabiz.objects.context import Context
from metabiz.objects.schema import RuntimeSchema
from metabiz.platform.access import SYSTEM

log = logging.getLogger(__name__)

ACTIONS_SCHEMA = "https://metabiz.dev/schemas/v1/actions.json"
#: where the nesting depth of automation is counted (in the unit of work's cache)
DEPTH_KEY = "metabiz.flows.depth"
#: automation started by automation stops at this depth (with a logged error)
MAX_DEPTH = 5


@dataclass(frozen=True)
class Scope:
    """What compiling an action needs: the schema, the object its formulas see, where it is."""

    schema: RuntimeSchema
    object_name: str
    where: Where

    def formula(self, source: str, *parts: str | int,
                expected: FType | None = None) -> FlowFormula:
        where = self.where
        for part in parts:
            where = where / part
        return FlowFormula(self.schema, self.object_name, source, where, expected=expected)


@dataclass
class Run:
    """One execution of an action: the record (seen by the system) and why it runs."""

    subject: Subject
    source: str  # "automation won_followup", "approval discount_approval"
    event: str  # created | updated | deleted | scheduled | submitted | approved | ...

    @property
    def ctx(self) -> Context:
        return self.subject.ctx


class Action:
    """One action kind. `changes_record` tells the runner to re-read the record after it."""

    name: ClassVar[str]
    schema: ClassVar[dict[str, Any]]
    changes_record: ClassVar[bool] = False

    def __init__(self, where: Where) -> None:
        self.where = where

    @classmethod
    def compile(cls, params: Mapping[str, Any], scope: Scope) -> Action:
        raise NotImplementedError

    def run(self, run: Run) -> None:
        raise NotImplementedError


ACTIONS: dict[str, type[Action]] = {}


def register(cls: type[Action]) -> type[Action]:
    cls.schema = {"$ref": f"{ACTIONS_SCHEMA}#/$defs/action/properties/{cls.name}"}
    ACTIONS[cls.name] = cls
    return cls


def compile_actions(defs: Sequence[ActionDef], scope: Scope) -> list[Action]:
    return [ACTIONS[d.kind].compile(d.params, Scope(scope.schema, scope.object_name,
                                                    scope.where / i / d.kind))
            for i, d in enumerate(defs)]


def system_context(ctx: Context) -> Context:
    """The same unit of work acting as the system (may write locked records)."""
    if ctx.actor is SYSTEM and ctx.bypass_lock:
        return ctx
    return Context(ctx.conn, ctx.schema, SYSTEM, now=ctx.now, listeners=ctx.listeners,
                   before_save=ctx.before_save,
                   bypass_lock=True, cache=ctx.cache)


def run_actions(actions: Sequence[Action], subject: Subject, *, source: str, event: str) -> None:
    """Run actions in order on the record; one failing aborts the whole unit of work."""
    run = Run(subject, source, event)
    depth = subject.ctx.cache.get(DEPTH_KEY, 0)
    subject.ctx.cache[DEPTH_KEY] = depth + 1
    try:
        for action in actions:
            action.run(run)
            if action.changes_record and event != "deleted":
                subject.reload()
    finally:
        subject.ctx.cache[DEPTH_KEY] = depth


def too_deep(ctx: Context, what: str) -> bool:
    """True (and an error logged) when automation nests deeper than MAX_DEPTH."""
    depth = ctx.cache.get(DEPTH_KEY, 0)
    if depth < MAX_DEPTH:
        return False
    log.error("automation stopped at depth %s: %s would run again (a rule that re-triggers "
              "itself?)", MAX_DEPTH, what)
    return True
