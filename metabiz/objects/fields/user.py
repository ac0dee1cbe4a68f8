"""A user of metabiz, by name (`owner` is one); approvals resolve managers through it."""

from __future__ import annotations

from typing import Any

from marshmallow import fields as ma
from sqlalchemy import String

from metabiz.formulas import FType
from metabiz.objects.fields.base import FieldType, blank_text, register
from metabiz.platform.metadata.model import FieldDef, MetadataBundle


@register
class User(FieldType):
    name = "user"
    formula_type = FType.TEXT
    widget = "user"
    converts_to = frozenset({"text"})

    def column_type(self, f: FieldDef, bundle: MetadataBundle) -> String:
        return String(64)

    def marshmallow_field(self, f: FieldDef) -> ma.Field:
        return ma.String(allow_none=True)

    def normalise(self, f: FieldDef, value: Any) -> Any:
        return blank_text(value)

    def openapi(self, f: FieldDef) -> dict[str, Any]:
        return {"type": "string", "description": "user name"}
