"""One value chosen from a fixed list (`values`); stored as the value, shown by label."""

from __future__ import annotations

from typing import Any

from marshmallow import fields as ma
from marshmallow import validate
from sqlalchemy import String

from metabiz.formulas import FieldSpec, FType
from metabiz.objects.fields.base import NOT_PLAIN, FieldType, blank_text, register
from metabiz.platform.metadata.model import FieldDef, MetadataBundle


@register
class Picklist(FieldType):
    name = "picklist"
    formula_type = FType.PICKLIST
    widget = "select"
    converts_to = frozenset({"text", "multi_picklist"})

    def column_type(self, f: FieldDef, bundle: MetadataBundle) -> String:
        return String(80)

    def marshmallow_field(self, f: FieldDef) -> ma.Field:
        choices = f.picklist_values()
        return ma.String(allow_none=True, validate=validate.OneOf(
            choices, error="Must be one of: {choices}."))

    def normalise(self, f: FieldDef, value: Any) -> Any:
        return blank_text(value)

    def quick_load(self, f: FieldDef, value: Any) -> Any:
        if value is None or (type(value) is str and value in f.picklist_values()):
            return value
        return NOT_PLAIN

    def spec(self, f: FieldDef, bundle: MetadataBundle) -> FieldSpec:
        return FieldSpec(name=f.api_name, type=FType.PICKLIST,
                         picklist_values=f.picklist_values())

    def openapi(self, f: FieldDef) -> dict[str, Any]:
        return {"type": "string", "enum": list(f.picklist_values())}

    # -- schema evolution -------------------------------------------------------
    def from_text(self, f: FieldDef, text: str) -> Any:
        cleaned = text.strip()
        if not cleaned:
            return None
        value = match_choice(f, cleaned)
        if value is None:
            raise ValueError("not one of the picklist's values or labels")
        return value


def match_choice(f: FieldDef, text: str) -> str | None:
    """The picklist value `text` names: a value, else a value or label in any language
    compared case-insensitively (`Technology`, `科技` → `tech`)."""
    if text in f.picklist_values():
        return text
    folded = text.casefold()
    for choice in f.values:
        names = (choice.value, *(label for _, label in choice.label.texts))
        if any(name.strip().casefold() == folded for name in names):
            return choice.value
    return None
