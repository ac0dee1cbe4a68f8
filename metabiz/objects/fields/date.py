"""Calendar dates without a time (`"2026-11-23"`)."""

from __future__ import annotations

from typing import Any

from marshmallow import fields as ma
from sqlalchemy import Date as SADate

from metabiz.formulas import FType
from metabiz.objects.fields.base import FieldType, register
from metabiz.platform.metadata.model import FieldDef, MetadataBundle


@register
class Date(FieldType):
    name = "date"
    formula_type = FType.DATE
    widget = "date"
    converts_to = frozenset({"text", "datetime"})

    def column_type(self, f: FieldDef, bundle: MetadataBundle) -> SADate:
        return SADate()

    def marshmallow_field(self, f: FieldDef) -> ma.Field:
        return ma.Date(allow_none=True)

    def openapi(self, f: FieldDef) -> dict[str, Any]:
        return {"type": "string", "format": "date"}
