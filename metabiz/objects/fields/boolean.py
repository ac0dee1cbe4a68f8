"""Checkboxes: true or false (never blank once saved; blank reads as false)."""

from __future__ import annotations

from typing import Any

from marshmallow import fields as ma
from sqlalchemy import Boolean as SABoolean

from metabiz.formulas import FType
from metabiz.objects.fields.base import NOT_PLAIN, FieldType, register
from metabiz.platform.metadata.model import FieldDef, MetadataBundle

#: the words text may hold when it converts to a checkbox (compared case-insensitively)
TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1", "on", "是", "真", "对"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0", "off", "否", "假", "错"})


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

    def quick_load(self, f: FieldDef, value: Any) -> Any:
        return value if value is None or type(value) is bool else NOT_PLAIN

    def normalise(self, f: FieldDef, value: Any) -> Any:
        return bool(value) if value is not None else False

    def from_db(self, f: FieldDef, value: Any) -> Any:
        return bool(value) if value is not None else False

    def openapi(self, f: FieldDef) -> dict[str, Any]:
        return {"type": "boolean"}

    # -- schema evolution -------------------------------------------------------
    def as_text(self, f: FieldDef, value: Any) -> str | None:
        return "true" if value else "false"

    def from_text(self, f: FieldDef, text: str) -> Any:
        word = text.strip().casefold()
        if not word:
            return False
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ValueError("not true or false (true/false, yes/no, 1/0, 是/否)")
