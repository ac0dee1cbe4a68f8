"""Exact decimal numbers with a scale, optionally bounded by `min` and `max`.

Currency and percent share this behaviour (see currency.py, percent.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, ClassVar

from marshmallow import ValidationError as InvalidValue
from marshmallow import fields as ma
from marshmallow import validate

from metabiz.formulas import FType
from metabiz.objects.fields.base import NOT_PLAIN, FieldType, register
from metabiz.platform.exact_numbers import ExactDecimal
from metabiz.platform.metadata.model import FieldDef, MetadataBundle

PRECISION = 18
#: 1, 0.1, 0.01, … by scale
_QUANTA = {scale: Decimal(1).scaleb(-scale) for scale in range(PRECISION + 1)}
#: `1,234,567.89`: commas that group thousands (dropped when text converts to a number)
_GROUPED = re.compile(r"[-+]?\d{1,3}(,\d{3})+(\.\d*)?")


@register
class Number(FieldType):
    name = "number"
    formula_type = FType.NUMBER
    widget = "number"
    default_scale = 0
    converts_to = frozenset({"text", "currency", "percent", "number"})
    #: signs text may carry around the number when it converts to this type
    symbols: ClassVar[str] = ""

    def scale(self, f: FieldDef) -> int:
        return self.default_scale if f.scale is None else f.scale

    def column_type(self, f: FieldDef, bundle: MetadataBundle) -> ExactDecimal:
        return ExactDecimal(PRECISION, self.scale(f))

    def marshmallow_field(self, f: FieldDef) -> ma.Field:
        bounds = validate.Range(min=None if f.min is None else Decimal(str(f.min)),
                                max=None if f.max is None else Decimal(str(f.max)))
        return ma.Decimal(allow_none=True, validate=[bounds, self.fits_column(f)],
                          allow_nan=False)

    def fits_column(self, f: FieldDef) -> Callable[[Decimal], None]:
        """A validator: at most PRECISION - scale digits before the decimal point (what the
        column holds; 10^26 would otherwise fail in the database)."""
        digits = PRECISION - self.scale(f)

        def check(value: Decimal) -> None:
            if value and value.adjusted() >= digits:
                raise InvalidValue(
                    f"too large: at most {digits} digits before the decimal point")
        return check

    def quick_load(self, f: FieldDef, value: Any) -> Any:
        if value is None:
            return None
        if type(value) not in (int, str, float):
            return NOT_PLAIN
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return NOT_PLAIN
        if not number.is_finite() or (number and number.adjusted() >= PRECISION - self.scale(f)) \
                or (f.min is not None and number < Decimal(str(f.min))) \
                or (f.max is not None and number > Decimal(str(f.max))):
            return NOT_PLAIN
        return number

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
        beyond = 10 ** (PRECISION - self.scale(f))  # what the column cannot hold
        if f.min is not None:
            schema["minimum"] = f.min
        else:
            schema["exclusiveMinimum"] = -beyond
        if f.max is not None:
            schema["maximum"] = f.max
        else:
            schema["exclusiveMaximum"] = beyond
        return schema

    # -- schema evolution -------------------------------------------------------
    def as_text(self, f: FieldDef, value: Any) -> str | None:
        return None if value is None else format(value, "f")

    def from_text(self, f: FieldDef, text: str) -> Any:
        cleaned = text.strip().strip(self.symbols).strip() if self.symbols else text.strip()
        if not cleaned:
            return None
        if _GROUPED.fullmatch(cleaned):
            cleaned = cleaned.replace(",", "")
        try:
            number = Decimal(cleaned)
        except InvalidOperation:
            raise ValueError("not a number") from None
        if not number.is_finite():
            raise ValueError("not a finite number")
        return self.exact(f, number)

    def exact(self, f: FieldDef, number: Decimal) -> Decimal:
        """`number` at the field's scale; ValueError rather than rounding or overflowing."""
        scale = self.scale(f)
        digits = PRECISION - scale
        if number and number.adjusted() >= digits:
            raise ValueError(f"too large: at most {digits} digits before the decimal point")
        # at most PRECISION digits now, well within the default context's 28
        value = number.quantize(_QUANTA[scale], rounding=ROUND_HALF_UP)
        if value != number:
            raise ValueError(f"has more than {scale} decimal places")
        if f.min is not None and value < Decimal(str(f.min)):
            raise ValueError(f"less than the minimum {f.min:g}")
        if f.max is not None and value > Decimal(str(f.max)):
            raise ValueError(f"greater than the maximum {f.max:g}")
        return value
