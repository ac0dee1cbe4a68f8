"""E-mail addresses, format-checked."""

from __future__ import annotations

from typing import Any

from marshmallow import fields as ma
from marshmallow import validate

from metabiz.objects.fields.base import register
from metabiz.objects.fields.text import Text
from metabiz.platform.metadata.model import FieldDef


@register
class Email(Text):
    name = "email"
    widget = "email"
    converts_to = frozenset({"text"})

    def marshmallow_field(self, f: FieldDef) -> ma.Field:
        return ma.Email(allow_none=True, validate=validate.Length(max=254))

    def normalise(self, f: FieldDef, value: Any) -> Any:
        value = super().normalise(f, value)
        return value.strip() if value else value

    def openapi(self, f: FieldDef) -> dict[str, Any]:
        return {"type": "string", "format": "email"}

    def from_text(self, f: FieldDef, text: str) -> Any:
        return super().from_text(f, text.strip())
