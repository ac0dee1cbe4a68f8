"""A compiled approval flow: entry condition, steps with approvers and modes, actions.

Built from `ApprovalFlowDef` once per metadata version (see flows/compiled.py).
"""

from __future__ import annotations

from typing import ClassVar

from metabiz.flows import directory
from metabiz.flows.actions import Action, Scope, compile_actions
from metabiz.flows.definitions.model import ApprovalFlowDef, ApprovalStepDef
from metabiz.flows.formula import FlowFormula, Subject, Where
from metabiz.flows.recipients import Recipient, recipient, resolve_all
from metabiz.formulas import FType
from metabiz.objects.schema import RuntimeSchema
from metabiz.platform.metadata.model import Label

EVENTS = ("on_submit", "on_approve", "on_reject", "on_recall")


class Mode:
    """How a step's approvers decide: one class per mode."""

    name: ClassVar[str]

    def decided(self, approved: int, pending: int) -> bool:
        """Whether the step is approved after an approval (a rejection always decides)."""
        raise NotImplementedError


class AnyMode(Mode):
    """或签: the first approval decides the step."""

    name = "any"

    def decided(self, approved: int, pending: int) -> bool:
        return approved > 0


class AllMode(Mode):
    """会签: every approver must approve."""

    name = "all"

    def decided(self, approved: int, pending: int) -> bool:
        return pending == 0


MODES: dict[str, Mode] = {m.name: m for m in (AnyMode(), AllMode())}


class Step:
    def __init__(self, sdef: ApprovalStepDef, index: int, schema: RuntimeSchema,
                 object_name: str, where: Where) -> None:
        self.name = sdef.api_name
        self.label: Label = sdef.label
        self.index = index
        self.mode = MODES[sdef.mode]
        self.condition = None
        if sdef.condition:
            self.condition = FlowFormula(schema, object_name, sdef.condition,
                                         where / "condition", expected=FType.BOOLEAN)
        self.approvers: list[Recipient] = [recipient(a.kind, a.value) for a in sdef.approvers]

    def applies(self, subject: Subject) -> bool:
        return self.condition is None or self.condition.holds(subject)

    def resolve(self, subject: Subject, submitter: str, submitter_approver: str) -> list[str]:
        """The step's approvers for this record; with `manager`, a submitter who would
        approve their own request is replaced by their manager (when they have one)."""
        names = resolve_all(self.approvers, subject)
        if submitter_approver == "manager" and submitter in names:
            manager = directory.manager_of(subject.ctx.conn, submitter)
            if manager is not None:
                names = list(dict.fromkeys(manager if n == submitter else n for n in names))
        return names

    def describe_approvers(self) -> str:
        return ", ".join(a.describe() for a in self.approvers)


class ApprovalFlow:
    def __init__(self, fdef: ApprovalFlowDef, schema: RuntimeSchema) -> None:
        self.name = fdef.api_name
        self.object = fdef.object
        self.label: Label = fdef.label
        self.active = fdef.active
        self.lock_record = fdef.lock_record
        self.lock_after_approval = fdef.lock_after_approval
        self.resubmit_on_change = frozenset(fdef.resubmit_on_change)
        self.submitter_approver = fdef.submitter_approver
        where = Where(fdef.api_name)
        self.entry_source = fdef.entry_condition
        self.entry = None
        if fdef.entry_condition:
            self.entry = FlowFormula(schema, fdef.object, fdef.entry_condition,
                                     where / "entry_condition", expected=FType.BOOLEAN)
        self.steps = [Step(s, i, schema, fdef.object, where / "steps" / i)
                      for i, s in enumerate(fdef.steps)]
        self.actions: dict[str, list[Action]] = {
            event: compile_actions(getattr(fdef, event), Scope(schema, fdef.object, where / event))
            for event in EVENTS}

    @property
    def source(self) -> str:
        return f"approval {self.name}"

    def admits(self, subject: Subject) -> bool:
        return self.entry is None or self.entry.holds(subject)

    def step(self, index: int | None) -> Step | None:
        if index is None or not 0 <= index < len(self.steps):
            return None
        return self.steps[index]
