"""Single-line text, the default field type."""

from __future__ import annotations

from typing import Any

from marshmallow import fields as ma
from marshmallow import validate
from sqlalchemy import String

from metabiz.formulas import FType
from metabiz.objects.fields.base import NOT_PLAIN, FieldType, blank_text, register
from metabiz.platform.metadata.model import FieldDef, MetadataBundle


@register
class Text(FieldType):
    name = "text"
    formula_type = FType.TEXT
    widget = "text"
    searchable = True
    converts_to = frozenset({"long_text", "number", "currency", "percent", "date", "datetime",
                             "boolean", "email", "phone", "url", "picklist", "multi_picklist"})

    def column_type(self, f: FieldDef, bundle: MetadataBundle) -> String:
        return String(f.max_length or 255)

    def marshmallow_field(self, f: FieldDef) -> ma.Field:
        return ma.String(allow_none=True, validate=validate.Length(max=f.max_length or 255))

    def normalise(self, f: FieldDef, value: Any) -> Any:
        return blank_text(value)

    def quick_load(self, f: FieldDef, value: Any) -> Any:
        if type(self) is not Text:  # email, phone, url: their format checks need marshmallow
            return NOT_PLAIN
        if value is None or (type(value) is str and len(value) <= (f.max_length or 255)):
            return value
        return NOT_PLAIN

    def openapi(self, f: FieldDef) -> dict[str, Any]:
        return {"type": "string", "maxLength": f.max_length or 255}
