"""The function registry: one entry per function with its signature, Python and SQL code.

A signature is a typer: it checks the argument types (naming the bad argument) and
returns the result type. `sql=None` marks a function that cannot run in the database.
A `resolve` hook types arguments that are not values (VLOOKUP's `object.field`, a
calendar's name) against the catalog before the typer runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from metabiz.errors import FormulaError
from metabiz.formulas.ftypes import Catalog, FType, accepts
from metabiz.formulas.functions.sql_support import NeverNull
from metabiz.formulas.nodes import Call, Expr, String

ANY = frozenset(FType) - {FType.NULL, FType.CALENDAR}
NUM = frozenset({FType.NUMBER})
TEXT = frozenset({FType.TEXT})
BOOL = frozenset({FType.BOOLEAN})
DATE = frozenset({FType.DATE})
DATETIME = frozenset({FType.DATETIME})
DATELIKE = frozenset({FType.DATE, FType.DATETIME})
TIME = frozenset({FType.TIME})
LOCATION = frozenset({FType.LOCATION})

Typer = Callable[[Sequence[FType], Call], FType]
#: resolves another object's column: `resolve_object("account")(("name",))`
ObjectResolver = Callable[[str], Callable[[tuple[str, ...]], Any]]


@dataclass(frozen=True)
class Resolved:
    """What a `resolve` hook found: typed nodes for some argument positions (the checker
    visits the others), and the other objects' fields the call reads."""

    args: dict[int, Expr]
    #: (object, field, key_field) that VLOOKUP reads
    lookups: tuple[tuple[str, str, str], ...] = ()


Resolver = Callable[[Call, Catalog], Resolved]


@dataclass(frozen=True)
class SqlCall:
    """What a SQL implementation gets: compiled arguments, their types, the dialect."""

    args: list[Any]
    types: list[FType]
    dialect: str
    now: dt.datetime
    node: Call
    #: columns of other objects (VLOOKUP); None when the caller gave none
    resolve_object: ObjectResolver | None = None
    #: the compilation's booleans known never to be NULL (`sql_support.truthy`)
    never_null: NeverNull = field(default_factory=NeverNull)


@dataclass(frozen=True)
class Function:
    name: str
    min_args: int
    max_args: int | None  # None: any number
    typer: Typer
    python: Callable[..., Any]
    sql: Callable[[SqlCall], Any] | None = None
    #: the Python code receives (context, [argument closures]) instead of values
    lazy: bool = False
    #: ISNEW / ISCHANGED / PRIORVALUE: need the record as it was before the change
    needs_prior: bool = False
    summary: str = ""
    #: for functions whose SQL handles only some argument types (DATEVALUE of text cannot
    #: run in the database): whether it can run with these argument types
    sql_accepts: Callable[[Sequence[FType]], bool] | None = None
    resolve: Resolver | None = None

    def runs_in_sql(self, types: Sequence[FType]) -> bool:
        """Whether compile_sql can express a call with arguments of these types."""
        if self.sql is None or self.needs_prior:
            return False
        return self.sql_accepts is None or self.sql_accepts(types)


FUNCTIONS: dict[str, Function] = {}


def register(name: str, min_args: int, max_args: int | None, typer: Typer,
             python: Callable[..., Any], sql: Callable[[SqlCall], Any] | None = None, *,
             lazy: bool = False, needs_prior: bool = False, summary: str = "",
             sql_accepts: Callable[[Sequence[FType]], bool] | None = None,
             resolve: Resolver | None = None) -> None:
    FUNCTIONS[name] = Function(name, min_args, max_args, typer, python, sql, lazy,
                               needs_prior, summary, sql_accepts, resolve)


def type_name(allowed: frozenset[FType]) -> str:
    return " or ".join(sorted(t.label for t in allowed))


def arg_error(node: Call, index: int, allowed: frozenset[FType], found: FType) -> FormulaError:
    arg: Expr = node.args[index]
    return FormulaError(f"argument {index + 1} of {node.name} must be {type_name(allowed)}, "
                        f"got {found.label}", kind="check", line=arg.span.line,
                        column=arg.span.column)


def expect(node: Call, types: Sequence[FType], index: int, allowed: frozenset[FType]) -> None:
    if not accepts(allowed, types[index]):
        raise arg_error(node, index, allowed, types[index])


def fixed(params: Sequence[frozenset[FType]], returns: FType | Callable[[Sequence[FType]], FType],
          rest: frozenset[FType] | None = None) -> Typer:
    """A typer for positional parameters (and optionally any number of `rest` ones)."""
    def typer(types: Sequence[FType], node: Call) -> FType:
        for index, _found in enumerate(types):
            allowed = params[index] if index < len(params) else rest
            if allowed is not None:
                expect(node, types, index, allowed)
        return returns(types) if callable(returns) else returns

    return typer


def node_error(node: Expr, message: str) -> FormulaError:
    """A check error at `node`'s position."""
    return FormulaError(message, kind="check", line=node.span.line, column=node.span.column)


def literal_text(node: Call, index: int, what: str) -> str:
    """The text of argument `index`, which must be written in quotes (a unit, a format)."""
    arg = node.args[index]
    if not isinstance(arg, String):
        raise node_error(arg, f"{what} of {node.name} must be written as text in quotes")
    return arg.value
