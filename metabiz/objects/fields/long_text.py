"""Multi-line text without a length limit (notes, descriptions)."""

from __future__ import annotations

from typing import Any

from marshmallow import fields as ma
from sqlalchemy import Text

from metabiz.formulas import FType
from metabiz.objects.fields.base import FieldType, blank_text, register
from metabiz.platform.metadata.model import FieldDef, MetadataBundle


@register
class LongText(FieldType):
    name = "long_text"
    formula_type = FType.TEXT
    widget = "textarea"
    searchable = True
    converts_to = frozenset({"text"})

    def column_type(self, f: FieldDef, bundle: MetadataBundle) -> Text:
        return Text()

    def marshmallow_field(self, f: FieldDef) -> ma.Field:
        return ma.String(allow_none=True)

    def normalise(self, f: FieldDef, value: Any) -> Any:
        return blank_text(value)
