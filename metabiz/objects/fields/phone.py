"""Phone numbers: digits with the usual separators and an optional leading +."""

from __future__ import annotations

from typing import Any

from marshmallow import fields as ma
from marshmallow import validate

from metabiz.objects.fields.base import register
from metabiz.objects.fields.text import Text
from metabiz.platform.metadata.model import FieldDef

PHONE_PATTERN = r"^\+?[0-9][0-9 ()\-./]{2,30}(\s*(x|ext\.?)\s*[0-9]{1,6})?$"


@register
class Phone(Text):
    name = "phone"
    widget = "tel"
    converts_to = frozenset({"text"})

    def marshmallow_field(self, f: FieldDef) -> ma.Field:
        return ma.String(allow_none=True, validate=validate.Regexp(
            PHONE_PATTERN, error="Not a valid phone number."))

    def normalise(self, f: FieldDef, value: Any) -> Any:
        value = super().normalise(f, value)
        return value.strip() if value else value

    def openapi(self, f: FieldDef) -> dict[str, Any]:
        return {"type": "string", "pattern": PHONE_PATTERN}

    def from_text(self, f: FieldDef, text: str) -> Any:
        return super().from_text(f, text.strip())
