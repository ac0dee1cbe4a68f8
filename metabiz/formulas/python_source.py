"""The fast path of the Python back end: a checked formula → the source of one function.

Straight-line code with inline blank tests, fields read once and constants bound by name
(never pasted into the source); anything it does not handle falls back to closures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from metabiz.formulas import nodes as n
from metabiz.formulas.checker import CheckedFormula
from metabiz.formulas.ftypes import FType
from metabiz.formulas.functions import FUNCTIONS
from metabiz.formulas.functions.dates import SMALL, date_of_ints
from metabiz.formulas.functions.math import power
from metabiz.formulas.limits import NUMBER_DIGITS
from metabiz.formulas.python_inline import Inlined, node_key
from metabiz.formulas.values import DECIMALS, as_int, normaliser, to_decimal, utc

#: the only operator symbols that reach the source (anything else is a helper call)
NUMERIC_OPS = {"+": "+", "-": "-", "*": "*"}
COMPARISONS = ("=", "<>", "<", "<=", ">", ">=")


class Unsupported(Exception):
    """The formula needs something only the closure compiler does."""


def generate(checked: CheckedFormula, helpers: dict[str, Any],
             result_check: Callable[[Any], Any] | None = None) -> Callable[[Any], Any]:
    """The formula as a function of an EvalContext (helpers: equal, divide, shift, …).

    The function raises FormulaError(kind="eval") for bad arithmetic, as python.py's
    closures do; `result_check` (limits.result_check) is applied to its result, its cheap
    test inline, so that the function is a single call."""
    source = _Source(checked, helpers, result_check)
    text = source.build()
    namespace = dict(source.consts)
    exec(compile(text, f"<formula {checked.source[:40]!r}>", "exec"), namespace)  # noqa: S102
    function: Callable[[Any], Any] = namespace["formula"]
    function.source = text  # type: ignore[attr-defined]  # for debugging and tests
    return function


class _Source(Inlined):
    def __init__(self, checked: CheckedFormula, helpers: dict[str, Any],
                 result_check: Callable[[Any], Any] | None = None) -> None:
        self.checked = checked
        self.result_check = result_check
        self.lines: list[str] = []
        self.depth = 1
        self.count = 0
        self.consts: dict[str, Any] = {
            "Decimal": Decimal, "datetime": dt.datetime, "UTC": dt.UTC, "ZERO": Decimal(0),
            "to_decimal": to_decimal, "utc": utc, "power": power, "date": dt.date,
            "SMALL": SMALL, "DECIMALS": DECIMALS, "as_int": as_int,
            "date_of_ints": date_of_ints,
            "NUMBER_DIGITS": NUMBER_DIGITS, "ROUND_HALF_UP": ROUND_HALF_UP, **helpers}
        self._const_names: dict[tuple[type, str], str] = {}
        self.never_blank: set[str] = {"True", "False", "ZERO"}
        #: names known to hold True or False (never blank): `if x:` instead of `x is True`
        self.bools: set[str] = {"True", "False"}
        self.fields: dict[str, str] = {}
        #: what each enclosing block has computed: structural key → name
        self.scopes: list[dict[tuple[Any, ...], str]] = [{}]

    # -- emitting ---------------------------------------------------------------------------
    def emit(self, line: str) -> None:
        self.lines.append("    " * self.depth + line)

    @contextmanager
    def block(self, header: str) -> Iterator[None]:
        self.emit(header)
        self.depth += 1
        self.scopes.append({})
        start = len(self.lines)
        yield
        if len(self.lines) == start:
            self.emit("pass")
        self.scopes.pop()
        self.depth -= 1

    def temp(self, *, boolean: bool = False) -> str:
        self.count += 1
        name = f"v{self.count}"
        if boolean:
            self.bools.add(name)
            self.never_blank.add(name)
        return name

    def truth(self, value: str) -> str:
        """An expression that is True exactly when `value is True` (blank is false)."""
        return value if value in self.bools else f"{value} is True"

    def const(self, value: Any) -> str:
        key = (type(value), repr(value))
        name = self._const_names.get(key)
        if name is None:
            name = f"k{len(self._const_names)}"
            self._const_names[key] = name
            self.consts[name] = value
            if value is not None:
                self.never_blank.add(name)
        return name

    def build(self) -> str:
        self.emit("try:")
        self.depth += 1
        self.emit("rec = ctx.record")
        for node in _walk(self.checked.expr):
            if isinstance(node, n.FieldRef) and len(node.path) == 1 \
                    and node.path[0] not in self.fields:
                self.fields[node.path[0]] = self.read_field(node)
        result = self.value(self.checked.expr)
        self.check_result(result)
        self.emit(f"return {result}")
        self.depth -= 1
        with self.block("except FormulaError:"):
            self.emit("raise")
        with self.block("except ARITHMETIC_ERRORS as err:"):
            self.emit("raise eval_error(err) from None")
        return "def formula(ctx):\n" + "\n".join(self.lines) + "\n"

    def check_result(self, result: str) -> None:
        """The result check's test inline; the check itself (which raises) only when it
        fails. A literal result needs none (the checker refuses literals beyond limits)."""
        if self.result_check is None or result == "None":
            return
        if self.checked.type is FType.NUMBER:
            test = (f"not {result}.is_finite() or "  # limits.in_range, inline
                    f"({result} and {result}.adjusted() >= NUMBER_DIGITS)")
        elif self.checked.type is FType.TEXT:
            test = f"len({result}) > MAX_TEXT"
        else:  # a check this generator does not know: always call it
            self.emit(f"return {self.const(self.result_check)}({result})")
            return
        guard = "" if result in self.never_blank else f"{result} is not None and "
        with self.block(f"if {guard}({test}):"):
            self.emit(f"return {self.const(self.result_check)}({result})")

    # -- values -----------------------------------------------------------------------------
    def value(self, node: n.Expr) -> str:
        """Emit what computes `node`; return a name (or literal) holding its value.

        A subexpression already computed in this block or an enclosing one (so on every
        path to here) is not computed again: formulas are pure, `MONTH(close)` is the
        same value each time."""
        method = getattr(self, f"value_{type(node).__name__}")
        if isinstance(node, n.LITERALS) or isinstance(node, n.FieldRef) and len(node.path) == 1:
            return method(node)  # type: ignore[no-any-return]
        key = node_key(node)
        for scope in reversed(self.scopes):
            if key in scope:
                return scope[key]
        result: str = self.whole_as_decimal(node) if self.whole(node) else method(node)
        self.scopes[-1][key] = result
        return result

    def value_Number(self, node: n.Number) -> str:
        return self.const(node.value)

    def value_String(self, node: n.String) -> str:
        return self.const(node.value) if node.value else "None"

    def value_Boolean(self, node: n.Boolean) -> str:
        return "True" if node.value else "False"

    def value_Null(self, node: n.Null) -> str:
        return "None"

    def value_Constant(self, node: n.Constant) -> str:
        name = f"c{len(self.consts)}"
        self.consts[name] = node.value
        self.never_blank.add(name)
        return name

    def read_field(self, node: n.FieldRef) -> str:
        var = self.temp()
        self.emit(f"{var} = rec.get({self.const(node.path[0])})")
        self.normalise(var, node.ftype)
        return var

    def normalise(self, var: str, ftype: FType | None) -> None:
        """The same normalisation as python._normaliser, inline."""
        if ftype is FType.NUMBER:
            with self.block(f"if {var} is not None and {var}.__class__ is not Decimal:"):
                self.emit(f"{var} = to_decimal({var})")
            if self.checked.blanks_as_zero:
                with self.block(f"if not {var}:"):
                    self.emit(f"{var} = ZERO")
        elif ftype is FType.DATETIME:
            with self.block(f"if isinstance({var}, datetime) and {var}.tzinfo is not UTC:"):
                self.emit(f"{var} = utc({var})")
        elif ftype in (FType.TEXT, FType.PICKLIST):
            with self.block(f"if {var} == '':"):
                self.emit(f"{var} = None")
        elif ftype is FType.MULTI_PICKLIST:
            self.emit(f"{var} = normalise_multi({var})")
        elif ftype in (FType.TIME, FType.LOCATION, FType.LINK, FType.IMAGE):
            self.emit(f"{var} = {self.const(normaliser(ftype))}({var})")

    def value_FieldRef(self, node: n.FieldRef) -> str:
        if len(node.path) == 1:
            return self.fields[node.path[0]]
        var = self.temp()
        self.emit(f"{var} = read_path(ctx, {self.const(node.path)})")
        self.normalise(var, node.ftype)
        return var

    def value_Unary(self, node: n.Unary) -> str:
        operand = self.value(node.operand)
        if node.op == "+":
            return operand
        if node.op == "!":
            var = self.temp(boolean=True)
            self.emit(f"{var} = not {self.truth(operand)}")
        else:
            var = self.temp()
            self.emit_blank_safe(var, f"-{operand}", operand)
        return var

    def blank_test(self, *values: str) -> str:
        """A test that is true when any of the values is blank ('' when none can be)."""
        return " or ".join(f"{v} is None" for v in values if v not in self.never_blank)

    def equality(self, left: str, right: str) -> str:
        """`=`: blank equals blank. Every blank value is None here: fields and functions
        turn "" and empty lists into None (python.py's _equal is the general rule)."""
        if left == "None" or right == "None":
            return f"{right if left == 'None' else left} is None"
        if left in self.never_blank or right in self.never_blank:
            return f"{left} == {right}"
        return f"({left} == {right} if {left} is not None and {right} is not None " \
               f"else {left} is {right})"

    def value_Binary(self, node: n.Binary) -> str:
        op = node.op
        var = self.temp(boolean=op in ("&&", "||", *COMPARISONS))
        whole = op in COMPARISONS and self.whole(node.left) and self.whole(node.right)
        left = self.whole_value(node.left) if whole else self.value(node.left)
        if op in ("&&", "||"):
            self.emit(f"{var} = {self.truth(left)}")
            with self.block(f"if {'' if op == '&&' else 'not '}{var}:"):
                right = self.value(node.right)
                self.emit(f"{var} = {self.truth(right)}")
            return var
        right = self.whole_value(node.right) if whole else self.value(node.right)
        if op in ("=", "<>"):
            test = self.equality(left, right)
            self.emit(f"{var} = {test}" if op == "=" else f"{var} = not {test}")
            return var
        if op in ("<", "<=", ">", ">="):
            blank = self.blank_test(left, right)
            compare = f"{left} {op} {right}"
            self.emit(f"{var} = False if {blank} else {compare}" if blank
                      else f"{var} = {compare}")
            return var
        if op == "&" or (op == "+" and node.ftype is FType.TEXT):
            parts = [p if p in self.never_blank else f"({p} or '')" for p in (left, right)]
            self.emit(f"{var} = {' + '.join(parts)}")
            with self.block(f"if len({var}) > MAX_TEXT:"):
                self.emit(f"raise too_long({self.const(op)})")
            if left in self.never_blank or right in self.never_blank:
                self.never_blank.add(var)
            else:
                self.emit(f"{var} = {var} or None")
            return var
        self.emit_blank_safe(var, self.arithmetic(node, left, right), left, right)
        return var

    def arithmetic(self, node: n.Binary, left: str, right: str) -> str:
        lt, rt, op = node.left.ftype, node.right.ftype, node.op
        dates = (FType.DATE, FType.DATETIME)
        if FType.TIME in (lt, rt):
            if rt is FType.TIME and op == "-":
                return f"ms_between({left}, {right})"
            if rt is FType.TIME:
                return f"shift_time({right}, {left})"
            return f"shift_time({left}, {right})" if op == "+" else f"shift_time({left}, -{right})"
        if op == "+" and rt in dates:
            return f"shift({right}, {left})"
        if op in ("+", "-") and lt in dates:
            if rt is lt and op == "-":
                if lt is FType.DATE:  # _days_between's first case inline
                    return (f"(DECIMALS.get(days := ({left} - {right}).days) or Decimal(days) "
                            f"if {left}.__class__ is date else days_between({left}, {right}))")
                return f"days_between({left}, {right})"
            return f"shift({left}, {right})" if op == "+" else f"shift({left}, -{right})"
        if op == "/":
            divisor = self.consts.get(right)
            if isinstance(divisor, Decimal) and divisor != 0:
                return f"{left} / {right}"  # a literal divisor that is not zero
            return f"divide({left}, {right})"
        if op == "^":
            return f"power({left}, {right})"
        return f"{left} {NUMERIC_OPS[op]} {right}"

    def emit_blank_safe(self, var: str, expression: str, *inputs: str) -> None:
        blank = self.blank_test(*inputs)
        self.emit(f"{var} = None if {blank} else {expression}" if blank
                  else f"{var} = {expression}")

    # -- functions --------------------------------------------------------------------------
    def value_Call(self, node: n.Call) -> str:
        special = getattr(self, f"call_{node.name}", None)
        if special is not None:
            return special(node)  # type: ignore[no-any-return]
        return self.call_function(node)

    def call_function(self, node: n.Call) -> str:
        """A call of the function's Python implementation (a blank argument gives blank
        for the blank-safe ones)."""
        fn = FUNCTIONS[node.name]
        if fn.lazy:
            raise Unsupported(node.name)
        args = [self.value(a) for a in node.args]
        var = self.temp()
        raw = getattr(fn.python, "blank_safe_of", None)
        if raw is not None:
            self.emit_blank_safe(var, f"{self.const(raw)}({', '.join(args)})", *args)
        else:
            self.emit(f"{var} = {self.const(fn.python)}({', '.join(args)})")
        return var

    def call_IF(self, node: n.Call) -> str:
        test, var = self.value(node.args[0]), self.temp()
        with self.block(f"if {self.truth(test)}:"):
            self.emit(f"{var} = {self.value(node.args[1])}")
        with self.block("else:"):
            self.emit(f"{var} = {self.value(node.args[2])}")
        return var

    def call_CASE(self, node: n.Call) -> str:
        subject, var = self.value(node.args[0]), self.temp()

        def pair(index: int) -> None:
            if index >= len(node.args) - 1:
                self.emit(f"{var} = {self.value(node.args[-1])}")
                return
            candidate = self.value(node.args[index])
            test = self.equality(subject, candidate)
            with self.block(f"if {test}:"):
                self.emit(f"{var} = {self.value(node.args[index + 1])}")
            with self.block("else:"):
                pair(index + 2)

        pair(1)
        return var

    def _all_or_any(self, node: n.Call, all_of: bool) -> str:
        var = self.temp(boolean=True)

        def rest(index: int) -> None:
            self.emit(f"{var} = {self.truth(self.value(node.args[index]))}")
            if index + 1 < len(node.args):
                with self.block(f"if {'' if all_of else 'not '}{var}:"):
                    rest(index + 1)

        rest(0)
        return var

    def call_AND(self, node: n.Call) -> str:
        return self._all_or_any(node, True)

    def call_OR(self, node: n.Call) -> str:
        return self._all_or_any(node, False)

    def call_NOT(self, node: n.Call) -> str:
        value, var = self.value(node.args[0]), self.temp(boolean=True)
        self.emit(f"{var} = not {self.truth(value)}")
        return var

    def _blank_test(self, node: n.Expr, value: str) -> str:
        """Python testing `value` for blank: empty text is blank too (TEXT() may give "")."""
        if node.ftype in (FType.TEXT, FType.PICKLIST, FType.MULTI_PICKLIST):
            return f"not {value}"
        return f"{value} is None"

    def call_ISBLANK(self, node: n.Call) -> str:
        value, var = self.value(node.args[0]), self.temp(boolean=True)
        self.emit(f"{var} = {self._blank_test(node.args[0], value)}")
        return var

    def call_BLANKVALUE(self, node: n.Call) -> str:
        value, var = self.value(node.args[0]), self.temp()
        self.emit(f"{var} = {value}")
        with self.block(f"if {self._blank_test(node.args[0], var)}:"):
            self.emit(f"{var} = {self.value(node.args[1])}")
        return var

    call_NULLVALUE = call_BLANKVALUE

    def call_ISNULL(self, node: n.Call) -> str:
        var = self.temp(boolean=True)
        if node.args[0].ftype in (FType.TEXT, FType.PICKLIST):
            self.emit(f"{var} = False")  # as in Salesforce, text is never null
        else:
            self.emit(f"{var} = {self.value(node.args[0])} is None")
        return var

    def call_IFS(self, node: n.Call) -> str:
        var = self.temp()

        def pair(index: int) -> None:
            if index >= len(node.args):
                self.emit(f"{var} = None")
                return
            test = self.value(node.args[index])
            with self.block(f"if {self.truth(test)}:"):
                self.emit(f"{var} = {self.value(node.args[index + 1])}")
            with self.block("else:"):
                pair(index + 2)

        pair(0)
        return var

    def call_TODAY(self, node: n.Call) -> str:
        var = self.temp()
        self.emit(f"{var} = ctx.current_time().date()")
        return var

    def call_NOW(self, node: n.Call) -> str:
        var = self.temp()
        self.emit(f"{var} = ctx.current_time()")
        return var

    def call_TIMENOW(self, node: n.Call) -> str:
        var = self.temp()
        self.emit(f"{var} = {self.const(FUNCTIONS['TIMENOW'].python)}(ctx, (), None)")
        return var

    def call_VLOOKUP(self, node: n.Call) -> str:
        wanted, key_field = node.args[0], node.args[1]
        assert isinstance(wanted, n.Constant) and isinstance(key_field, n.Constant)
        (object_name, field_name), key_name = wanted.value, key_field.value[1]
        key, var = self.value(node.args[2]), self.temp()
        read = f"ctx.lookup({self.const(object_name)}, {self.const(field_name)}, " \
               f"{self.const(key_name)}, {key})"
        self.emit(f"{var} = None if {key} is None else "
                  f"{self.const(normaliser(wanted.ftype))}({read})")
        return var

    def call_ISNEW(self, node: n.Call) -> str:
        var = self.temp(boolean=True)
        self.emit(f"{var} = ctx.is_new_record()")
        return var

    def _prior(self, node: n.Call) -> str:
        field = node.args[0]
        assert isinstance(field, n.FieldRef)
        var = self.temp()
        self.emit(f"{var} = None if ctx.prior is None else "
                  f"{self.const(self.consts['normaliser'](field.ftype))}"
                  f"(ctx.prior.get({self.const(field.path[0])}))")
        return var

    def call_PRIORVALUE(self, node: n.Call) -> str:
        return self._prior(node)

    def call_ISCHANGED(self, node: n.Call) -> str:
        current, before = self.value(node.args[0]), self._prior(node)
        var = self.temp(boolean=True)
        self.emit(f"{var} = ctx.prior is not None and not equal({before}, {current})")
        return var


def _walk(node: n.Expr) -> Iterator[n.Expr]:
    todo = [node]
    while todo:
        current = todo.pop()
        yield current
        if isinstance(current, n.Unary):
            todo.append(current.operand)
        elif isinstance(current, n.Binary):
            todo.extend((current.right, current.left))
        elif isinstance(current, n.Call):
            todo.extend(reversed(current.args))
