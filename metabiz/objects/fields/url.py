"""Web addresses (http or https), format-checked."""

from __future__ import annotations

from typing import Any

from marshmallow import fields as ma
from marshmallow import validate

from metabiz.objects.fields.base import register
from metabiz.objects.fields.text import Text
from metabiz.platform.metadata.model import FieldDef


@register
class Url(Text):
    name = "url"
    widget = "url"
    converts_to = frozenset({"text"})

    def marshmallow_field(self, f: FieldDef) -> ma.Field:
        return ma.Url(allow_none=True, schemes={"http", "https"},
                      validate=validate.Length(max=f.max_length or 255))

    def normalise(self, f: FieldDef, value: Any) -> Any:
        value = super().normalise(f, value)
        return value.strip() if value else value

    def openapi(self, f: FieldDef) -> dict[str, Any]:
        return {"type": "string", "format": "uri"}

    def from_text(self, f: FieldDef, text: str) -> Any:
        return super().from_text(f, text.strip())
