"""Several values from a fixed list; a JSON list in the API, `a;b` text in the table."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import fields as ma
from marshmallow import validate
from sqlalchemy import Text

from metabiz.formulas import FieldSpec, FType
from metabiz.objects.fields.base import FieldType, register
from metabiz.objects.fields.picklist import match_choice
from metabiz.platform.metadata.model import FieldDef, MetadataBundle

SEPARATOR = ";"


@register
class MultiPicklist(FieldType):
    name = "multi_picklist"
    formula_type = FType.MULTI_PICKLIST
    widget = "multiselect"
    converts_to = frozenset({"text"})

    def column_type(self, f: FieldDef, bundle: MetadataBundle) -> Text:
        return Text()

    def marshmallow_field(self, f: FieldDef) -> ma.Field:
        choices = f.picklist_values()
        return ma.List(ma.String(validate=validate.OneOf(
            choices, error="Must be one of: {choices}.")), allow_none=True)

    def normalise(self, f: FieldDef, value: Any) -> Any:
        if not value:
            return None
        # Keep the picklist's order and drop duplicates, so equal selections compare equal.
        chosen = set(value)
        return tuple(v for v in f.picklist_values() if v in chosen)

    def to_db(self, f: FieldDef, value: Any) -> Any:
        return SEPARATOR.join(value) if value else None

    def from_db(self, f: FieldDef, value: Any) -> Any:
        return tuple(value.split(SEPARATOR)) if value else None

    def spec(self, f: FieldDef, bundle: MetadataBundle) -> FieldSpec:
        return FieldSpec(name=f.api_name, type=FType.MULTI_PICKLIST,
                         picklist_values=f.picklist_values())

    def openapi(self, f: FieldDef) -> dict[str, Any]:
        return {"type": "array", "items": {"type": "string", "enum": list(f.picklist_values())}}

    # -- schema evolution -------------------------------------------------------
    def as_text(self, f: FieldDef, value: Any) -> str | None:
        return SEPARATOR.join(value) if value else None

    def from_text(self, f: FieldDef, text: str) -> Any:
        parts = [part.strip() for part in re.split(r"[;；]", text) if part.strip()]
        chosen = [match_choice(f, part) for part in parts]
        unknown = [part for part, value in zip(parts, chosen, strict=True) if value is None]
        if unknown:
            raise ValueError("not values or labels of the picklist: "
                             + ", ".join(repr(part) for part in unknown))
        return self.normalise(f, chosen)
