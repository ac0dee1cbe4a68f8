"""JSON → frozen flow definitions, for documents whose schema (flow.json) already passed.

The canonical form spells defaults out: an assignee by role says its strategy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from metabiz.flows.definitions.model import (
    ActionDef,
    ApprovalFlowDef,
    ApprovalStepDef,
    ApproverDef,
    AssignmentEntryDef,
    AssignmentRuleDef,
    AutomationRuleDef,
    FlowDef,
    TriggerDef,
)
from metabiz.platform.metadata.model import Label


def _assignee(raw: Mapping[str, Any]) -> dict[str, Any]:
    """`{"role": R}` means round robin; the canonical form says so."""
    if "role" in raw:
        return {"role": raw["role"], "strategy": raw.get("strategy", "round_robin")}
    return dict(raw)


def _action(raw: Mapping[str, Any]) -> ActionDef:
    ((kind, params),) = raw.items()
    if kind == "assign":
        params = _assignee(params)
    if kind == "return_to_pool" and isinstance(params, str):
        params = {"pool": params}
    return ActionDef(kind, dict(params))


def _actions(raw: Iterable[Mapping[str, Any]] | None) -> tuple[ActionDef, ...]:
    return tuple(_action(a) for a in raw or ())


def _trigger(raw: str | Mapping[str, Any]) -> TriggerDef:
    if isinstance(raw, str):
        return TriggerDef(raw)
    ((kind, value),) = raw.items()
    if kind == "field_changed":
        return TriggerDef(kind, fields=tuple(value))
    return TriggerDef(kind, date_field=value["field"], days=value["days"])


def build_flow(d: Mapping[str, Any]) -> FlowDef:
    """The approval flow, automation rule or assignment rule a `flows/*.json` describes."""
    common: dict[str, Any] = {"api_name": d["api_name"], "object": d["object"],
                              "label": Label.of(d.get("label"), d["api_name"]),
                              "active": d.get("active", True), "raw": d}
    if d["kind"] == "approval":
        steps = tuple(
            ApprovalStepDef(s["api_name"], Label.of(s.get("label"), s["api_name"]),
                            tuple(ApproverDef(*next(iter(a.items()))) for a in s["approvers"]),
                            s.get("mode", "any"), s.get("condition"))
            for s in d["steps"])
        return ApprovalFlowDef(
            steps=steps, entry_condition=d.get("entry_condition"),
            lock_record=d.get("lock_record", True),
            lock_after_approval=d.get("lock_after_approval", False),
            resubmit_on_change=tuple(d.get("resubmit_on_change", ())),
            submitter_approver=d.get("submitter_approver", "allow"),
            on_submit=_actions(d.get("on_submit")), on_approve=_actions(d.get("on_approve")),
            on_reject=_actions(d.get("on_reject")), on_recall=_actions(d.get("on_recall")),
            **common)
    if d["kind"] == "automation":
        return AutomationRuleDef(trigger=_trigger(d["trigger"]), actions=_actions(d["actions"]),
                                 condition=d.get("condition"),
                                 timing=d.get("timing", "after_save"), **common)
    entries = tuple(AssignmentEntryDef(e.get("condition"), _assignee(e["assignee"]))
                    for e in d["entries"])
    return AssignmentRuleDef(entries=entries, on_create=d.get("on_create", False), **common)
