"""Formula fields: computed from other fields on every read, never stored.

Their value type is `return_type`; filters and sorts on them compile to SQL.
"""

from __future__ import annotations

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


@register
class Formula(FieldType):
    name = "formula"
    widget = "readonly"
    stored = False
    writable = False

    def column_type(self, f: FieldDef, bundle: MetadataBundle) -> Any:
        raise TypeError("formula fields have no column")

    def python_type(self, f: FieldDef) -> FType:
        return RETURN_TYPES[f.return_type or "text"]

    def spec(self, f: FieldDef, bundle: MetadataBundle) -> FieldSpec:
        return FieldSpec(name=f.api_name, type=self.python_type(f))

    def marshmallow_field(self, f: FieldDef) -> ma.Field:
        return ma.Raw(dump_only=True)

    def openapi(self, f: FieldDef) -> dict[str, Any]:
        kind = {FType.NUMBER: "number", FType.BOOLEAN: "boolean"}.get(self.python_type(f), "string")
        return {"type": kind, "readOnly": True}
