"""The `assign` action: gives the record an owner — a user, a role in turn, or rules.

`{"user": N}`, `{"role": R, "strategy": "round_robin" | "least_loaded"}` or
`{"rules": ASSIGNMENT_RULE}`; when nobody comes out the owner stays as it is. The new
owner is told, naming the assignment rule or else the flow (flows.owner_notices).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from metabiz.flows import assignment
from metabiz.flows.actions.base import Action, Run, Scope, register

log = logging.getLogger(__name__)


@register
class Assign(Action):
    name = "assign"
    changes_record = True

    def __init__(self, where: Any, who: assignment.Assignee | None, rules: str | None) -> None:
        super().__init__(where)
        self.who = who
        self.rules = rules

    @classmethod
    def compile(cls, params: Mapping[str, Any], scope: Scope) -> Assign:
        if "rules" in params:
            return cls(scope.where, None, params["rules"])
        return cls(scope.where, assignment.assignee(params), None)

    def run(self, run: Run) -> None:
        from metabiz.flows.compiled import flows_of

        subject = run.subject
        rule = None
        if self.rules is not None:
            rule = flows_of(run.ctx.schema).assignment_rule(self.rules)
            if rule is None or not rule.active:
                log.error("%s: assignment rule %r is missing or inactive", self.where,
                          self.rules)
                return
            user = rule.choose(subject)
        else:
            assert self.who is not None
            user = self.who.pick(subject)
        if user is None:
            log.warning("%s: nobody to assign %s %s to", self.where, subject.obj.name,
                        subject.record_id)
            return
        assignment.set_owner(subject, user, rule=rule, flow=run.source)
