"""The typed AST: frozen dataclasses carrying source spans.

The parser builds nodes with `ftype=None`; the checker returns a copy of the tree with
every node's `ftype` filled in, which is what the back ends compile.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from metabiz.formulas.ftypes import FType


@dataclass(frozen=True, slots=True)
class Span:
    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True)
class Expr:
    span: Span
    ftype: FType | None = field(default=None, compare=False, kw_only=True)


@dataclass(frozen=True)
class Number(Expr):
    value: Decimal


@dataclass(frozen=True)
class String(Expr):
    value: str


@dataclass(frozen=True)
class Boolean(Expr):
    value: bool


@dataclass(frozen=True)
class Null(Expr):
    pass


@dataclass(frozen=True)
class Constant(Expr):
    """An argument the checker resolved at compile time, which the back ends pass to the
    function as it is: the business calendar NETWORKDAYS names, the (object, field) pair
    VLOOKUP reads. Its ftype is what the function's typer sees."""

    value: Any = field(compare=False)
    name: str = ""


@dataclass(frozen=True)
class FieldRef(Expr):
    path: tuple[str, ...]


@dataclass(frozen=True)
class Unary(Expr):
    op: str  # "-", "+", "!"
    operand: Expr


@dataclass(frozen=True)
class Binary(Expr):
    op: str  # "||" "&&" "=" "<>" "<" "<=" ">" ">=" "+" "-" "&" "*" "/" "^"
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Call(Expr):
    name: str  # upper case
    args: tuple[Expr, ...]


LITERALS = (Number, String, Boolean, Null)


def is_leaf(node: Expr) -> bool:
    """A literal (possibly signed) or a field reference: nothing computed from other parts."""
    if isinstance(node, Unary) and node.op in ("-", "+"):
        node = node.operand
    return isinstance(node, (*LITERALS, FieldRef))


def children(node: Expr) -> tuple[Expr, ...]:
    """The parts a node is computed from, left to right."""
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Call):
        return node.args
    return ()
