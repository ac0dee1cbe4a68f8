"""Formula fields: computed from other fields on every read, never stored.

Their value type is `return_type`; filters and sorts on them compile to SQL. Times of day,
locations, links and images exist only as formula results (the API gives a time as
`17:30:45`, a location as `{"latitude", "longitude"}`, a link or an image as its URL).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from marshmallow import fields as ma

from metabiz.formulas import FieldSpec, FType
from metabiz.objects.fields.base import FieldType, register
from metabiz.platform.metadata.model import FieldDef, MetadataBundle

RETURN_TYPES = {
    "number": FType.NUMBER, "currency": FType.NUMBER, "percent": FType.NUMBER,
    "text": FType.TEXT, "boolean": FType.BOOLEAN, "date": FType.DATE,
    "datetime": FType.DATETIME, "time": FType.TIME, "location": FType.LOCATION,
    "link": FType.LINK, "image": FType.IMAGE,
}

#: the OpenAPI schema of a value, by formula type (text for those not listed)
OPENAPI: dict[FType, dict[str, Any]] = {
    FType.NUMBER: {"type": "number"},
    FType.BOOLEAN: {"type": "boolean"},
    FType.DATE: {"type": "string", "format": "date"},
    FType.DATETIME: {"type": "string", "format": "date-time"},
    FType.TIME: {"type": "string", "pattern": "^[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{3})?$",
                 "description": "a time of day, HH:MM:SS (.mmm with milliseconds)"},
    FType.LOCATION: {"type": "object", "required": ["latitude", "longitude"],
                     "properties": {"latitude": {"type": "number"},
                                    "longitude": {"type": "number"}}},
    FType.LINK: {"type": "string", "format": "uri-reference"},
    FType.IMAGE: {"type": "string", "format": "uri-reference",
                  "description": "the image's URL"},
}


#: default scale of number results per return type (None: not rounded)
SCALED: dict[str, int | None] = {"currency": 2, "percent": 2, "number": None}


@register
class Formula(FieldType):
    name = "formula"
    widget = "readonly"
    stored = False
    writable = False

    def column_type(self, f: FieldDef, bundle: MetadataBundle) -> Any:
        raise TypeError("formula fields have no column")

    def normalise(self, f: FieldDef, value: Any) -> Any:
        """Numbers are rounded (half away from zero) to the field's scale, as displayed."""
        if not isinstance(value, Decimal) or f.return_type not in SCALED:
            return value
        scale = f.scale if f.scale is not None else SCALED[f.return_type or ""]
        if scale is None:
            return value
        return value.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)

    def python_type(self, f: FieldDef) -> FType:
        return RETURN_TYPES[f.return_type or "text"]

    def spec(self, f: FieldDef, bundle: MetadataBundle) -> FieldSpec:
        return FieldSpec(name=f.api_name, type=self.python_type(f))

    def marshmallow_field(self, f: FieldDef) -> ma.Field:
        return ma.Raw(dump_only=True)

    def openapi(self, f: FieldDef) -> dict[str, Any]:
        return {**OPENAPI.get(self.python_type(f), {"type": "string"}), "readOnly": True}
