"""Formula fields: computed from other fields on every read, never stored.

Their value type is `return_type`; filters and sorts on them compile to SQL.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from marshmallow import fields as ma

from metabiz.formulas import FieldSpec, FType
from metabiz.objects.fields.base import FieldType, register
from metabiz.platform.metadata.model import FieldDef, MetadataBundle

RETURN_TYPES = {
    "number": FType.NUMBER, "currency": FType.NUMBER, "percent": FType.NUMBER,
    "text": FType.TEXT, "boolean": FType.BOOLEAN, "date": FType.DATE,
    "datetime": FType.DATETIME,
}


#: default scale of number results per return type (None: not rounded)
SCALED: dict[str, int | None] = {"currency": 2, "percent": 2, "number": None}


@register
class Formula(FieldType):
    name = "formula"
    widget = "readonly"
    stored = False
    writable = False

    def column_type(self, f: FieldDef, bundle: MetadataBundle) -> Any:
        raise TypeError("formula fields have no column")

    def normalise(self, f: FieldDef, value: Any) -> Any:
        """Numbers are rounded (half away from zero) to the field's scale, as displayed."""
        if not isinstance(value, Decimal) or f.return_type not in SCALED:
            return value
        scale = f.scale if f.scale is not None else SCALED[f.return_type or ""]
        if scale is None:
            return value
        return value.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)

    def python_type(self, f: FieldDef) -> FType:
        return RETURN_TYPES[f.return_type or "text"]

    def spec(self, f: FieldDef, bundle: MetadataBundle) -> FieldSpec:
        return FieldSpec(name=f.api_name, type=self.python_type(f))

    def marshmallow_field(self, f: FieldDef) -> ma.Field:
        return ma.Raw(dump_only=True)

    def openapi(self, f: FieldDef) -> dict[str, Any]:
        kind = {FType.NUMBER: "number", FType.BOOLEAN: "boolean"}.get(self.python_type(f), "string")
        return {"type": kind, "readOnly": True}
