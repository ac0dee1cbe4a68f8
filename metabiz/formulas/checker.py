"""The checker: resolves field references, infers and checks types, returns a typed AST.

Errors name the unknown field or the expected type, with the line and column of the
offending part of the formula (FormulaError kind "check").
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from metabiz.errors import FormulaError
from metabiz.formulas import nodes as n
from metabiz.formulas.ftypes import TEXTLIKE, UNCOMPARABLE, Catalog, FType, unify
from metabiz.formulas.functions import FUNCTIONS
from metabiz.formulas.limits import NUMBER_DIGITS, in_range
from metabiz.formulas.parser import parse

CONTEXTS = ("field", "default", "validation", "condition", "filter")
PRIOR_CONTEXTS = ("validation", "condition")
MAX_DEPTH = 10
ORDERED = frozenset({FType.NUMBER, FType.TEXT, FType.PICKLIST, FType.DATE, FType.DATETIME,
                     FType.TIME})


@dataclass(frozen=True)
class CheckedFormula:
    """A formula that parsed and checked: its typed AST and what it reads."""

    source: str
    expr: n.Expr
    type: FType
    references: frozenset[tuple[str, ...]]
    uses_prior: bool
    sql_capable: bool
    blanks_as_zero: bool = False
    #: other objects' fields read by VLOOKUP: (object, field, key_field)
    lookups: frozenset[tuple[str, str, str]] = frozenset()


def check(source: str, catalog: Catalog, object_name: str, *, context: str = "field",
          expected: FType | None = None, blanks_as_zero: bool = False) -> CheckedFormula:
    """Parse and type-check `source` as a formula on `object_name`."""
    if context not in CONTEXTS:
        raise ValueError(f"unknown formula context {context!r}")
    checker = _Checker(source, catalog, object_name, context)
    try:
        expr = checker.visit(parse(source))
    except FormulaError as err:
        if err.source is None:
            err.source = source
        raise
    result = expr.ftype or FType.NULL
    if expected is not None and not _fits(expected, result):
        raise FormulaError(f"the formula must give {expected.label}, but gives {result.label}",
                           kind="check", source=source, line=expr.span.line,
                           column=expr.span.column)
    return CheckedFormula(source, expr, result, frozenset(checker.references),
                          checker.uses_prior, checker.sql_capable, blanks_as_zero,
                          frozenset(checker.lookups))


def _fits(expected: FType, found: FType) -> bool:
    if found in (expected, FType.NULL):
        return True
    return expected is FType.TEXT and found is FType.PICKLIST


class _Checker:
    def __init__(self, source: str, catalog: Catalog, object_name: str, context: str) -> None:
        self.source = source
        self.catalog = catalog
        self.object_name = object_name
        self.context = context
        self.references: set[tuple[str, ...]] = set()
        self.lookups: set[tuple[str, str, str]] = set()
        self.uses_prior = False
        self.sql_capable = True

    def error(self, node: n.Expr, message: str) -> FormulaError:
        return FormulaError(message, kind="check", source=self.source, line=node.span.line,
                            column=node.span.column)

    def visit(self, node: n.Expr) -> n.Expr:
        method = getattr(self, f"visit_{type(node).__name__}")
        return method(node)  # type: ignore[no-any-return]

    # -- leaves -------------------------------------------------------------------------
    def visit_Number(self, node: n.Number) -> n.Expr:
        if not in_range(node.value):
            raise self.error(node, f"the number is too large (formulas work with numbers "
                                   f"below 10^{NUMBER_DIGITS})")
        return replace(node, ftype=FType.NUMBER)

    def visit_String(self, node: n.String) -> n.Expr:
        return replace(node, ftype=FType.TEXT)

    def visit_Boolean(self, node: n.Boolean) -> n.Expr:
        return replace(node, ftype=FType.BOOLEAN)

    def visit_Null(self, node: n.Null) -> n.Expr:
        return replace(node, ftype=FType.NULL)

    def visit_Constant(self, node: n.Constant) -> n.Expr:
        return node

    def visit_FieldRef(self, node: n.FieldRef) -> n.Expr:
        if len(node.path) > MAX_DEPTH + 1:
            raise self.error(node, f"a reference may cross at most {MAX_DEPTH} lookups")
        current = self.object_name
        spec = None
        for index, part in enumerate(node.path):
            spec = self.catalog.field(current, part)
            if spec is None:
                where = f" on {current}" if current else ""
                raise self.error(node, f"unknown field {part!r}{where}")
            if index < len(node.path) - 1:
                if spec.target is None:
                    raise self.error(node, f"{'.'.join(node.path[:index + 1])} is not a lookup, "
                                           f"so {node.path[index + 1]!r} cannot follow it")
                current = spec.target
        assert spec is not None
        self.references.add(node.path)
        return replace(node, ftype=spec.type)

    # -- operators ----------------------------------------------------------------------
    def visit_Unary(self, node: n.Unary) -> n.Expr:
        operand = self.visit(node.operand)
        found = operand.ftype or FType.NULL
        wanted = FType.BOOLEAN if node.op == "!" else FType.NUMBER
        if found not in (wanted, FType.NULL):
            raise self.error(node.operand, f"{node.op} needs {wanted.label}, got {found.label}")
        return replace(node, operand=operand, ftype=wanted)

    def visit_Binary(self, node: n.Binary) -> n.Expr:
        left, right = self.visit(node.left), self.visit(node.right)
        lt, rt = left.ftype or FType.NULL, right.ftype or FType.NULL
        result = self._binary_type(node, lt, rt)
        return replace(node, left=left, right=right, ftype=result)

    def _binary_type(self, node: n.Binary, lt: FType, rt: FType) -> FType:
        op = node.op
        null = FType.NULL
        if op in ("||", "&&"):
            for side, t in ((node.left, lt), (node.right, rt)):
                if t not in (FType.BOOLEAN, null):
                    raise self.error(side, f"{op} needs true/false values, got {t.label}")
            return FType.BOOLEAN
        if op in ("=", "<>"):
            for side, t in ((node.left, lt), (node.right, rt)):
                if t in UNCOMPARABLE:
                    raise self.error(side, f"{op} cannot compare {t.label} values"
                                     + _COMPARE_HINTS.get(t, ""))
            if unify(lt, rt) is None:
                raise self.error(node.right, f"cannot compare {lt.label} with {rt.label}")
            return FType.BOOLEAN
        if op in ("<", "<=", ">", ">="):
            for side, t in ((node.left, lt), (node.right, rt)):
                if t not in ORDERED and t is not null:
                    raise self.error(side, f"{op} cannot compare {t.label} values")
            if unify(lt, rt) is None:
                raise self.error(node.right, f"cannot compare {lt.label} with {rt.label}")
            return FType.BOOLEAN
        if op == "&":
            for side, t in ((node.left, lt), (node.right, rt)):
                if t not in TEXTLIKE and t is not null:
                    raise self.error(side, f"& joins text, got {t.label}; use TEXT() to turn "
                                           f"a {t.label} into text")
            return FType.TEXT
        return self._arithmetic(node, lt, rt)

    def _arithmetic(self, node: n.Binary, lt: FType, rt: FType) -> FType:
        op, num, null = node.op, FType.NUMBER, FType.NULL
        dates = (FType.DATE, FType.DATETIME)
        if op == "+":
            if lt in TEXTLIKE and rt in TEXTLIKE | {null} or lt is null and rt in TEXTLIKE:
                return FType.TEXT
            if lt in dates and rt in (num, null):
                return lt
            if rt in dates and lt in (num, null):
                return rt
        if op == "-":
            if lt in dates and rt in (num, null):
                return lt
            if lt in dates and rt is lt:
                return num
        # a time of day plus or minus milliseconds, wrapping at midnight (as in Salesforce)
        if op in ("+", "-") and lt is FType.TIME and rt in (num, null):
            return lt
        if op == "+" and rt is FType.TIME and lt in (num, null):
            return rt
        if op == "-" and lt is FType.TIME and rt is lt:
            return num
        if lt in (num, null) and rt in (num, null):
            return num
        bad_side, bad = (node.left, lt) if lt not in (num, null) else (node.right, rt)
        raise self.error(bad_side, f"{op} cannot be used with {lt.label} and {rt.label}"
                         if bad is not None else f"{op} needs numbers")

    # -- functions ----------------------------------------------------------------------
    def visit_Call(self, node: n.Call) -> n.Expr:
        fn = FUNCTIONS.get(node.name)
        if fn is None:
            raise self.error(node, f"unknown function {node.name}")
        count = len(node.args)
        if count < fn.min_args or (fn.max_args is not None and count > fn.max_args):
            raise self.error(node, f"{node.name} expects {_arity(fn.min_args, fn.max_args)}, "
                                   f"got {count}")
        if fn.needs_prior:
            if self.context not in PRIOR_CONTEXTS:
                raise self.error(node, f"{node.name} can only be used in validation rules and "
                                       "automation or flow conditions")
            self.uses_prior = True
        resolved: dict[int, n.Expr] = {}
        if fn.resolve is not None:
            found = fn.resolve(node, self.catalog)
            resolved = found.args
            self.lookups.update(found.lookups)
        args = tuple(resolved[i] if i in resolved else self.visit(a)
                     for i, a in enumerate(node.args))
        typed = replace(node, args=args)
        types = [a.ftype or FType.NULL for a in args]
        result = fn.typer(types, typed)
        if not fn.runs_in_sql(types):
            self.sql_capable = False
        return replace(typed, ftype=result)


_COMPARE_HINTS = {FType.LOCATION: "; compare DISTANCE(a, b, \"km\") with a number",
                  FType.LINK: "; compare their URLs: TEXT(link)",
                  FType.IMAGE: "; compare their URLs: TEXT(image)"}


def _arity(low: int, high: int | None) -> str:
    if high is None:
        return f"at least {low} argument{'s' if low != 1 else ''}"
    if low == high:
        return f"{low} argument{'s' if low != 1 else ''}"
    return f"{low} to {high} arguments"
