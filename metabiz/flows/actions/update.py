"""The `update` action: sets fields of the record to formulas evaluated on it.

Goes through the record service as the system (validation rules apply, history is kept);
`"owner": "NULL"` returns the record to the public pool (no owner).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import insert

from metabiz.flows.actions.base import Action, Run, Scope, register
from metabiz.flows.formula import FlowFormula, expected_type, input_value
from metabiz.objects import records
from metabiz.platform.db import field_history


@register
class Update(Action):
    name = "update"
    changes_record = True

    def __init__(self, where: Any, values: dict[str, FlowFormula]) -> None:
        super().__init__(where)
        self.values = values

    @classmethod
    def compile(cls, params: Mapping[str, Any], scope: Scope) -> Update:
        return cls(scope.where, {
            name: scope.formula(source, name,
                                expected=expected_type(scope.schema, scope.object_name, name))
            for name, source in params.items()})

    def run(self, run: Run) -> None:
        subject = run.subject
        data = {name: input_value(f.value(subject)) for name, f in self.values.items()}
        if "owner" in data and data["owner"] in (None, ""):
            del data["owner"]
            clear_owner(run, subject.values.get("owner"))
        if data:
            records.update(run.ctx, subject.obj.name, subject.record_id, data)


def clear_owner(run: Run, previous: str | None) -> None:
    """Leave the record without an owner (the record service requires one on input)."""
    if previous is None:
        return
    ctx, subject = run.ctx, run.subject
    records.set_system(ctx, subject.obj.name, subject.record_id, owner=None)
    ctx.conn.execute(insert(field_history).values(
        object=subject.obj.name, record_id=subject.record_id, field="owner",
        old_value=previous, new_value=None, changed_by=ctx.actor.name,
        changed_at=ctx.naive_now()))
    subject.values["owner"] = None
