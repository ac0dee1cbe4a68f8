"""Checkboxes: true or false (never blank once saved; blank reads as false)."""

from __future__ import annotations

from typing import Any

from marshmallow import fields as ma
from sqlalchemy import Boolean as SABoolean

from metabiz.formulas import FType
from metabiz.objects.fields.base import FieldType, register
from metabiz.platform.metadata.model import FieldDef, MetadataBundle


@register
class Boolean(FieldType):
    name = "boolean"
    formula_type = FType.BOOLEAN
    widget = "checkbox"
    converts_to = frozenset({"text"})

    def column_type(self, f: FieldDef, bundle: MetadataBundle) -> SABoolean:
        return SABoolean(create_constraint=False)

    def marshmallow_field(self, f: FieldDef) -> ma.Field:
        return ma.Boolean(allow_none=True)

    def normalise(self, f: FieldDef, value: Any) -> Any:
        return bool(value) if value is not None else False

    def from_db(self, f: FieldDef, value: Any) -> Any:
        return bool(value) if value is not None else False

    def openapi(self, f: FieldDef) -> dict[str, Any]:
        return {"type": "boolean"}
