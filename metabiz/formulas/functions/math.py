"""Math functions on exact decimals: ABS CEILING FLOOR MCEILING MFLOOR ROUND TRUNC MOD MAX MIN
SQRT EXP LN LOG POWER SUM AVERAGE. A blank argument gives blank (SUM and AVERAGE skip blanks).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_UP, ROUND_UP, Decimal
from typing import Any

from sqlalchemy import Numeric, and_, case, func, literal, not_, or_

from metabiz.errors import FormulaError
from metabiz.formulas.ftypes import FType
from metabiz.formulas.functions.registry import NUM, SqlCall, fixed, register
from metabiz.formulas.functions.sql_support import (
    bind,
    exact,
    exact_sum,
    integer,
    numeric,
    power_of_ten,
)
from metabiz.formulas.limits import (
    MAX_EXACT_EXPONENT,
    NUMBER_DIGITS,
    checked_number,
    too_large,
)
from metabiz.formulas.nodes import Number, Unary, is_leaf
from metabiz.formulas.values import as_int

#: above this EXP overflows a float: Python raises, SQL gives blank
EXP_LIMIT = math.log(sys.float_info.max)


def blank_safe(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Blank in, blank out. The Python back end inlines the test and calls `blank_safe_of`."""
    def run(*args: Any) -> Any:
        if None in args:
            return None
        return fn(*args)

    run.blank_safe_of = fn  # type: ignore[attr-defined]
    return run


def _digits(value: Decimal | None) -> int:
    if value is None:
        return 0
    return as_int(value)


_QUANTA: dict[Any, Decimal] = {digits: Decimal(1).scaleb(-digits) for digits in range(-20, 29)}


def _quantum(digits: int) -> Decimal:
    quantum = _QUANTA.get(digits)
    return Decimal(1).scaleb(-digits) if quantum is None else quantum


def round_quantum(digits: Decimal | None) -> Decimal:
    """What ROUND(x, digits) quantizes to (compiled formulas take it once for a literal)."""
    quantum = _QUANTA.get(0 if digits is None else digits)  # Decimal(2) finds 2
    return _quantum(_digits(digits)) if quantum is None else quantum


def _round(value: Decimal, digits: Decimal | None = None) -> Decimal:
    return value.quantize(round_quantum(digits), rounding=ROUND_HALF_UP)


def _trunc(value: Decimal, digits: Decimal | None = None) -> Decimal:
    return value.quantize(_quantum(_digits(digits)), rounding=ROUND_DOWN)


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
        if exponent == exponent.to_integral_value() and abs(exponent) <= MAX_EXACT_EXPONENT:
            if base == 0 and exponent < 0:
                raise FormulaError("division by zero", kind="eval")
            result = base ** int(exponent)
        elif base < 0:
            raise FormulaError(f"POWER: {base} has no real power {exponent}", kind="eval")
        else:
            result = Decimal(repr(math.pow(float(base), float(exponent))))
    except (OverflowError, ArithmeticError) as err:
        if isinstance(err, FormulaError):
            raise
        raise too_large("POWER") from None
    return checked_number(result, "POWER")


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
        if len(c.args) == 1:
            return c.args[0]
        sqlite_name = {"greatest": "max", "least": "min"}[name]
        fn = getattr(func, name if c.dialect == "postgresql" else sqlite_name)
        if c.dialect == "sqlite":  # its min()/max() of several are blank when any is
            return fn(*c.args)
        any_blank = or_(*(a.is_(None) for a in c.args))
        return case((any_blank, None), else_=fn(*c.args))

    return build


def _literal_digits(c: SqlCall) -> int | None:
    """The digits argument of ROUND/TRUNC when it is a literal (the usual case)."""
    if len(c.node.args) < 2:
        return 0
    arg = c.node.args[1]
    if isinstance(arg, Number):
        return int(arg.value)
    if isinstance(arg, Unary) and arg.op == "-" and isinstance(arg.operand, Number):
        return -int(arg.operand.value)
    return None


def _round_sql(c: SqlCall) -> Any:
    value, d = c.args[0], c.dialect
    digits = c.args[1] if len(c.args) > 1 else literal(0)
    if d == "postgresql":
        return func.round(numeric(value, d), integer(digits, d))
    # SQLite's round() rounds half away from zero on the decimal text of the value
    # (round(1.005, 2) = 1.01), but treats negative digits as 0: scale by hand there.
    fixed_digits = _literal_digits(c)
    if fixed_digits is not None and fixed_digits >= 0:
        return func.round(value, fixed_digits)
    scale = power_of_ten(-integer(digits, d), d)
    negative = exact(func.round(exact(value / scale, d)) * scale, d)
    if fixed_digits is not None:
        return negative
    return case((integer(digits, d) >= 0, func.round(value, integer(digits, d))),
                else_=negative)


def _trunc_sql(c: SqlCall) -> Any:
    value, d = c.args[0], c.dialect
    digits = c.args[1] if len(c.args) > 1 else literal(0)
    if d == "postgresql":
        return func.trunc(numeric(value, d), integer(digits, d))
    scale = power_of_ten(integer(digits, d), d)
    return exact(func.trunc(exact(value * scale, d)) / scale, d)


def _mceiling_sql(c: SqlCall) -> Any:
    return func.ceil(c.args[0])


def _mfloor_sql(c: SqlCall) -> Any:
    # SQLAlchemy replaces SQLite's floor() by Python's math.floor, which fails on NULL
    if c.dialect == "sqlite":
        return -func.ceil(-c.args[0])
    return func.floor(c.args[0])


