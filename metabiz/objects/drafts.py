"""A record being written, before its validation: what before-save hooks may change, and
which validation rules can still be judged when some of its fields are bad.

The record service builds a `Draft` after defaults and hands it to the registered
before-save hooks (flows' before-save rules); one 422 then lists every bad field and every
validation rule that reads only good ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from metabiz.objects.context import Context
from metabiz.objects.record_input import read_input
from metabiz.objects.schema import CompiledObject, CompiledRule
from metabiz.platform.access import SYSTEM


@dataclass
class Draft:
    """The record as it will be saved (Python values; its formula fields are not computed
    yet: a hook reading them computes them with `records.compute`), its prior values on an
    update, the fields the write changes and the errors found so far."""

    obj: CompiledObject
    values: dict[str, Any]
    prior: Mapping[str, Any] | None
    changed: set[str]
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def is_new(self) -> bool:
        return self.prior is None

    def set(self, ctx: Context, data: Mapping[str, Any]) -> None:
        """Set fields from JSON-like values, read as the system reads input (types checked,
        read-only-for-a-role fields allowed); a bad value is an error on its field."""
        system = replace(ctx, actor=SYSTEM) if not ctx.actor.is_system else ctx
        values, errors = read_input(system, self.obj, dict(data), creating=self.is_new)
        for name, messages in errors.items():
            self.errors.setdefault(name, []).extend(messages)
        for name, value in values.items():
            if self.prior is None or self.prior.get(name) != value:
                self.changed.add(name)
            else:
                self.changed.discard(name)  # set back to what it was
            self.values[name] = value


def run_before_save(ctx: Context, draft: Draft) -> None:
    """Every registered before-save hook, in registration order."""
    for hook in ctx.before_save:
        hook(ctx, draft)


def reads(obj: CompiledObject, rule: CompiledRule) -> set[str]:
    """The fields of `obj` a validation rule reads (the first step of each reference)."""
    return {path[0] for path in rule.condition.checked.references if path}


def tainted(obj: CompiledObject, bad: Iterable[str]) -> set[str]:
    """The bad fields and the formula fields computed (directly or not) from one of them:
    a rule reading any of these cannot be judged."""
    out = set(bad)
    if not out:
        return out
    for name in obj.formula_order:
        formula = obj.fields[name].formula
        if formula is not None and {p[0] for p in formula.checked.references if p} & out:
            out.add(name)
    return out
