"""Roll-up summaries (count/sum/min/max/avg) of a child object, stored and kept exact.

The value is recomputed in the same transaction as every child write, re-parenting
and cascade (see metabiz.objects.rollups), so it can be sorted and filtered in SQL.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields as ma
from sqlalchemy import Date, DateTime

from metabiz.formulas import FieldSpec, FType
from metabiz.objects.fields.base import FieldType, register
from metabiz.platform.exact_numbers import ExactDecimal
from metabiz.platform.metadata.model import FieldDef, MetadataBundle

#: digits and decimal places of a numeric roll-up's column
PRECISION, SCALE = 24, 6


@register
class Rollup(FieldType):
    name = "rollup"
    widget = "readonly"
    writable = False

    def summarised(self, f: FieldDef, bundle: MetadataBundle) -> FieldDef | None:
        child = bundle.object(f.child_object or "")
        return child.field(f.rollup_field) if child and f.rollup_field else None

    def value_kind(self, f: FieldDef, bundle: MetadataBundle) -> str:
        """'date', 'datetime' or 'number': what min/max of the child field give."""
        source = self.summarised(f, bundle)
        if f.function in ("min", "max") and source is not None:
            kind = source.return_type if source.type == "formula" else source.type
            if kind in ("date", "datetime"):
                return kind
        return "number"

    def column_type(self, f: FieldDef, bundle: MetadataBundle) -> Any:
        kind = self.value_kind(f, bundle)
        if kind == "date":
            return Date()
        if kind == "datetime":
            return DateTime()
        return ExactDecimal(PRECISION, SCALE)

    def marshmallow_field(self, f: FieldDef) -> ma.Field:
        return ma.Raw(dump_only=True)

    def spec(self, f: FieldDef, bundle: MetadataBundle) -> FieldSpec:
        kind = self.value_kind(f, bundle)
        ftype = {"date": FType.DATE, "datetime": FType.DATETIME}.get(kind, FType.NUMBER)
        return FieldSpec(name=f.api_name, type=ftype)

    def from_db(self, f: FieldDef, value: Any) -> Any:
        from decimal import Decimal
        if isinstance(value, float | int) and not isinstance(value, bool):
            return Decimal(str(value))
        return value

    def openapi(self, f: FieldDef) -> dict[str, Any]:
        return {"readOnly": True}
