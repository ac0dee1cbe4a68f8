"""A reference to a record of another object (a foreign key with a delete rule).

`on_delete`: `restrict` (default: the target cannot be deleted while referenced)
or `set_null`. Dotted formula references (`account.industry`) traverse it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import fields as ma
from marshmallow import validate
from sqlalchemy import BigInteger, Integer

from metabiz.formulas import FieldSpec, FType
from metabiz.objects.fields.base import NOT_PLAIN, FieldType, register
from metabiz.platform.metadata.model import FieldDef, MetadataBundle

#: the largest id a record can have (a signed 64-bit column)
MAX_ID = 2**63 - 1


@register
class Lookup(FieldType):
    name = "lookup"
    formula_type = FType.NUMBER
    widget = "lookup"
    converts_to = frozenset({"text"})

    def column_type(self, f: FieldDef, bundle: MetadataBundle) -> BigInteger:
        return BigInteger().with_variant(Integer, "sqlite")  # type: ignore[return-value]

    def ondelete(self, f: FieldDef) -> str:
        return "SET NULL" if f.on_delete == "set_null" else "RESTRICT"

    def marshmallow_field(self, f: FieldDef) -> ma.Field:
        return ma.Integer(allow_none=True, strict=True, validate=validate.Range(
            min=1, max=MAX_ID, error="not a record id"))

    def normalise(self, f: FieldDef, value: Any) -> Any:
        # a default that follows another lookup (`ticket.account`) gives a formula number
        if isinstance(value, Decimal) and value == value.to_integral_value():
            return int(value)
        return value

    def quick_load(self, f: FieldDef, value: Any) -> Any:
        return value if value is None or type(value) is int and 1 <= value <= MAX_ID \
            else NOT_PLAIN

    def spec(self, f: FieldDef, bundle: MetadataBundle) -> FieldSpec:
        return FieldSpec(name=f.api_name, type=FType.NUMBER, target=f.target)

    def openapi(self, f: FieldDef) -> dict[str, Any]:
        return {"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_ID,
                "description": f"id of a {f.target} record"}
