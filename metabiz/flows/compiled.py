"""Every flow of one metadata version, compiled once and cached beside its RuntimeSchema.

A flow whose formulas do not check is kept out, and using its object's flows raises the
problem (422 `invalid_metadata`) rather than silently skipping it; `check_flows` lists
the problems up front, for `metabiz apply`.
"""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING, Any

from metabiz.errors import MetadataError
from metabiz.flows.definitions import (
    FLOW,
    ApprovalFlowDef,
    AssignmentRuleDef,
    AutomationRuleDef,
    FlowDef,
)
from metabiz.objects.schema import RuntimeSchema

if TYPE_CHECKING:  # the compiled kinds import this module's flows_of at run time
    from metabiz.flows.approvals.flow import ApprovalFlow
    from metabiz.flows.assignment import AssignmentRule
    from metabiz.flows.automation import AutomationRule

_CACHE: weakref.WeakKeyDictionary[RuntimeSchema, CompiledFlows] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


class CompiledFlows:
    """The flows of one schema version, by object and by name."""

    def __init__(self, schema: RuntimeSchema) -> None:
        self.version = schema.version
        self.approvals: dict[str, list[ApprovalFlow]] = {}
        self.automations: dict[str, list[AutomationRule]] = {}
        self.assignments: dict[str, list[AssignmentRule]] = {}
        self._by_name: dict[str, Any] = {}
        #: problems of the flows that did not compile, by object
        self.problems: dict[str, list[str]] = {}
        self._active: dict[str, list[AutomationRule]] = {}
        self._time_based: list[AutomationRule] | None = None
        for fdef in schema.bundle.definitions(FLOW):
            try:
                compiled = _compile(fdef, schema)
            except MetadataError as err:
                self.problems.setdefault(fdef.object, []).extend(err.problems)
                continue
            self._by_name[fdef.api_name] = compiled
            target: dict[str, list[Any]] = (
                self.approvals if isinstance(fdef, ApprovalFlowDef) else
                self.automations if isinstance(fdef, AutomationRuleDef) else self.assignments)
            target.setdefault(fdef.object, []).append(compiled)

    def _healthy(self, object_name: str) -> None:
        if object_name in self.problems:
            raise MetadataError(self.problems[object_name],
                                f"the flows of {object_name} have errors: "
                                + "; ".join(self.problems[object_name]))

    def approval_flows(self, object_name: str) -> list[ApprovalFlow]:
        """The object's active approval flows, in order (a request of an inactive one still
        finds it through `approval_flow(name)`)."""
        self._healthy(object_name)
        return [f for f in self.approvals.get(object_name, []) if f.active]

    def automation_rules(self, object_name: str) -> list[AutomationRule]:
        """The object's active automation rules (worked out once: every record write of the
        object asks, twice)."""
        self._healthy(object_name)
        found = self._active.get(object_name)
        if found is None:
            found = [r for r in self.automations.get(object_name, []) if r.active]
            self._active[object_name] = found
        return found

    def time_based_rules(self) -> list[AutomationRule]:
        """The active time-based rules of every object (worked out once)."""
        if self._time_based is None:
            self._time_based = [r for rules in self.automations.values() for r in rules
                                if r.active and r.trigger.scheduled]
        return self._time_based

    def assignment_rules(self, object_name: str) -> list[AssignmentRule]:
        self._healthy(object_name)
        return self.assignments.get(object_name, [])

    def _named(self, name: str, kinds: dict[str, list[Any]]) -> Any:
        found = self._by_name.get(name)
        if found is None or found not in kinds.get(found.object, ()):
            return None
        return found

    def approval_flow(self, name: str) -> ApprovalFlow | None:
        return self._named(name, self.approvals)  # type: ignore[no-any-return]

    def automation_rule(self, name: str) -> AutomationRule | None:
        return self._named(name, self.automations)  # type: ignore[no-any-return]

    def assignment_rule(self, name: str) -> AssignmentRule | None:
        return self._named(name, self.assignments)  # type: ignore[no-any-return]


def _compile(fdef: FlowDef, schema: RuntimeSchema) -> Any:
    from metabiz.flows.approvals.flow import ApprovalFlow
    from metabiz.flows.assignment import AssignmentRule
    from metabiz.flows.automation import AutomationRule

    if fdef.object not in schema.objects:
        raise MetadataError([f"flows/{fdef.api_name}.json: /object: unknown object "
                             f"{fdef.object!r}"])
    if isinstance(fdef, ApprovalFlowDef):
        return ApprovalFlow(fdef, schema)
    if isinstance(fdef, AutomationRuleDef):
        return AutomationRule(fdef, schema)
    assert isinstance(fdef, AssignmentRuleDef)
    return AssignmentRule(fdef, schema)


def flows_of(schema: RuntimeSchema) -> CompiledFlows:
    """The compiled flows of this schema version (built on first use)."""
    found = _CACHE.get(schema)
    if found is None:
        with _LOCK:
            found = _CACHE.get(schema)
            if found is None:
                found = CompiledFlows(schema)
                _CACHE[schema] = found
    return found


def check_flows(schema: RuntimeSchema) -> list[str]:
    """Every problem of every flow (`flows/x.json: /path: line:col: message`)."""
    problems: list[str] = []
    for fdef in schema.bundle.definitions(FLOW):
        try:
            _compile(fdef, schema)
        except MetadataError as err:
            problems.extend(err.problems)
    return problems
