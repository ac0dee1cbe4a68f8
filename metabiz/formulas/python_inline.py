"""What the generated Python source computes inline instead of calling a function's helper.

ROUND with literal digits, YEAR/MONTH/DAY, DATE, LEFT, UPPER and LOWER, and whole numbers
(date parts, small whole literals and their sums) kept as Python ints until a Decimal is due.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from metabiz.errors import FormulaError
from metabiz.formulas import nodes as n
from metabiz.formulas.ftypes import FType
from metabiz.formulas.functions import FUNCTIONS
from metabiz.formulas.functions.math import round_quantum

#: whole literals kept as ints: small enough that sums of a few of them stay far below the
#: 28 digits where Decimal arithmetic would start rounding
WHOLE_LIMIT = 10**6
DATE_PARTS = {"YEAR": "year", "MONTH": "month", "DAY": "day"}


class Inlined:
    """The inline forms, mixed into python_source's generator."""

    if TYPE_CHECKING:  # provided by the generator
        scopes: list[dict[tuple[Any, ...], str]]
        never_blank: set[str]

        def value(self, node: n.Expr) -> str: ...
        def temp(self, *, boolean: bool = False) -> str: ...
        def emit(self, line: str) -> None: ...
        def const(self, value: Any) -> str: ...
        def emit_blank_safe(self, var: str, expression: str, *inputs: str) -> None: ...
        def call_function(self, node: n.Call) -> str: ...

    # -- whole numbers ------------------------------------------------------------------------
    def whole(self, node: n.Expr) -> bool:
        """Whether `node` is a number cheaply computed as a Python int (blank: None): a
        small whole literal, a date part of a date, a sum or difference of those."""
        if isinstance(node, n.Number):
            return node.value == node.value.to_integral_value() and \
                abs(node.value) < WHOLE_LIMIT
        if isinstance(node, n.Call):
            return node.name in DATE_PARTS and node.args[0].ftype is FType.DATE
        if isinstance(node, n.Binary):
            return node.op in ("+", "-") and node.ftype is FType.NUMBER and \
                self.whole(node.left) and self.whole(node.right)
        return False

    def whole_value(self, node: n.Expr) -> str:
        """A name or literal holding a `whole` node's value as an int (blank: None)."""
        if isinstance(node, n.Number):
            self.never_blank.add(str(int(node.value)))
            return str(int(node.value))
        key = ("whole", *node_key(node))
        for scope in reversed(self.scopes):
            if key in scope:
                return scope[key]
        var = self.temp()
        if isinstance(node, n.Call):
            date = self.value(node.args[0])
            raw = self.const(FUNCTIONS[node.name].python.blank_safe_of)  # type: ignore[attr-defined]
            self.emit_blank_safe(var, f"{date}.{DATE_PARTS[node.name]} if {date}.__class__ is "
                                 f"date else as_int({raw}({date}))", date)
        else:
            assert isinstance(node, n.Binary)
            left, right = self.whole_value(node.left), self.whole_value(node.right)
            self.emit_blank_safe(var, f"{left} {node.op} {right}",
                                 *(v for v in (left, right) if not _literal(v)))
        self.scopes[-1][key] = var
        return var

    def whole_as_decimal(self, node: n.Expr) -> str:
        """A `whole` node's value where a Decimal is due."""
        whole, var = self.whole_value(node), self.temp()
        self.emit_blank_safe(var, f"DECIMALS.get({whole}) or Decimal({whole})", whole)
        return var

    # -- functions ----------------------------------------------------------------------------
    def call_ROUND(self, node: n.Call) -> str:
        digits = node.args[1]
        try:
            quantum = round_quantum(digits.value) if isinstance(digits, n.Number) else None
        except FormulaError:
            quantum = None
        if quantum is None:
            return self.call_function(node)
        value, var = self.value(node.args[0]), self.temp()
        self.emit_blank_safe(var, f"{value}.quantize({self.const(quantum)}, ROUND_HALF_UP)",
                             value)
        return var

    def call_DATE(self, node: n.Call) -> str:
        """DATE of whole numbers without a Decimal → int conversion each (literals: none)."""
        args, computed = [], []
        for arg in node.args:
            if self.whole(arg):
                args.append(self.whole_value(arg))
                if not _literal(args[-1]):
                    computed.append(args[-1])
            else:
                computed.append(self.value(arg))
                args.append(f"as_int({computed[-1]})")
        var = self.temp()
        self.emit_blank_safe(var, f"date_of_ints({', '.join(args)})", *computed)
        return var

    def call_LEFT(self, node: n.Call) -> str:
        count = node.args[1]
        if not isinstance(count, n.Number) or not 0 < count.value < WHOLE_LIMIT:
            return self.call_function(node)
        value, var = self.value(node.args[0]), self.temp()
        self.emit(f"{var} = str({value})[:{int(count.value)}] if {value} else None")
        return var

    def call_UPPER(self, node: n.Call) -> str:
        value, var = self.value(node.args[0]), self.temp()
        self.emit(f"{var} = str({value}).upper() if {value} else None")
        return var

    def call_LOWER(self, node: n.Call) -> str:
        value, var = self.value(node.args[0]), self.temp()
        self.emit(f"{var} = str({value}).lower() if {value} else None")
        return var


def _literal(text: str) -> bool:
    return text.lstrip("-").isdigit()


def node_key(node: n.Expr) -> tuple[Any, ...]:
    """What a subexpression computes, without where it stands in the source."""
    if isinstance(node, n.Number):
        return ("number", str(node.value))
    if isinstance(node, n.String | n.Boolean):
        return (type(node).__name__, node.value)
    if isinstance(node, n.FieldRef):
        return ("field", node.path)
    if isinstance(node, n.Unary):
        return ("unary", node.op, node_key(node.operand))
    if isinstance(node, n.Binary):
        return ("binary", node.op, node_key(node.left), node_key(node.right))
    if isinstance(node, n.Call):
        return ("call", node.name, *(node_key(a) for a in node.args))
    if isinstance(node, n.Constant):
        return ("constant", node.name, id(node.value))
    return ("null",)
