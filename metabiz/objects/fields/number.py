"""Exact decimal numbers with a scale, optionally bounded by `min` and `max`.

Currency and percent share this behaviour (see currency.py, percent.py).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from marshmallow import fields as ma
from marshmallow import validate
from sqlalchemy import Numeric

from metabiz.formulas import FType
from metabiz.objects.fields.base import FieldType, register
from metabiz.platform.metadata.model import FieldDef, MetadataBundle

PRECISION = 18


@register
class Number(FieldType):
    name = "number"
    formula_type = FType.NUMBER
    widget = "number"
    default_scale = 0
    converts_to = frozenset({"text", "currency", "percent", "number"})

    def scale(self, f: FieldDef) -> int:
        return self.default_scale if f.scale is None else f.scale

    def column_type(self, f: FieldDef, bundle: MetadataBundle) -> Numeric[Decimal]:
        return Numeric(PRECISION, self.scale(f), asdecimal=True)

    def marshmallow_field(self, f: FieldDef) -> ma.Field:
        bounds = validate.Range(min=None if f.min is None else Decimal(str(f.min)),
                                max=None if f.max is None else Decimal(str(f.max)))
        return ma.Decimal(allow_none=True, validate=bounds, allow_nan=False)

    def normalise(self, f: FieldDef, value: Any) -> Any:
        if value is None:
            return None
        quantum = Decimal(1).scaleb(-self.scale(f))
        return Decimal(value).quantize(quantum, rounding=ROUND_HALF_UP)

    def from_db(self, f: FieldDef, value: Any) -> Any:
        if value is None:
            return None
        return self.normalise(f, value if isinstance(value, Decimal) else Decimal(str(value)))

    def openapi(self, f: FieldDef) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "number"}
        if f.min is not None:
            schema["minimum"] = f.min
        if f.max is not None:
            schema["maximum"] = f.max
        return schema