def _ceiling_sql(c: SqlCall) -> Any:
    """Away from zero: up for positive numbers, down for negative ones."""
    value = c.args[0]
    return case((value < 0, -func.ceil(-value)), else_=func.ceil(value))


def _floor_towards_zero_sql(c: SqlCall) -> Any:
    return func.trunc(c.args[0] if c.dialect == "sqlite" else numeric(c.args[0], c.dialect))


def _mod_sql(c: SqlCall) -> Any:
    a, b = numeric(c.args[0], c.dialect), c.args[1]
    whole = func.trunc(exact(a / func.nullif(b, 0), c.dialect))
    return exact_sum([a, exact(b * whole, c.dialect)], [1, -1], c.dialect, simple=False)


def power_sql(base: Any, exponent: Any, dialect: str) -> Any:
    """base ^ exponent; blank where Python raises (0 ^ -1, a negative base's root, a result
    beyond limits.MAX_NUMBER: known from the logarithm before anything is computed)."""
    # both are read several times: named once, so nested powers neither repeat nor deepen
    return bind([base, exponent], lambda b, e: _power_of(b, e, dialect))


def _power_of(base: Any, exponent: Any, dialect: str) -> Any:
    whole = exponent == func.trunc(exponent)
    # log10 of at least 1e-300: 0 would fail, even in a branch CASE does not take
    if dialect == "sqlite":
        magnitude = exponent * func.log10(func.max(func.abs(base), literal(1e-300)))
    else:
        floor = literal(Decimal("1e-300"), Numeric())
        magnitude = numeric(exponent, dialect) * func.log(
            func.greatest(func.abs(numeric(base, dialect)), floor))
    undefined = or_(and_(base == 0, exponent < 0), and_(base < 0, not_(whole)),
                    and_(base != 0, magnitude >= NUMBER_DIGITS))
    if dialect == "sqlite":
        return case((undefined, None), else_=func.pow(base, exponent))
    return case((undefined, None), else_=func.power(numeric(base, dialect),
                                                    numeric(exponent, dialect)))


def _guarded(fn_name: str, bad: Callable[[Any], Any]) -> Callable[[SqlCall], Any]:
    """A one-argument math function; blank where Python raises (SQRT(-1), LN(0))."""
    def build(c: SqlCall) -> Any:
        value = c.args[0]
        name = fn_name
        if fn_name == "log10" and c.dialect == "postgresql":
            name = "log"
        arg = value if c.dialect == "sqlite" else numeric(value, c.dialect)
        return case((bad(value), None), else_=getattr(func, name)(arg))

    return build


def _present_count(args: list[Any]) -> Any:
    count: Any = literal(0)
    for a in args:
        count = count + case((a.is_(None), 0), else_=1)
    return count


def _total(c: SqlCall) -> Any:
    return exact_sum(c.args, [1] * len(c.args), c.dialect, skip_blanks=True,
                     simple=all(is_leaf(a) for a in c.node.args))


def _sum_sql(c: SqlCall) -> Any:
    return case((_present_count(c.args) == 0, None), else_=_total(c))


def _average_sql(c: SqlCall) -> Any:
    return exact(numeric(_total(c), c.dialect) / func.nullif(_present_count(c.args), 0),
                 c.dialect)


one = fixed([NUM], FType.NUMBER)
one_or_two = fixed([NUM, NUM], FType.NUMBER)
many = fixed([], FType.NUMBER, rest=NUM)

register("ABS", 1, 1, one, blank_safe(abs), lambda c: func.abs(c.args[0]), summary="ABS(number)")
register("CEILING", 1, 1, one,
         blank_safe(lambda v: v.to_integral_value(rounding=ROUND_UP)), _ceiling_sql,
         summary="CEILING(number): to a whole number away from zero (CEILING(-2.5) = -3)")
register("FLOOR", 1, 1, one,
         blank_safe(lambda v: v.to_integral_value(rounding=ROUND_DOWN)),
         _floor_towards_zero_sql,
         summary="FLOOR(number): to a whole number towards zero (FLOOR(-2.5) = -2)")
register("MCEILING", 1, 1, one,
         blank_safe(lambda v: v.to_integral_value(rounding=ROUND_CEILING)), _mceiling_sql,
         summary="MCEILING(number): rounds up on the number line (MCEILING(-2.5) = -2)")
register("MFLOOR", 1, 1, one,
         blank_safe(lambda v: v.to_integral_value(rounding=ROUND_FLOOR)), _mfloor_sql,
         summary="MFLOOR(number): rounds down on the number line (MFLOOR(-2.5) = -3)")
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
register("SQRT", 1, 1, one, blank_safe(_sqrt), _guarded("sqrt", lambda v: v < 0),
         summary="SQRT(number)")
register("EXP", 1, 1, one, blank_safe(_real("EXP", math.exp)),
         _guarded("exp", lambda v: v > EXP_LIMIT), summary="EXP(number): e^number")
register("LN", 1, 1, one, blank_safe(_real("LN", math.log, positive=True)),
         _guarded("ln", lambda v: v <= 0),
         summary="LN(number): natural logarithm")
register("LOG", 1, 1, one, blank_safe(_real("LOG", math.log10, positive=True)),
         _guarded("log10", lambda v: v <= 0),
         summary="LOG(number): base-10 logarithm")
register("POWER", 2, 2, one_or_two, blank_safe(power),
         lambda c: exact(power_sql(c.args[0], c.args[1], c.dialect), c.dialect),
         summary="POWER(base, exponent)")
register("SUM", 1, None, many, _sum, _sum_sql, summary="SUM(number, ...): blanks are skipped")
register("AVERAGE", 1, None, many, _average, _average_sql,
         summary="AVERAGE(number, ...): blanks are skipped")

