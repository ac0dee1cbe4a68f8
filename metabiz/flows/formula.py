"""Formulas inside flows (conditions, action values, messages) and the record they run on.

A `FlowFormula` is checked and compiled once per metadata version; a `Subject` is the
record a rule or approval is working on, with its prior values for ISCHANGED/PRIORVALUE.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from metabiz.errors import FormulaError, MetadataError, NotFound, ValidationError
from metabiz.formulas import Catalog, EvalContext, FType, check, compile_python, to_json_value
from metabiz.formulas.values import as_text, format_number
from metabiz.objects import records
from metabiz.objects.context import Context
from metabiz.objects.schema import CompiledObject, RuntimeSchema

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Where:
    """Where a piece of flow metadata sits, for error messages: `flows/x.json: /steps/0`."""

    flow: str
    path: tuple[str | int, ...] = ()

    def __truediv__(self, part: str | int) -> Where:
        return Where(self.flow, (*self.path, part))

    def __str__(self) -> str:
        pointer = "/" + "/".join(str(p) for p in self.path)
        return f"flows/{self.flow}.json: {pointer}"


class FlowFormula:
    """A checked, compiled formula of a flow, evaluated on a `Subject`."""

    def __init__(self, schema: RuntimeSchema, object_name: str, source: str, where: Where, *,
                 expected: FType | None = None, catalog: Catalog | None = None) -> None:
        self.source = source
        self.where = where
        try:
            checked = check(source, catalog or schema.catalog, object_name, context="condition",
                            expected=expected)
        except FormulaError as err:
            position = f"{err.line}:{err.column}: " if err.line is not None else ""
            raise MetadataError([f"{where}: {position}{err.message}"]) from None
        self.type = checked.type
        #: the record's own fields the formula reads (`discount`, `account` of account.name)
        self.fields = frozenset(path[0] for path in checked.references)
        self._run = compile_python(checked)

    def value(self, subject: Subject) -> Any:
        """The formula's value; an evaluation error is a 422 naming the flow."""
        try:
            return self._run(subject.eval_context())
        except FormulaError as err:
            raise ValidationError(f"{self.where}: {self.source}: {err.message}",
                                  fields={records.RECORD_KEY: [err.message]}) from None

    def holds(self, subject: Subject) -> bool:
        """A condition: only TRUE holds; blank or an evaluation error (logged) do not."""
        try:
            return self._run(subject.eval_context()) is True
        except FormulaError as err:
            log.warning("%s: condition %s on %s %s: %s", self.where, self.source,
                        subject.obj.name, subject.values.get("id"), err.message)
            return False


def expected_type(schema: RuntimeSchema, object_name: str, field_name: str) -> FType | None:
    """The formula type a value for this field must have (picklists take text)."""
    spec = schema.catalog.field(object_name, field_name)
    if spec is None:
        return None
    if spec.type is FType.PICKLIST:
        return FType.TEXT
    return spec.type


@dataclass
class Subject:
    """The record a flow works on: its object, current values and (for updates) prior values."""

    ctx: Context
    obj: CompiledObject
    values: dict[str, Any]
    prior: Mapping[str, Any] | None = None
    is_new: bool = False

    @property
    def record_id(self) -> int:
        return int(self.values["id"])

    def eval_context(self) -> EvalContext:
        return records.Resolver(self.ctx).context(self.obj, self.values, prior=self.prior,
                                                  is_new=self.is_new)

    def reload(self) -> None:
        """Read the record again (after an action changed it), keeping the prior values."""
        self.values = load_record(self.ctx, self.obj, self.record_id)

    def name(self) -> str:
        return record_name(self.obj, self.values)


def load_record(ctx: Context, obj: CompiledObject, record_id: int) -> dict[str, Any]:
    """The record's Python values with formulas computed, whoever the actor is."""
    row = ctx.conn.execute(select(obj.table).where(obj.table.c.id == record_id)).mappings().first()
    if row is None:
        raise NotFound(f"no {obj.name} record with id {record_id}")
    return records.compute(ctx, obj, obj.decode(row))


def record_name(obj: CompiledObject, values: Mapping[str, Any]) -> str:
    """What people call the record: its name field, else `object #id`."""
    name_field = obj.odef.name_field
    value = values.get(name_field) if name_field else None
    if value is None or value == "":
        return f"{obj.odef.label.get()} #{values.get('id')}"
    return text(value)


def text(value: Any) -> str:
    """A formula value as message text (as TEXT() gives it; blank is "")."""
    return as_text(value) or ""


def input_value(value: Any) -> Any:
    """A formula value as record-service input (exact decimals stay exact)."""
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return int(value)
        return format_number(value)
    return to_json_value(value)
