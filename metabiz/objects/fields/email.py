"""E-mail addresses, format-checked."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import ValidationError as InvalidValue
from marshmallow import fields as ma
from marshmallow import validate

from metabiz.objects.fields.base import NOT_PLAIN, register
from metabiz.objects.fields.text import Text
from metabiz.platform.metadata.model import FieldDef

#: marshmallow's own e-mail check (what `ma.Email` runs)
_FORMAT = validate.Email()
#: the everyday addresses, a strict subset of what _FORMAT accepts (its dot-atom user part,
#: its domain labels, a letters-only top-level domain): one match instead of its two
_EVERYDAY = re.compile(r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@"
                       r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,6}")


@register
class Email(Text):
    name = "email"
    widget = "email"
    converts_to = frozenset({"text"})

    def marshmallow_field(self, f: FieldDef) -> ma.Field:
        return ma.Email(allow_none=True, validate=validate.Length(max=254))

    def quick_load(self, f: FieldDef, value: Any) -> Any:
        """What the marshmallow field does (a string of at most 254 characters in e-mail
        format), without its overhead; anything else goes to it for its message."""
        if value is None:
            return None
        if type(value) is not str or len(value) > 254:
            return NOT_PLAIN
        if _EVERYDAY.fullmatch(value):
            return value
        try:
            _FORMAT(value)
        except InvalidValue:
            return NOT_PLAIN
        return value

    def normalise(self, f: FieldDef, value: Any) -> Any:
        value = super().normalise(f, value)
        return value.strip() if value else value

    def openapi(self, f: FieldDef) -> dict[str, Any]:
        return {"type": "string", "format": "email"}

    def from_text(self, f: FieldDef, text: str) -> Any:
        return super().from_text(f, text.strip())
