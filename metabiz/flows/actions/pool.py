"""The `return_to_pool` action: the record leaves its owner for a public pool of its object.

`{"return_to_pool": POOL}` or `{"return_to_pool": {"pool": POOL, "reason": REASON}}`, e.g.
on a time-based rule "N days after the last follow-up"; a record already in a pool stays.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from metabiz.flows.actions.base import Action, Run, Scope, register
from metabiz.objects import pools


@register
class ReturnToPool(Action):
    name = "return_to_pool"
    changes_record = True

    def __init__(self, where: Any, pool: str, reason: str | None) -> None:
        super().__init__(where)
        self.pool = pool
        self.reason = reason

    @classmethod
    def compile(cls, params: Mapping[str, Any], scope: Scope) -> ReturnToPool:
        return cls(scope.where, params["pool"], params.get("reason"))

    def run(self, run: Run) -> None:
        subject = run.subject
        if subject.values.get("pool"):
            return
        pools.return_to_pool(run.ctx, subject.obj.name, subject.record_id, reason=self.reason,
                             pool=self.pool, automation=run.source)
