"""The SQL back end: a checked formula → a SQLAlchemy expression (SQLite and PostgreSQL).

Field references are mapped by the caller's `resolve(path)` (and VLOOKUP's columns of other
objects by `resolve_object(object)(path)`); the results agree with the Python back end,
except that evaluation errors (division by zero, …) give blank instead.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, false, func, literal, null, or_, select, true
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.sql.elements import ColumnClause, ColumnElement
from sqlalchemy.sql.selectable import FromClause

from metabiz.errors import FormulaError
from metabiz.formulas import nodes as n
from metabiz.formulas.checker import CheckedFormula
from metabiz.formulas.ftypes import TEXTLIKE, FType
from metabiz.formulas.functions import FUNCTIONS
from metabiz.formulas.functions import sql_support as s
from metabiz.formulas.functions.math import power_sql
from metabiz.formulas.functions.registry import SqlCall

Resolver = Callable[[tuple[str, ...]], ColumnElement[Any]]


#: the most parts (SQLAlchemy elements) a formula's SQL may have once written out: parts
#: shared by reference are written once each time they are read, so a few nested calls of
#: functions that read an argument three times would otherwise make gigabytes of SQL
MAX_SQL_ELEMENTS = 25_000
#: the most parts a "simple" operand's SQL has (a column read exactly, a signed literal)
SIMPLE_SQL_ELEMENTS = 8
#: parentheses around the expression when SQLite's parser (a stack of 100 entries: a
#: parenthesis takes one, a CAST two, a function call three to five) is tried on it: room
#: for the statement it will stand in. Measured: a list's WHERE (the access conditions
#: included) and ORDER BY take one more than a bare SELECT; a report's grouped statement
#: up to 12; a roll-up's UPDATE ... (SELECT ... WHERE) 12, which `metabiz apply` runs once
#: for every roll-up, so a filter past it fails there, not later.
SQLITE_HEADROOM = 13
SQLITE_LIST_HEADROOM = 2


def compile_sql(checked: CheckedFormula, resolve: Resolver, dialect: str, *,
                now: dt.datetime | None = None,
                resolve_object: Callable[[str], Resolver] | None = None,
                sqlite_headroom: int | None = SQLITE_HEADROOM) -> ColumnElement[Any]:
    """The formula as a SQL expression; FormulaError(kind="sql") if SQL cannot express it.

    `resolve_object(name)` gives a resolver over a fresh alias of another object's table
    (VLOOKUP reads it in a correlated subquery); without it VLOOKUP cannot run in SQL.
    `sqlite_headroom`: the room the statement it will stand in takes in SQLite's parser
    (None: not tried, for a part of a larger formula that is tried as a whole)."""
    if dialect not in ("sqlite", "postgresql"):
        raise FormulaError(f"formulas cannot run in {dialect} databases", kind="sql")
    compiler = _SqlCompiler(checked, resolve, dialect, now or dt.datetime.now(dt.UTC),
                            resolve_object)
    try:
        built = compiler.build(checked.expr)
        if id(checked.expr) in compiler.exact:
            # a bare exact column: its own type reads it exactly and it sorts as stored
            built = compiler.exact[id(checked.expr)][2]
        if expanded_size(built) > MAX_SQL_ELEMENTS:
            raise FormulaError("the formula is too large to run in the database: its SQL "
                               f"would have more than {MAX_SQL_ELEMENTS:,} parts (functions "
                               "that read an argument several times multiply it when "
                               "nested)", kind="sql", line=checked.expr.span.line,
                               column=checked.expr.span.column)
        if dialect == "sqlite" and sqlite_headroom is not None \
                and not sqlite_can_parse(built, sqlite_headroom):
            deepest = _deepest(checked.expr)
            raise FormulaError("the formula nests functions and operators too deeply for the "
                               "database (SQLite cannot read SQL this deep); nest fewer of "
                               "them", kind="sql", line=deepest.span.line,
                               column=deepest.span.column)
        return built
    except FormulaError as err:
        if err.source is None:
            err.source = checked.source
        raise




def expanded_size(expr: Any) -> int:
    """How many parts the SQL of `expr` has written out (counted on the shared graph, in
    time proportional to its distinct parts; stops counting past MAX_SQL_ELEMENTS).

    An expression read twice is written twice; a subquery or table (a FROM) is written
    once however many of its columns are read."""
    sizes: dict[int, int] = {}
    written: set[int] = set()  # the FROMs counted already

    def cost(part: Any) -> int:
        if isinstance(part, FromClause) and not isinstance(part, ColumnElement):
            if id(part) in written:  # (a function call is a FromClause too, and a value)
                return 1
            written.add(id(part))
        return sizes[id(part)]

    todo: list[tuple[Any, bool]] = [(expr, False)]
    while todo:
        element, ready = todo.pop()
        if id(element) in sizes:
            continue
        parts = list(element.get_children())
        if ready:
            sizes[id(element)] = min(1 + sum(cost(p) for p in parts), MAX_SQL_ELEMENTS + 1)
        else:
            todo.append((element, True))
            todo.extend((p, False) for p in parts if id(p) not in sizes)
    return sizes[id(expr)]


def sqlite_can_parse(expr: ColumnElement[Any], headroom: int = SQLITE_HEADROOM) -> bool:
    """Whether SQLite's parser, whose stack has a fixed depth (100 in most builds), can read
    the expression: tried on an empty in-memory database, where a statement that parses
    fails later for its unknown tables instead ("parser stack overflow" otherwise)."""
    sql = str(select(expr).compile(dialect=_SQLITE))
    wrapped = "SELECT " + "(" * headroom + "(" + sql + ")" + ")" * headroom
    probe = sqlite3.connect(":memory:")
    try:
        probe.execute("EXPLAIN " + wrapped)
    except sqlite3.Error as err:
        # any other complaint (no such table, wrong number of bindings) comes after parsing
        return "parser stack overflow" not in str(err)
    finally:
        probe.close()
    return True


_SQLITE = sqlite_dialect.dialect()


def _deepest(node: n.Expr) -> n.Expr:
    """The most deeply nested part of a formula (where a depth error points)."""
    deepest, deepest_depth = node, 0
    todo: list[tuple[n.Expr, int]] = [(node, 0)]
    while todo:
        current, depth = todo.pop()
        if depth > deepest_depth:
            deepest, deepest_depth = current, depth
        todo.extend((child, depth + 1) for child in reversed(n.children(current)))
    return deepest


class _SqlCompiler:
    def __init__(self, checked: CheckedFormula, resolve: Resolver, dialect: str,
                 now: dt.datetime, resolve_object: Callable[[str], Resolver] | None) -> None:
        self.checked = checked
        self.resolve = resolve
        self.dialect = dialect
        self.now = now
        self.resolve_object = resolve_object
        #: FieldRef nodes read from SQLite's exact columns (id of node → the stored
        #: integers, their scale, the column as its type reads it), for exact comparisons
        self.exact: dict[int, tuple[Any, int, Any]] = {}
        #: FieldRef nodes that read a table's column as it is stored (id of node → the
        #: column as built, the stored column): a comparison with a literal can be written
        #: on the column itself, where an index serves it
        self.plain: dict[int, tuple[Any, Any]] = {}
        #: the booleans built so far that are never NULL (truthy leaves them as they are)
        self.never_null = s.NeverNull()

    def build(self, node: n.Expr) -> Any:
        built = getattr(self, f"build_{type(node).__name__}")(node)
        if node.ftype is FType.NULL:
            # always blank (NULL, IF(c, NULL, NULL), NULL + 1): a bare NULL, which the
            # database types from where it stands (a CASE of NULLs would be text)
            return null()
        return built

    def unsupported(self, node: n.Expr, what: str) -> FormulaError:
        return FormulaError(f"{what} cannot run in the database, so it cannot be used in a "
                            "filter or sort", kind="sql", line=node.span.line,
                            column=node.span.column)

    # -- leaves -------------------------------------------------------------------------
    def build_Number(self, node: n.Number) -> Any:
        return s.number_literal(node.value, self.dialect)

    def build_String(self, node: n.String) -> Any:
        return s.text_literal(node.value) if node.value else null()

    def build_Boolean(self, node: n.Boolean) -> Any:
        return true() if node.value else false()

    def build_Null(self, node: n.Null) -> Any:
        return null()

    def build_Constant(self, node: n.Constant) -> Any:
        return node.value  # a compile-time value (a calendar) for the function's SQL

    def build_FieldRef(self, node: n.FieldRef) -> Any:
        stored = self.resolve(node.path)
        column = s.field_value(stored, node.ftype, self.dialect)
        scaled = s.stored_integers(stored) if node.ftype is FType.NUMBER \
            and self.dialect == "sqlite" else None
        zeroed = self.checked.blanks_as_zero and node.ftype is FType.NUMBER
        if zeroed:
            column = func.coalesce(column, literal(0))
            if scaled is not None:
                scaled = (func.coalesce(scaled[0], literal(0)), scaled[1])
                stored = func.coalesce(stored, literal(0))
        if scaled is not None:
            self.exact[id(node)] = (scaled[0], scaled[1], stored)
        if isinstance(stored, ColumnClause):
            if node.ftype in TEXTLIKE:
                self.plain[id(node)] = (stored, stored)
            elif node.ftype is FType.NUMBER and not zeroed:
                self.plain[id(node)] = (scaled[0] if scaled is not None else column, stored)
        return column

    # -- operators ----------------------------------------------------------------------
    def build_Unary(self, node: n.Unary) -> Any:
        operand = self.build(node.operand)
        if node.op == "!":
            return s.negate(s.truthy(operand, self.never_null), self.never_null)
        return -operand if node.op == "-" else operand

    def build_Binary(self, node: n.Binary) -> Any:
        op = node.op
        left, right = self.build(node.left), self.build(node.right)
        lt, rt = node.left.ftype, node.right.ftype
        known = self.never_null
        if op == "&&":
            return known.mark(and_(s.truthy(left, known), s.truthy(right, known)))
        if op == "||":
            return known.mark(or_(s.truthy(left, known), s.truthy(right, known)))
        if op in ("=", "<>", "<", "<=", ">", ">="):
            left, right = self._exactly(node, left, right)
            if (on_column := self._on_column(node, left, right)) is not None:
                return on_column if op != "<>" else s.negate(on_column, known)
        if op in ("=", "<>"):
            equal = s.equal(left, right, lt, rt, known)
            return equal if op == "=" else s.negate(equal, known)
        if op in ("<", "<=", ">", ">="):
            if self.dialect == "postgresql" and (lt in TEXTLIKE or rt in TEXTLIKE):
                left, right = (e if s.is_null_literal(e) else e.collate("C")
                               for e in (left, right))
            return s.truthy(left.op(op, is_comparison=True)(right), known)
        if op == "&" or (op == "+" and node.ftype is FType.TEXT):
            joined = func.coalesce(left, literal("")).concat(func.coalesce(right, literal("")))
            return func.nullif(joined, literal(""))
        return self._arithmetic(node, left, right, lt, rt)

    def _exactly(self, node: n.Binary, left: Any, right: Any) -> tuple[Any, Any]:
        """A comparison of an exact SQLite column with a number literal or another exact
        column of the same scale, made on the stored integers (no rounding to a double)."""
        mine, theirs = self.exact.get(id(node.left)), self.exact.get(id(node.right))
        if mine is not None and theirs is not None:
            return (mine[0], theirs[0]) if mine[1] == theirs[1] else (left, right)
        if mine is not None and (number := _number(node.right)) is not None:
            return mine[0], s.scaled_literal(number, mine[1])
        if theirs is not None and (number := _number(node.left)) is not None:
            return s.scaled_literal(number, theirs[1]), theirs[0]
        return left, right

    def _on_column(self, node: n.Binary, left: Any, right: Any) -> Any:
        """`field op literal` (`stage = "won"`, `amount > 1000`) as `column op literal AND
        column IS NOT NULL`: the same answer, never NULL, and a condition an index on the
        column serves, which the general form (`COALESCE(NULLIF(stage, ''), '') = 'won'`,
        `COALESCE(amount > 1000, false)`) is not. `<>` is the negation of `=`. None when the
        comparison is not of that shape."""
        op = "=" if node.op == "<>" else node.op
        for field, value, built in ((node.left, node.right, left), (node.right, node.left, right)):
            if op == "=" and (equal := self._text_equals(field, value)) is not None:
                return equal
            plain = self.plain.get(id(field))
            if plain is None or field.ftype is not FType.NUMBER or built is not plain[0] \
                    or _number(value) is None:
                continue
            test = left.op(op, is_comparison=True)(right)
            return self.never_null.mark(and_(test, plain[1].is_not(None)))
        return None

    def _text_equals(self, field: n.Expr, value: n.Expr) -> Any:
        """A text or picklist field equal to a text literal, on the column (see
        `_on_column`; ISPICKVAL too); None when it is not of that shape."""
        plain = self.plain.get(id(field))
        if plain is None or field.ftype not in TEXTLIKE or not isinstance(value, n.String) \
                or not value.value:
            return None
        column = plain[1]
        return self.never_null.mark(and_(column == s.text_literal(value.value),
                                         column.is_not(None)))

    def _arithmetic(self, node: n.Binary, left: Any, right: Any, lt: FType | None,
                    rt: FType | None) -> Any:
        op, d = node.op, self.dialect
        if FType.TIME in (lt, rt):
            if FType.NULL in (lt, rt):
                return null()
            return s.time_arithmetic(left, right, op, lt, rt, d)
        if op == "+" and rt in (FType.DATE, FType.DATETIME):
            left, right, lt, rt = right, left, rt, lt
        if lt is FType.DATE and op in ("+", "-"):
            if rt is FType.DATE:
                return s.days_between_dates(left, right, d)
            return s.add_days_to_date(left, right if op == "+" else -right, d)
        if lt is FType.DATETIME and op in ("+", "-"):
            if rt is FType.DATETIME:
                return s.days_between_datetimes(left, right, d)
            return s.add_days_to_datetime(left, right if op == "+" else -right, d)
        if op == "^":
            return s.exact(power_sql(left, right, d), d)
        if op == "/":
            return s.exact(s.numeric(left, d) / func.nullif(right, literal(0)), d)
        if op == "*":
            return s.exact(left * right, d)
        return s.exact_sum([left, right], [1, 1 if op == "+" else -1], d,
                           simple=self._simple(node.left, left) and self._simple(node.right, right))

    @staticmethod
    def _simple(node: n.Expr, built: Any) -> bool:
        """A literal or a stored column: cheap to write twice. A formula field read by this
        formula is a leaf here but its SQL is its whole formula, inlined."""
        return n.is_leaf(node) and expanded_size(built) <= SIMPLE_SQL_ELEMENTS

    # -- functions ----------------------------------------------------------------------
    def build_Call(self, node: n.Call) -> Any:
        fn = FUNCTIONS[node.name]
        types = [a.ftype or FType.NULL for a in node.args]
        if fn.sql is None or not fn.runs_in_sql(types):
            raise self.unsupported(node, node.name)
        if FType.NULL in types and getattr(fn.python, "blank_safe_of", None) is not None:
            # a literal blank argument: always blank, as in Python (and PostgreSQL could
            # not tell what type the bare NULL has)
            return null()
        args = [self.build(a) for a in node.args]
        if node.name == "ISPICKVAL" and (on_column := self._text_equals(*node.args)) is not None:
            return on_column
        call = SqlCall(args, types, self.dialect, self.now, node, self.resolve_object,
                       self.never_null)
        try:
            return fn.sql(call)
        except FormulaError as err:
            raise self.unsupported(node, err.message.split(" cannot")[0]) from None


def _number(node: n.Expr) -> Decimal | None:
    """The value of a number literal (`12.5`, `-3`); None for anything else."""
    if isinstance(node, n.Number):
        return node.value
    if isinstance(node, n.Unary) and node.op == "-" and isinstance(node.operand, n.Number):
        return -node.operand.value
    return None
