"""Math functions on exact decimals: ABS CEILING FLOOR ROUND TRUNC MOD MAX MIN SQRT EXP LN
LOG POWER SUM AVERAGE. A blank argument gives blank (SUM and AVERAGE skip blanks).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import case, func, or_

from metabiz.errors import FormulaError
from metabiz.formulas.ftypes import FType
from metabiz.formulas.functions.registry import NUM, SqlCall, fixed, register
from metabiz.formulas.functions.sql_support import integer, numeric


def blank_safe(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Blank in, blank out."""
    def run(*args: Any) -> Any:
        if any(a is None for a in args):
            return None
        return fn(*args)

    return run


def _digits(value: Decimal | None) -> int:
    if value is None:
        return 0
    return int(value)


def round_half_away(value: Decimal, digits: int = 0) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def _round(value: Decimal, digits: Decimal | None = None) -> Decimal:
    return round_half_away(value, _digits(digits))


def _trunc(value: Decimal, digits: Decimal | None = None) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-_digits(digits)), rounding=ROUND_DOWN)


def _mod(a: Decimal, b: Decimal) -> Decimal:
    if b == 0:
        raise FormulaError("MOD: division by zero", kind="eval")
    return a % b  # the sign follows the dividend, as in Salesforce and SQL


def _real(name: str, fn: Callable[[float], float], *, positive: bool = False,
          non_negative: bool = False) -> Callable[[Decimal], Decimal]:
    def run(value: Decimal) -> Decimal:
        if positive and value <= 0:
            raise FormulaError(f"{name}: {value} is not a positive number", kind="eval")
        if non_negative and value < 0:
            raise FormulaError(f"{name}: {value} is negative", kind="eval")
        try:
            return Decimal(repr(fn(float(value))))
        except OverflowError:
            raise FormulaError(f"{name}: the result is too large", kind="eval") from None

    return run


def _sqrt(value: Decimal) -> Decimal:
    if value < 0:
        raise FormulaError(f"SQRT: {value} is negative", kind="eval")
    return value.sqrt()


def power(base: Decimal, exponent: Decimal) -> Decimal:
    try:
        if exponent == exponent.to_integral_value() and abs(exponent) <= 1000:
            if base == 0 and exponent < 0:
                raise FormulaError("division by zero", kind="eval")
            return base ** int(exponent)
        if base < 0:
            raise FormulaError(f"POWER: {base} has no real power {exponent}", kind="eval")
        return Decimal(repr(math.pow(float(base), float(exponent))))
    except (OverflowError, ArithmeticError) as err:
        if isinstance(err, FormulaError):
            raise
        raise FormulaError("POWER: the result is too large", kind="eval") from None


def _extreme(pick: Callable[..., Decimal]) -> Callable[..., Any]:
    def run(*values: Decimal | None) -> Any:
        if any(v is None for v in values):
            return None
        return pick(values)

    return run


def _sum(*values: Decimal | None) -> Decimal | None:
    present = [v for v in values if v is not None]
    return sum(present, Decimal(0)) if present else None


def _average(*values: Decimal | None) -> Decimal | None:
    present = [v for v in values if v is not None]
    return sum(present, Decimal(0)) / len(present) if present else None


def _extreme_sql(name: str) -> Callable[[SqlCall], Any]:
    def build(c: SqlCall) -> Any:
        sqlite_name = {"greatest": "max", "least": "min"}[name]
        fn = getattr(func, name if c.dialect == "postgresql" else sqlite_name)
        any_blank = or_(*(a.is_(None) for a in c.args))
        return case((any_blank, None), else_=fn(*c.args))

    return build


def _round_sql(c: SqlCall) -> Any:
    digits = c.args[1] if len(c.args) > 1 else 0
    return func.round(numeric(c.args[0], c.dialect), integer(digits, c.dialect)) \
        if c.dialect == "postgresql" else func.round(c.args[0], digits)


def _trunc_sql(c: SqlCall) -> Any:
    digits = c.args[1] if len(c.args) > 1 else 0
    if c.dialect == "postgresql":
        return func.trunc(numeric(c.args[0], c.dialect), integer(digits, c.dialect))
    scale = func.pow(10, digits)
    return func.trunc(c.args[0] * scale) / scale


def _ceil_sql(c: SqlCall) -> Any:
    return func.ceil(c.args[0])


def _mod_sql(c: SqlCall) -> Any:
    a, b = numeric(c.args[0], c.dialect), c.args[1]
    return a - b * func.trunc(a / func.nullif(b, 0))


one = fixed([NUM], FType.NUMBER)
one_or_two = fixed([NUM, NUM], FType.NUMBER)
many = fixed([], FType.NUMBER, rest=NUM)

register("ABS", 1, 1, one, blank_safe(abs), lambda c: func.abs(c.args[0]), summary="ABS(number)")
register("CEILING", 1, 1, one,
         blank_safe(lambda v: v.to_integral_value(rounding=ROUND_CEILING)), _ceil_sql,
         summary="CEILING(number): rounds up to a whole number")
register("FLOOR", 1, 1, one,
         blank_safe(lambda v: v.to_integral_value(rounding=ROUND_FLOOR)),
         lambda c: func.floor(c.args[0]), summary="FLOOR(number): rounds down")
register("ROUND", 2, 2, one_or_two, blank_safe(_round), _round_sql,
         summary="ROUND(number, digits): half away from zero")
register("TRUNC", 1, 2, one_or_two, blank_safe(_trunc), _trunc_sql,
         summary="TRUNC(number[, digits]): drops digits, towards zero")
register("MOD", 2, 2, one_or_two, blank_safe(_mod), _mod_sql,
         summary="MOD(number, divisor): the remainder, with the sign of number")
register("MAX", 1, None, many, _extreme(max), _extreme_sql("greatest"),
         summary="MAX(number, ...)")
register("MIN", 1, None, many, _extreme(min), _extreme_sql("least"),
         summary="MIN(number, ...)")
register("SQRT", 1, 1, one, blank_safe(_sqrt), summary="SQRT(number)")
register("EXP", 1, 1, one, blank_safe(_real("EXP", math.exp)), summary="EXP(number): e^number")
register("LN", 1, 1, one, blank_safe(_real("LN", math.log, positive=True)),
         summary="LN(number): natural logarithm")
register("LOG", 1, 1, one, blank_safe(_real("LOG", math.log10, positive=True)),
         summary="LOG(number): base-10 logarithm")
register("POWER", 2, 2, one_or_two, blank_safe(power), summary="POWER(base, exponent)")
register("SUM", 1, None, many, _sum, summary="SUM(number, ...): blanks are skipped")
register("AVERAGE", 1, None, many, _average, summary="AVERAGE(number, ...): blanks are skipped")

