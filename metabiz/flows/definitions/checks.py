"""Cross-document checks of flow definitions: the objects, fields, users and assignment rules
they name, through the kernel's DocumentChecker (formulas are checked when compiled).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from metabiz.flows.definitions.model import (
    ActionDef,
    ApprovalFlowDef,
    AssignmentRuleDef,
    AutomationRuleDef,
    FlowDef,
)
from metabiz.platform.metadata.crosscheck import DocumentChecker
from metabiz.platform.metadata.model import ObjectDef
from metabiz.platform.metadata.problems import JsonPath

#: the kind name flows are registered under (see FLOW_KIND)
FLOW = "flow"


def check_flow(fdef: FlowDef, checker: DocumentChecker) -> None:
    """Every reference of one flow resolves (the kernel checked its file name already)."""
    odef = checker.object(("object",), fdef.object)
    if isinstance(fdef, ApprovalFlowDef):
        checker.duplicates(((("steps", i, "api_name"), s.api_name)
                            for i, s in enumerate(fdef.steps)), "step")
        for i, step in enumerate(fdef.steps):
            for j, approver in enumerate(step.approvers):
                if approver.kind in ("manager_of", "field"):
                    checker.user_field(("steps", i, "approvers", j, approver.kind), odef,
                                       approver.value)
        for i, name in enumerate(fdef.resubmit_on_change):
            checker.field(("resubmit_on_change", i), odef, name)
        for key in ("on_submit", "on_approve", "on_reject", "on_recall"):
            _actions(fdef, odef, getattr(fdef, key), checker, (key,))
    elif isinstance(fdef, AutomationRuleDef):
        trigger = fdef.trigger
        for i, name in enumerate(trigger.fields):
            checker.field(("trigger", "field_changed", i), odef, name)
        if trigger.is_scheduled and trigger.date_field is not None:
            checker.date_field(("trigger", trigger.kind, "field"), odef, trigger.date_field)
        _actions(fdef, odef, fdef.actions, checker, ("actions",))


def _actions(flow: FlowDef, odef: ObjectDef | None, actions: Sequence[ActionDef],
             checker: DocumentChecker, path: JsonPath) -> None:
    deleted = isinstance(flow, AutomationRuleDef) and flow.trigger.kind == "deleted"
    for i, action in enumerate(actions):
        where = path + (i, action.kind)
        params = action.params
        if deleted and action.kind in ("update", "assign"):
            checker.problem(where, f"an {action.kind} action cannot change a deleted record")
        elif action.kind == "update":
            for name in params:
                checker.writable_field(where + (name,), odef, name)
        elif action.kind == "create":
            target = checker.object(where + ("object",), params["object"])
            for name in params["values"]:
                checker.writable_field(where + ("values", name), target, name)
        elif action.kind == "assign" and "rules" in params:
            _assignment_rule(checker, where + ("rules",), flow.object, params["rules"])
        elif action.kind == "notify":
            for j, recipient in enumerate(params["to"]):
                ((kind, value),) = recipient.items()
                if kind in ("field", "manager_of"):
                    checker.user_field(where + ("to", j, kind), odef, value)
        elif action.kind == "webhook":
            for j, name in enumerate(params.get("fields", ())):
                checker.field(where + ("fields", j), odef, name)
        elif action.kind == "return_to_pool":
            _pool(checker, where, odef, deleted, params)


def _pool(checker: DocumentChecker, where: JsonPath, odef: ObjectDef | None, deleted: bool,
          params: Mapping[str, Any]) -> None:
    """A `return_to_pool` names a pool of the flow's object (and one of its reasons)."""
    if deleted:
        checker.problem(where, "a return_to_pool action cannot change a deleted record")
        return
    name, path = params["pool"], where + ("pool",)
    if odef is None:
        return
    pool = odef.pool(name)
    if pool is None:
        known = ", ".join(p.api_name for p in odef.pools) or "none"
        checker.problem(path, f"unknown pool {name!r} on {odef.api_name} (its pools: {known})")
    elif params.get("reason") and pool.return_reasons \
            and pool.reason(params["reason"]) is None:
        checker.problem(where + ("reason",), f"unknown return reason {params['reason']!r} of "
                                             f"pool {name!r}")


def _assignment_rule(checker: DocumentChecker, path: JsonPath, object_name: str,
                     name: str) -> None:
    if not checker.in_folder:
        return  # a lone file: the rule may be installed already
    rule = checker.definition(FLOW, name)
    if name not in checker.names(FLOW) or (rule is not None
                                           and not isinstance(rule, AssignmentRuleDef)):
        checker.problem(path, f"unknown assignment rule {name!r}")
    elif rule is not None and rule.object != object_name:
        checker.problem(path, f"assignment rule {name!r} assigns {rule.object} records, "
                              f"not {object_name}")
