"""The `create` action: creates records of any object from formulas on the triggering record.

Without an `owner` value a new record belongs to the triggering record's owner. A value may
be one formula per language (`{"en", "zh"}`, as a notification's texts): the new record gets
the one of its owner's language (a task's subject in the words its owner reads). With a
`count` formula the action repeats: `loop_index` (1 … count) is readable in `values`, and
all the records are created in the same unit of work as the write that fired the rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from metabiz.errors import ValidationError
from metabiz.flows import directory
from metabiz.flows.actions.base import Action, Run, Scope, register
from metabiz.flows.formula import FlowFormula, Subject, expected_type, input_value
from metabiz.formulas import Calendar, Catalog, FieldSpec, FType
from metabiz.objects import records

#: the name `values` formulas read the repetition's number by (1 … count)
LOOP_INDEX = "loop_index"
#: the most records one repeated create may make
MAX_COUNT = 1000

#: a value's formula by language ("" when it is the same in every language)
Localized = dict[str, FlowFormula]


class LoopCatalog:
    """The schema's catalog with `loop_index` (a number) on the triggering object."""

    def __init__(self, inner: Any, object_name: str) -> None:
        self.inner = inner
        self.object_name = object_name

    def field(self, object_name: str, field_name: str) -> FieldSpec | None:
        if object_name == self.object_name and field_name == LOOP_INDEX:
            return FieldSpec(LOOP_INDEX, FType.NUMBER)
        return self.inner.field(object_name, field_name)  # type: ignore[no-any-return]

    def calendar(self, name: str) -> Calendar | None:
        return self.inner.calendar(name)  # type: ignore[no-any-return]


@register
class Create(Action):
    name = "create"

    def __init__(self, where: Any, target: str, values: dict[str, Localized],
                 count: FlowFormula | None = None) -> None:
        super().__init__(where)
        self.target = target
        self.values = values
        self.count = count
        #: whether a value is given per language, so the owner's language is looked up
        self.localized = any("" not in formulas for formulas in values.values())

    @classmethod
    def compile(cls, params: Mapping[str, Any], scope: Scope) -> Create:
        target = params["object"]
        catalog: Catalog | None = None
        count = None
        if params.get("count") is not None:
            count = scope.formula(params["count"], "count", expected=FType.NUMBER)
            catalog = LoopCatalog(scope.schema.catalog, scope.object_name)
        values = {}
        for name, given in params["values"].items():
            sources = given if isinstance(given, Mapping) else {"": given}
            values[name] = {lang: FlowFormula(
                scope.schema, scope.object_name, source,
                scope.where / "values" / name / lang if lang else scope.where / "values" / name,
                expected=expected_type(scope.schema, target, name), catalog=catalog)
                for lang, source in sources.items()}
        return cls(scope.where, target, values, count)

    def run(self, run: Run) -> None:
        subject = run.subject
        owner = subject.values.get("owner")
        default_owner = owner if directory.is_active(run.ctx.conn, owner) else None
        if self.count is None:
            records.create(run.ctx, self.target, self._data(subject, default_owner))
            return
        times = self._times(subject)
        if not times:
            return
        items = []
        for index in range(1, times + 1):
            looped = Subject(subject.ctx, subject.obj, {**subject.values, LOOP_INDEX: index},
                             prior=subject.prior, is_new=subject.is_new)
            items.append(self._data(looped, default_owner))
        records.create_many(run.ctx, self.target, items, returning=False)

    def _data(self, subject: Subject, default_owner: str | None) -> dict[str, Any]:
        owner = self.values.get("owner")
        data = {"owner": input_value(_chosen(owner, "en").value(subject))} if owner else {}
        if data.get("owner") is None:
            data.pop("owner", None)
            if default_owner is not None:
                data["owner"] = default_owner
        lang = directory.language_of(subject.ctx.conn, str(data["owner"])) \
            if self.localized and data.get("owner") else "en"
        data.update((name, input_value(_chosen(f, lang).value(subject)))
                    for name, f in self.values.items() if name != "owner")
        return data

    def _times(self, subject: Subject) -> int:
        """How many records `count` asks for: blank is none; a fraction, a negative
        number or more than MAX_COUNT is a 422 naming the flow."""
        assert self.count is not None
        value = self.count.value(subject)
        if value is None:
            return 0
        if not isinstance(value, Decimal) or value != value.to_integral_value() \
                or not 0 <= value <= MAX_COUNT:
            message = (f"count gave {value}: a repeated create makes a whole number of "
                       f"records from 0 to {MAX_COUNT:,}")
            raise ValidationError(f"{self.where}: {message}",
                                  fields={records.RECORD_KEY: [message]})
        return int(value)


def _chosen(formulas: Localized, lang: str) -> FlowFormula:
    """The formula of `lang`, else the one for every language, else English, else any."""
    return formulas.get(lang) or formulas.get("") or formulas.get("en") or \
        next(iter(formulas.values()))
