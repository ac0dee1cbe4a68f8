"""The `create` action: creates a record of any object from formulas on the triggering record.

Without an `owner` value the new record belongs to the triggering record's owner.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from metabiz.flows import directory
from metabiz.flows.actions.base import Action, Run, Scope, register
from metabiz.flows.formula import FlowFormula, expected_type, input_value
from metabiz.objects import records


@register
class Create(Action):
    name = "create"

    def __init__(self, where: Any, target: str, values: dict[str, FlowFormula]) -> None:
        super().__init__(where)
        self.target = target
        self.values = values

    @classmethod
    def compile(cls, params: Mapping[str, Any], scope: Scope) -> Create:
        target = params["object"]
        values = {name: scope.formula(source, "values", name,
                                      expected=expected_type(scope.schema, target, name))
                  for name, source in params["values"].items()}
        return cls(scope.where, target, values)

    def run(self, run: Run) -> None:
        subject = run.subject
        data = {name: input_value(f.value(subject)) for name, f in self.values.items()}
        owner = subject.values.get("owner")
        if data.get("owner") is None:
            data.pop("owner", None)
            if directory.is_active(run.ctx.conn, owner):
                data["owner"] = owner
        records.create(run.ctx, self.target, data)
