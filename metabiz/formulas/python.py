"""The Python back end: a checked formula → a function of an EvalContext.

Generated source (python_source.py) with a closure tree as the fallback, both built once
per formula; blank rules, exact decimals and dates follow docs/formulas.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, DivisionByZero, InvalidOperation, Overflow
from typing import Any

from metabiz.errors import FormulaError
from metabiz.formulas import nodes as n
from metabiz.formulas.checker import CheckedFormula
from metabiz.formulas.ftypes import FType
from metabiz.formulas.functions import FUNCTIONS
from metabiz.formulas.functions.math import power
from metabiz.formulas.limits import MAX_TEXT, checked_text, result_check, too_large, too_long
from metabiz.formulas.python_source import Unsupported, generate
from metabiz.formulas.values import (
    as_decimal,
    as_int,
    is_blank,
    ms_of_time,
    normalise_multi,
    normaliser,
    time_of_ms,
    utc,
)

Closure = Callable[["EvalContext"], Any]
DAY_SECONDS = Decimal(86400)
#: reads a field of another object's record: (object, field, key_field, key) → raw value
Lookup = Callable[[str, str, str, Any], Any]


@dataclass(slots=True)
class EvalContext:
    """The record a formula runs on, the record before the change, the clock, and (for
    VLOOKUP) access to other objects' records."""

    record: Mapping[str, Any]
    prior: Mapping[str, Any] | None = None
    resolve: Callable[[tuple[str, ...]], Any] | None = None
    now: dt.datetime | None = None
    is_new: bool | None = None
    #: VLOOKUP's data access, given by the objects layer: `vlookup(object, field,
    #: key_field, key)` returns the raw value of `field` on the record of `object` whose
    #: `key_field` equals `key` — the one with the lowest id when several do, None when
    #: none does. `key` is never blank.
    vlookup: Lookup | None = None

    def is_new_record(self) -> bool:
        return self.prior is None if self.is_new is None else self.is_new

    def lookup(self, object_name: str, field_name: str, key_field: str, key: Any) -> Any:
        """VLOOKUP's read (FormulaError when this context gives no access to records)."""
        if self.vlookup is None:
            raise FormulaError(f"VLOOKUP cannot read {object_name} records here: no record "
                               "access was given to the formula", kind="eval")
        return self.vlookup(object_name, field_name, key_field, key)

    def current_time(self) -> dt.datetime:
        if self.now is None:
            self.now = dt.datetime.now(dt.UTC)
        return utc(self.now)


def compile_python(checked: CheckedFormula) -> Callable[[EvalContext], Any]:
    """The formula as a function of an EvalContext (raises FormulaError kind "eval").

    Generated source (python_source) when it can, closures otherwise: both give the
    same values, the first several times faster.
    """
    check = result_check(checked.type)
    try:  # turns arithmetic errors into FormulaError and checks the result itself
        return generate(checked, HELPERS, check)
    except (Unsupported, SyntaxError, RecursionError, MemoryError):
        return _limited(compile_closures(checked), check)


def _limited(run: Callable[[EvalContext], Any],
             check: Callable[[Any], Any] | None) -> Callable[[EvalContext], Any]:
    """The formula, refusing a result beyond the limits (limits.py) before anyone sees it."""
    if check is None:
        return run

    def evaluate(ctx: EvalContext) -> Any:
        return check(run(ctx))

    if hasattr(run, "source"):  # the generated source, for debugging and tests
        evaluate.source = run.source  # type: ignore[attr-defined]
    return evaluate


def compile_closures(checked: CheckedFormula) -> Callable[[EvalContext], Any]:
    """The formula as a tree of closures (the fallback; also tested against the source)."""
    return _guarded(_Compiler(checked).build(checked.expr))


#: what Decimal, datetime and math raise on bad arithmetic; reported as evaluation errors
ARITHMETIC_ERRORS = (DivisionByZero, ZeroDivisionError, InvalidOperation, Overflow,
                     OverflowError, ValueError)


def eval_error(err: Exception) -> FormulaError:
    """An arithmetic exception as the FormulaError users see."""
    if isinstance(err, DivisionByZero | ZeroDivisionError):
        return FormulaError("division by zero", kind="eval")
    if isinstance(err, Overflow):  # Decimal past its exponent range (1e999999)
        return too_large("the formula")
    return FormulaError(f"cannot compute the formula: {err}", kind="eval")


def _guarded(run: Callable[[EvalContext], Any]) -> Callable[[EvalContext], Any]:
    def evaluate(ctx: EvalContext) -> Any:
        try:
            return run(ctx)
        except FormulaError:
            raise
        except ARITHMETIC_ERRORS as err:
            raise eval_error(err) from None

    return evaluate


def _read_path(ctx: EvalContext, path: tuple[str, ...]) -> Any:
    return ctx.resolve(path) if ctx.resolve is not None else None


