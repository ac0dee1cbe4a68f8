"""Typed, frozen flow definitions: approval flows, automation rules and assignment rules.

Built from `flows/*.json` by builders.py once the schemas beside it passed; each `to_json()`
gives back the canonical JSON document (for versions and export).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from metabiz.platform.metadata.model import Label, set_unless_default


@dataclass(frozen=True)
class ActionDef:
    """One flow action: `update`, `create`, `assign`, `notify`, `webhook` or `return_to_pool`.

    `params` is the action's validated JSON body (its shape is fixed per kind by the
    schemas beside this module); flows/actions turns it into its action classes.
    """

    kind: str
    params: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {self.kind: dict(self.params)}


def _actions(out: dict[str, Any], key: str, actions: tuple[ActionDef, ...]) -> None:
    if actions:
        out[key] = [a.to_json() for a in actions]


@dataclass(frozen=True)
class ApproverDef:
    kind: str  # user | role | manager_of | field
    value: str

    def to_json(self) -> dict[str, Any]:
        return {self.kind: self.value}


@dataclass(frozen=True)
class ApprovalStepDef:
    api_name: str
    label: Label
    approvers: tuple[ApproverDef, ...]
    mode: str = "any"  # any (或签) | all (会签)
    condition: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"api_name": self.api_name, "label": self.label.to_json()}
        set_unless_default(out, "condition", self.condition)
        out["approvers"] = [a.to_json() for a in self.approvers]
        out["mode"] = self.mode
        return out


@dataclass(frozen=True)
class ApprovalFlowDef:
    api_name: str
    object: str
    label: Label
    steps: tuple[ApprovalStepDef, ...]
    entry_condition: str | None = None
    lock_record: bool = True
    active: bool = True
    submitter_approver: str = "allow"  # allow | manager
    #: an approved record stays locked
    lock_after_approval: bool = False
    #: editing one of these after approval sets approval_status back to none
    resubmit_on_change: tuple[str, ...] = ()
    on_submit: tuple[ActionDef, ...] = ()
    on_approve: tuple[ActionDef, ...] = ()
    on_reject: tuple[ActionDef, ...] = ()
    on_recall: tuple[ActionDef, ...] = ()
    kind: str = "approval"
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"api_name": self.api_name, "kind": self.kind,
                               "object": self.object, "label": self.label.to_json()}
        set_unless_default(out, "active", self.active, True)
        set_unless_default(out, "entry_condition", self.entry_condition)
        out["lock_record"] = self.lock_record
        set_unless_default(out, "lock_after_approval", self.lock_after_approval, False)
        if self.resubmit_on_change:
            out["resubmit_on_change"] = list(self.resubmit_on_change)
        set_unless_default(out, "submitter_approver", self.submitter_approver, "allow")
        out["steps"] = [s.to_json() for s in self.steps]
        _actions(out, "on_submit", self.on_submit)
        _actions(out, "on_approve", self.on_approve)
        _actions(out, "on_reject", self.on_reject)
        _actions(out, "on_recall", self.on_recall)
        return out


@dataclass(frozen=True)
class TriggerDef:
    kind: str  # created | updated | deleted | field_changed | before_date | after_date
    fields: tuple[str, ...] = ()  # field_changed
    date_field: str | None = None  # before_date / after_date
    days: float = 0

    @property
    def is_scheduled(self) -> bool:
        """Time-based (run by the worker) rather than fired by a write."""
        return self.kind in ("before_date", "after_date")

    def to_json(self) -> str | dict[str, Any]:
        if self.kind == "field_changed":
            return {"field_changed": list(self.fields)}
        if self.is_scheduled:
            return {self.kind: {"field": self.date_field, "days": self.days}}
        return self.kind


@dataclass(frozen=True)
class AutomationRuleDef:
    api_name: str
    object: str
    label: Label
    trigger: TriggerDef
    actions: tuple[ActionDef, ...]
    condition: str | None = None
    active: bool = True
    kind: str = "automation"
    #: "after_save", or "before_save": inside the write, before validation
    timing: str = "after_save"
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"api_name": self.api_name, "kind": self.kind,
                               "object": self.object, "label": self.label.to_json()}
        set_unless_default(out, "active", self.active, True)
        out["trigger"] = self.trigger.to_json()
        set_unless_default(out, "condition", self.condition)
        set_unless_default(out, "timing", self.timing, "after_save")
        out["actions"] = [a.to_json() for a in self.actions]
        return out


@dataclass(frozen=True)
class AssignmentEntryDef:
    condition: str | None
    assignee: Mapping[str, Any]  # {"user": N} | {"role": R, "strategy": "round_robin"|"least_loaded"}

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        set_unless_default(out, "condition", self.condition)
        out["assignee"] = dict(self.assignee)
        return out


@dataclass(frozen=True)
class AssignmentRuleDef:
    api_name: str
    object: str
    label: Label
    entries: tuple[AssignmentEntryDef, ...]
    active: bool = True
    #: run on every new record of the object (without an automation rule's assign action)
    on_create: bool = False
    kind: str = "assignment"
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"api_name": self.api_name, "kind": self.kind,
                               "object": self.object, "label": self.label.to_json()}
        set_unless_default(out, "active", self.active, True)
        set_unless_default(out, "on_create", self.on_create, False)
        out["entries"] = [e.to_json() for e in self.entries]
        return out


FlowDef = ApprovalFlowDef | AutomationRuleDef | AssignmentRuleDef
