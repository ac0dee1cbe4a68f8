"""Read-only numbers given on create from a per-field counter: `"INV-{0000}"` → INV-0042.

The counter row is incremented inside the inserting transaction, so concurrent
inserts never share a number (a row lock on PostgreSQL, the write lock on SQLite).
"""

from __future__ import annotations

import re
from typing import Any

from marshmallow import fields as ma
from sqlalchemy import String

from metabiz.formulas import FType
from metabiz.objects.fields.base import FieldType, register
from metabiz.platform.metadata.model import FieldDef, MetadataBundle

_GROUP = re.compile(r"\{(0+)\}")


@register
class AutoNumber(FieldType):
    name = "auto_number"
    formula_type = FType.TEXT
    widget = "readonly"
    writable = False
    searchable = True
    converts_to = frozenset({"text"})

    def column_type(self, f: FieldDef, bundle: MetadataBundle) -> String:
        return String(80)

    def marshmallow_field(self, f: FieldDef) -> ma.Field:
        return ma.String(dump_only=True)

    def render(self, f: FieldDef, n: int) -> str:
        fmt = f.format or "{0000}"
        return _GROUP.sub(lambda m: str(n).zfill(len(m.group(1))), fmt, count=1)

    def openapi(self, f: FieldDef) -> dict[str, Any]:
        return {"type": "string", "readOnly": True}
