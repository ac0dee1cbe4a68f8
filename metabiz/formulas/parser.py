"""Source text → typed-less AST: the Lark LALR parser and the transformer to `nodes`.

Syntax errors become FormulaError(kind="syntax") with a 1-based line and column.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from pathlib import Path
from typing import Any

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from metabiz.errors import FormulaError
from metabiz.formulas import nodes as n

GRAMMAR = Path(__file__).with_name("grammar.lark")
KEYWORDS = {"TRUE", "FALSE", "NULL"}
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'"}
MAX_LENGTH = 10_000
#: deeper formulas would exhaust Python's stack in the checker, closures or SQLAlchemy
MAX_NESTING = 50


@functools.cache
def _parser() -> Lark:
    return Lark(GRAMMAR.read_text(), parser="lalr", propagate_positions=True,
                maybe_placeholders=False)


def _span(meta: Any) -> n.Span:
    return n.Span(meta.line, meta.column, meta.end_line, meta.end_column)


def _token_span(tok: Token) -> n.Span:
    return n.Span(tok.line or 1, tok.column or 1, tok.end_line or 1, tok.end_column or 1)


def _unescape(raw: str) -> str:
    body, out, i = raw[1:-1], [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            out.append(ESCAPES.get(body[i + 1], body[i + 1]))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


@v_args(meta=True)
class _ToAst(Transformer[Token, n.Expr]):
    def number(self, meta: Any, children: list[Token]) -> n.Expr:
        return n.Number(_token_span(children[0]), Decimal(str(children[0])))

    def string(self, meta: Any, children: list[Token]) -> n.Expr:
        return n.String(_token_span(children[0]), _unescape(str(children[0])))

    def field(self, meta: Any, children: list[Token]) -> n.Expr:
        span = _span(meta)
        names = tuple(str(c) for c in children)
        if len(names) == 1 and names[0].upper() in KEYWORDS:
            word = names[0].upper()
            if word == "NULL":
                return n.Null(span)
            return n.Boolean(span, word == "TRUE")
        return n.FieldRef(span, names)

    def call(self, meta: Any, children: list[Any]) -> n.Expr:
        name = str(children[0]).upper()
        args = tuple(c for c in children[1:] if c is not None)
        return n.Call(_span(meta), name, args)

    def binary(self, meta: Any, children: list[Any]) -> n.Expr:
        left, op, right = children
        symbol = {"==": "=", "!=": "<>"}.get(op, op)
        return n.Binary(_span(meta), symbol, left, right)

    def unary(self, meta: Any, children: list[Any]) -> n.Expr:
        op, operand = children
        return n.Unary(_span(meta), op, operand)

    def _op(self, meta: Any, children: list[Token]) -> str:
        return str(children[0])

    or_op = and_op = cmp_op = add_op = mul_op = pow_op = unary_op = _op


_TRANSFORMER = _ToAst()


def parse(source: str) -> n.Expr:
    """Parse formula text into an AST (FormulaError with a position on bad syntax)."""
    if not isinstance(source, str) or not source.strip():
        raise FormulaError("the formula is empty", kind="syntax", source=source or "",
                           line=1, column=1)
    if len(source) > MAX_LENGTH:
        raise FormulaError(f"the formula is longer than {MAX_LENGTH} characters",
                           kind="syntax", source=source, line=1, column=1)
    try:
        tree = _parser().parse(source)
    except UnexpectedInput as err:
        raise _syntax_error(source, err) from None
    _check_nesting(source, tree)
    return _TRANSFORMER.transform(tree)


def _check_nesting(source: str, tree: Tree[Token]) -> None:
    """Refuse trees deeper than MAX_NESTING before anything walks them recursively."""
    todo: list[tuple[Tree[Token], int]] = [(tree, 1)]
    while todo:
        node, depth = todo.pop()
        if depth > MAX_NESTING:
            meta = node.meta
            raise FormulaError(f"the formula is nested too deeply (more than {MAX_NESTING} "
                               "levels of operators, functions and parentheses)",
                               kind="syntax", source=source,
                               line=getattr(meta, "line", 1), column=getattr(meta, "column", 1))
        todo.extend((child, depth + 1) for child in node.children if isinstance(child, Tree))


def _syntax_error(source: str, err: UnexpectedInput) -> FormulaError:
    line, column = max(err.line, 1), max(err.column, 1)
    if isinstance(err, UnexpectedEOF) or (isinstance(err, UnexpectedToken)
                                          and err.token.type == "$END"):
        lines = source.splitlines() or [""]
        line, column = len(lines), len(lines[-1]) + 1
        message = "the formula ends too early: expected an expression or a closing ')'"
    elif isinstance(err, UnexpectedCharacters):
        pos = err.pos_in_stream or 0
        char = source[pos] if pos < len(source) else ""
        message = "unterminated string" if char in "\"'" else f"unexpected character {char!r}"
    elif isinstance(err, UnexpectedToken) and str(err.token) == "*" \
            and source[max(err.token.start_pos or 0, 1) - 1] == "/":
        message = "unterminated comment: /* needs a closing */"
        column = max(column - 1, 1)
    elif isinstance(err, UnexpectedToken):
        message = f"unexpected {str(err.token)!r}"
        if err.token.type == "NAME" or err.token.type == "NUMBER":
            message += ": an operator or ',' is missing before it"
    else:  # pragma: no cover - Lark raises only the three kinds above
        message = "syntax error"
    return FormulaError(message, kind="syntax", source=source, line=line, column=column)