class _Compiler:
    def __init__(self, checked: CheckedFormula) -> None:
        self.checked = checked

    def build(self, node: n.Expr) -> Closure:
        return getattr(self, f"build_{type(node).__name__}")(node)  # type: ignore[no-any-return]

    def build_Number(self, node: n.Number) -> Closure:
        value = node.value
        return lambda ctx: value

    def build_String(self, node: n.String) -> Closure:
        value = node.value or None
        return lambda ctx: value

    def build_Boolean(self, node: n.Boolean) -> Closure:
        value = node.value
        return lambda ctx: value

    def build_Null(self, node: n.Null) -> Closure:
        return lambda ctx: None

    def build_Constant(self, node: n.Constant) -> Closure:
        value = node.value
        return lambda ctx: value

    def build_FieldRef(self, node: n.FieldRef) -> Closure:
        norm = normaliser(node.ftype)
        zero = self.checked.blanks_as_zero and node.ftype is FType.NUMBER
        if len(node.path) == 1:
            name = node.path[0]

            def read(ctx: EvalContext) -> Any:
                return norm(ctx.record.get(name))
        else:
            path = node.path

            def read(ctx: EvalContext) -> Any:
                return norm(ctx.resolve(path)) if ctx.resolve is not None else None
        if zero:
            return lambda ctx: read(ctx) or Decimal(0)
        return read

    def build_Unary(self, node: n.Unary) -> Closure:
        operand = self.build(node.operand)
        if node.op == "!":
            return lambda ctx: operand(ctx) is not True
        if node.op == "-":
            def negate(ctx: EvalContext) -> Any:
                value = operand(ctx)
                return None if value is None else -value

            return negate
        return operand

    def build_Binary(self, node: n.Binary) -> Closure:
        left, right, op = self.build(node.left), self.build(node.right), node.op
        if op == "&&":
            return lambda ctx: left(ctx) is True and right(ctx) is True
        if op == "||":
            return lambda ctx: left(ctx) is True or right(ctx) is True
        if op == "=":
            return lambda ctx: _equal(left(ctx), right(ctx))
        if op == "<>":
            return lambda ctx: not _equal(left(ctx), right(ctx))
        if op in ("<", "<=", ">", ">="):
            compare = _COMPARE[op]

            def ordered(ctx: EvalContext) -> bool:
                a, b = left(ctx), right(ctx)
                if is_blank(a) or is_blank(b):
                    return False
                return compare(a, b)

            return ordered
        if op == "&" or (op == "+" and node.ftype is FType.TEXT):
            def join(ctx: EvalContext) -> Any:
                return checked_text((left(ctx) or "") + (right(ctx) or ""), op) or None

            return join
        arith = self._arithmetic(node)

        def calculate(ctx: EvalContext) -> Any:
            a, b = left(ctx), right(ctx)
            if a is None or b is None:
                return None
            return arith(a, b)

        return calculate

    def build_Call(self, node: n.Call) -> Closure:
        fn = FUNCTIONS[node.name]
        impl = fn.python
        args = [self.build(a) for a in node.args]
        if fn.lazy:
            return lambda ctx: impl(ctx, args, node)
        if len(args) == 1:
            (only,) = args
            return lambda ctx: impl(only(ctx))
        if len(args) == 2:
            first, second = args
            return lambda ctx: impl(first(ctx), second(ctx))
        return lambda ctx: impl(*(a(ctx) for a in args))

    def _arithmetic(self, node: n.Binary) -> Callable[[Any, Any], Any]:
        lt, rt, op = node.left.ftype, node.right.ftype, node.op
        if FType.TIME in (lt, rt):
            if rt is FType.TIME and op == "-":
                return _ms_between
            if rt is FType.TIME:
                return lambda a, b: _shift_time(b, a)
            return lambda a, b: _shift_time(a, b if op == "+" else -b)
        if op == "+" and rt in (FType.DATE, FType.DATETIME):
            return lambda a, b: _shift(b, a)
        if op in ("+", "-") and lt in (FType.DATE, FType.DATETIME):
            if rt is lt and op == "-":
                return _days_between
            sign = 1 if op == "+" else -1
            return lambda a, b: _shift(a, sign * b)
        return _NUMERIC[op]


def _equal(a: Any, b: Any) -> bool:
    if is_blank(a) or is_blank(b):
        return is_blank(a) and is_blank(b)
    return bool(a == b)


def _divide(a: Decimal, b: Decimal) -> Decimal:
    if b == 0:
        raise FormulaError("division by zero", kind="eval")
    return a / b


def _shift(value: dt.date, days: Decimal) -> dt.date:
    if isinstance(value, dt.datetime):
        micro = int((days * DAY_SECONDS * 1_000_000).to_integral_value())
        return utc(value) + dt.timedelta(microseconds=micro)
    return value + dt.timedelta(days=as_int(days))


def _days_between(a: dt.date, b: dt.date) -> Decimal:
    if a.__class__ is dt.date:
        return as_decimal((a - b).days)
    if isinstance(a, dt.datetime):
        delta = utc(a) - utc(b)  # type: ignore[arg-type]
        micro = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
        return Decimal(micro) / (DAY_SECONDS * 1_000_000)
    return Decimal((a - b).days)


def _shift_time(value: dt.time, ms: Decimal) -> dt.time:
    """A time of day plus milliseconds (fractions cut), wrapping at midnight."""
    return time_of_ms(ms_of_time(value) + as_int(ms))


def _ms_between(a: dt.time, b: dt.time) -> Decimal:
    return as_decimal(ms_of_time(a) - ms_of_time(b))


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}
_NUMERIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "/": _divide, "^": power,
}

HELPERS: dict[str, Any] = {
    "FormulaError": FormulaError, "ARITHMETIC_ERRORS": ARITHMETIC_ERRORS,
    "eval_error": eval_error, "equal": _equal, "divide": _divide, "shift": _shift,
    "days_between": _days_between, "shift_time": _shift_time, "ms_between": _ms_between,
    "read_path": _read_path, "normalise_multi": normalise_multi, "normaliser": normaliser,
    "MAX_TEXT": MAX_TEXT, "too_long": too_long,
}
