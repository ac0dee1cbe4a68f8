"""Text functions: LEN LEFT RIGHT MID UPPER LOWER TRIM SUBSTITUTE CONTAINS BEGINS FIND TEXT
VALUE LPAD RPAD CONCATENATE REGEX. Blank text behaves as "" unless said otherwise.

TEXT with a format is text_format.py's; character-level functions are characters.py's.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import String, and_, case, func, literal, or_, type_coerce

from metabiz.errors import FormulaError
from metabiz.formulas.ftypes import FType
from metabiz.formulas.functions.geo import location_text
from metabiz.formulas.functions.registry import (
    ANY,
    NUM,
    TEXT,
    SqlCall,
    expect,
    fixed,
    register,
)
from metabiz.formulas.functions.sql_support import (
    bind,
    greatest,
    integer,
    number_text,
    position,
    time_text,
    trim_chars,
    truthy,
)
from metabiz.formulas.functions.text_format import format_type, format_value, text_format_sql
from metabiz.formulas.limits import (
    MAX_TEXT,
    checked_number,
    compiled_pattern,
    regex_matches,
    text_room,
)
from metabiz.formulas.nodes import String as StringNode
from metabiz.formulas.values import (
    as_decimal,
    as_int,
    as_text,
    parse_number_text,
)

ZERO = Decimal(0)


def _t(value: Any) -> str:
    return "" if value is None else str(value)


def _n(value: Any) -> int:
    return 0 if value is None else as_int(value)


def _c(arg: Any) -> Any:
    """A SQL text argument with blank as ''."""
    return func.coalesce(arg, literal(""))


def _or_blank(text: str) -> str | None:
    return text or None


def _len(value: Any) -> Decimal:
    return as_decimal(len(value)) if value else ZERO


def _left(value: Any, count: Any) -> Any:
    if not value or count is None:
        return None
    n = as_int(count)
    return str(value)[:n] if n > 0 else None


def _right(value: Any, count: Any) -> Any:
    n = max(_n(count), 0)
    return _or_blank(_t(value)[-n:] if n else "")


def _mid(value: Any, start: Any, count: Any) -> Any:
    begin = max(_n(start), 1) - 1
    return _or_blank(_t(value)[begin:begin + max(_n(count), 0)])


def _substitute(value: Any, old: Any, new: Any) -> Any:
    text, old_text, new_text = _t(value), _t(old), _t(new)
    if not old_text:
        return _or_blank(text)
    if len(new_text) > len(old_text):
        growth = text.count(old_text) * (len(new_text) - len(old_text))
        text_room(len(text) + growth, "SUBSTITUTE")
    return _or_blank(text.replace(old_text, new_text))


def _find(search: Any, value: Any, start: Any = None) -> Decimal:
    begin = max(_n(start), 1) - 1 if start is not None else 0
    if not _t(search):
        return Decimal(0)
    return Decimal(_t(value).find(_t(search), begin) + 1)


def _pad(left: bool) -> Any:
    def run(value: Any, length: Any, pad: Any = " ") -> Any:
        n, text, filler = max(_n(length), 0), _t(value), _t(pad) or " "
        if len(text) >= n:
            return _or_blank(text[:n])
        text_room(n, "LPAD" if left else "RPAD")
        missing = n - len(text)
        fill = (filler * (missing // len(filler) + 1))[:missing]
        return _or_blank(fill + text if left else text + fill)

    return run


def _text(value: Any, text_format: str | None = None) -> Any:
    if text_format is not None and value is not None:
        return format_value(value, text_format)
    return as_text(value)


def _text_type(types: Sequence[FType], node: Any) -> FType:
    expect(node, types, 0, ANY)
    if len(types) > 1:
        format_type(types, node)
    return FType.TEXT


def _text_sql(c: SqlCall) -> Any:
    # typed as text so that & and CONCATENATE join it (SQLite's + would add numbers)
    if len(c.args) > 1:
        return type_coerce(text_format_sql(c), String())
    return type_coerce(_text_of(c), String())


def _text_of(c: SqlCall) -> Any:
    kind = c.types[0]
    if kind in (FType.TEXT, FType.PICKLIST, FType.MULTI_PICKLIST, FType.NULL, FType.LINK,
                FType.IMAGE):
        return c.args[0]
    if kind is FType.LOCATION:
        return location_text(c.args[0], c.dialect)
    if kind is FType.TIME:
        return time_text(c.args[0], c.dialect)
    if kind is FType.NUMBER:
        return number_text(c.args[0], c.dialect)
    if kind is FType.DATE:
        if c.dialect == "sqlite":
            return c.args[0]
        return func.to_char(c.args[0], literal("YYYY-MM-DD"))
    if kind is FType.DATETIME:
        if c.dialect == "sqlite":
            return func.strftime(literal("%Y-%m-%d %H:%M:%SZ"), c.args[0])
        return func.to_char(c.args[0], literal('YYYY-MM-DD HH24:MI:SS"Z"'))
    return case((c.args[0].is_(None), None), (c.args[0], literal("true")),
                else_=literal("false"))


def _value(value: Any) -> Any:
    if value is None or not str(value).strip(" \t\r\n"):
        return None
    return checked_number(parse_number_text(str(value), "VALUE"), "VALUE")


def _regex(value: Any, pattern: Any) -> bool:
    return regex_matches(_t(value), _t(pattern))


def _regex_type(types: Sequence[FType], node: Any) -> FType:
    fixed([TEXT, TEXT], FType.BOOLEAN)(types, node)
    pattern = node.args[1]
    if isinstance(pattern, StringNode):
        try:
            compiled_pattern(pattern.value)
        except FormulaError as err:
            raise FormulaError(err.message, kind="check", line=pattern.span.line,
                               column=pattern.span.column) from None
    return FType.BOOLEAN


def _regex_sql(c: SqlCall) -> Any:
    if c.dialect == "sqlite":
        # RE2 (limits.sqlite_regex, registered on every connection), not SQLAlchemy's
        # REGEXP, which would run Python's backtracking `re` on every row
        return truthy(func.metabiz_regex(c.args[0], c.args[1]) == 1, c.never_null)
    # \A and \Z anchor the whole text in PostgreSQL's regular expressions; a query that
    # runs too long there is ended by statement_timeout (docs/operations.md)
    anchored = literal("\\A(?:").concat(_c(c.args[1])).concat(literal(")\\Z"))
    return truthy(_c(c.args[0]).regexp_match(anchored), c.never_null)


def _concatenate(*values: Any) -> Any:
    texts = [_t(v) for v in values]
    text_room(sum(len(t) for t in texts), "CONCATENATE")
    return _or_blank("".join(texts))


def _text_args(types: Sequence[FType], node: Any) -> FType:
    for i in range(len(types)):
        expect(node, types, i, TEXT)
    return FType.TEXT


def _count(value: Any, dialect: str) -> Any:
    """A character count argument: blank is 0, fractions are cut, negatives are 0."""
    return greatest(integer(func.coalesce(value, literal(0)), dialect, never_blank=True),
                    literal(0), dialect)


def _start(value: Any, dialect: str) -> Any:
    """A 1-based start position: blank and anything below 1 is 1."""
    return greatest(integer(func.coalesce(value, literal(0)), dialect, never_blank=True),
                    literal(1), dialect)


def _substr_sql(c: SqlCall, start: Any, length: Any) -> Any:
    return func.nullif(func.substr(_c(c.args[0]), start, length), literal(""))


def _left_sql(c: SqlCall) -> Any:
    return _substr_sql(c, literal(1), _count(c.args[1], c.dialect))


def _mid_sql(c: SqlCall) -> Any:
    return _substr_sql(c, _start(c.args[1], c.dialect), _count(c.args[2], c.dialect))


def _right_sql(c: SqlCall) -> Any:
    n = _count(c.args[1], c.dialect)
    text = _c(c.args[0])
    if c.dialect == "postgresql":
        return func.nullif(func.right(text, n), literal(""))
    return case((n <= 0, None), else_=func.nullif(func.substr(text, -n), literal("")))


def _find_sql(c: SqlCall) -> Any:
    search, text = c.args[0], c.args[1]
    if len(c.args) < 3:
        return case((_c(search) == literal(""), 0), else_=position(search, text, c.dialect))
    begin = _start(c.args[2], c.dialect)
    found = position(search, func.substr(_c(text), begin), c.dialect)
    return case((_c(search) == literal(""), 0), (found == 0, 0),
                else_=found + begin - literal(1))


def _pad_sql(left: bool) -> Any:
    def build(c: SqlCall) -> Any:
        text, d = _c(c.args[0]), c.dialect
        length = _count(c.args[1], d)
        filler = func.coalesce(func.nullif(c.args[2], literal("")), literal(" ")) \
            if len(c.args) > 2 else literal(" ")
        if d == "postgresql":
            pg_padded = (func.lpad if left else func.rpad)(text, length, filler)
            # longer than a formula's text may be: blank, where Python reports an error
            return case((length > MAX_TEXT, None), else_=func.nullif(pg_padded, literal("")))
        # named once (bind): the SQL reads text and length several times
        return bind([text, length, filler], lambda *names: _sqlite_pad(*names, left=left))

    return build


def _sqlite_pad(text: Any, length: Any, filler: Any, *, left: bool) -> Any:
    """SQLite has no lpad: repeat the filler with replace(hex(zeroblob(n)), '00', filler)."""
    missing = length - func.length(text)
    fill = func.substr(func.replace(func.hex(func.zeroblob(length)), literal("00"), filler),
                       literal(1), missing)
    joined = fill.concat(text) if left else text.concat(fill)
    padded = case((missing <= 0, func.substr(text, literal(1), length)), else_=joined)
    return case((length > MAX_TEXT, None), else_=func.nullif(padded, literal("")))


def _substitute_sql(c: SqlCall) -> Any:
    """replace(), blank when the result would be longer than a formula's text may be
    (computed from the number of occurrences before anything is built)."""
    def build(text: Any, old: Any, new: Any) -> Any:
        grows = func.length(new) - func.length(old)
        occurrences = (func.length(text) - func.length(func.replace(text, old, literal("")))) \
            / func.nullif(func.length(old), 0)
        too_long = and_(grows > 0, func.length(text) + occurrences * grows > MAX_TEXT)
        return case((too_long, None), else_=func.nullif(func.replace(text, old, new),
                                                         literal("")))

    return bind([_c(a) for a in c.args], build)


def _position(dialect: str, search: Any, text: Any) -> Any:
    """1-based position of search in text, 0 when absent or when search is blank."""
    return case((_c(search) == literal(""), 0), else_=position(search, text, dialect))


register("LEN", 1, 1, fixed([TEXT], FType.NUMBER), _len,
         lambda c: func.length(_c(c.args[0])), summary="LEN(text): number of characters")
register("LEFT", 2, 2, fixed([TEXT, NUM], FType.TEXT), _left, _left_sql,
         summary="LEFT(text, count)")
register("RIGHT", 2, 2, fixed([TEXT, NUM], FType.TEXT), _right, _right_sql,
         summary="RIGHT(text, count)")
register("MID", 3, 3, fixed([TEXT, NUM, NUM], FType.TEXT), _mid, _mid_sql,
         summary="MID(text, start, count): start counts from 1")
register("UPPER", 1, 1, fixed([TEXT], FType.TEXT), lambda v: str(v).upper() if v else None,
         lambda c: func.upper(c.args[0]), summary="UPPER(text)")
register("LOWER", 1, 1, fixed([TEXT], FType.TEXT), lambda v: str(v).lower() if v else None,
         lambda c: func.lower(c.args[0]), summary="LOWER(text)")
register("TRIM", 1, 1, fixed([TEXT], FType.TEXT), lambda v: _or_blank(_t(v).strip(" \t")),
         lambda c: func.nullif(trim_chars(c.args[0], " \t", c.dialect), literal("")),
         summary="TRIM(text): removes leading and trailing spaces and tabs")
register("SUBSTITUTE", 3, 3, fixed([TEXT, TEXT, TEXT], FType.TEXT), _substitute,
         lambda c: _substitute_sql(c),
         summary="SUBSTITUTE(text, old, new): replaces every occurrence")
register("CONTAINS", 2, 2, fixed([TEXT, TEXT], FType.BOOLEAN),
         lambda v, s: _t(s) in _t(v),
         lambda c: or_(_c(c.args[1]) == literal(""),
                       _position(c.dialect, c.args[1], c.args[0]) > 0),
         summary="CONTAINS(text, search): true when search occurs in text")
register("BEGINS", 2, 2, fixed([TEXT, TEXT], FType.BOOLEAN),
         lambda v, s: _t(v).startswith(_t(s)),
         lambda c: func.substr(_c(c.args[0]), 1, func.length(_c(c.args[1]))) == _c(c.args[1]),
         summary="BEGINS(text, prefix)")
register("FIND", 2, 3, fixed([TEXT, TEXT, NUM], FType.NUMBER), _find, _find_sql,
         summary="FIND(search, text[, start]): position from 1, 0 when absent")
register("TEXT", 1, 2, _text_type, _text, _text_sql,
         summary='TEXT(value[, format]): any value as text; TEXT(1234.5, "#,##0.00")')
register("VALUE", 1, 1, fixed([TEXT], FType.NUMBER), _value,
         summary="VALUE(text): the number written in text")
register("LPAD", 2, 3, fixed([TEXT, NUM, TEXT], FType.TEXT), _pad(True), _pad_sql(True),
         summary="LPAD(text, length[, pad]): pads or cuts on the left to length")
register("RPAD", 2, 3, fixed([TEXT, NUM, TEXT], FType.TEXT), _pad(False), _pad_sql(False),
         summary="RPAD(text, length[, pad])")
register("CONCATENATE", 1, None, _text_args, _concatenate,
         lambda c: func.nullif(_concat(c.args), literal("")),
         summary="CONCATENATE(text, ...): same as &")
register("REGEX", 2, 2, _regex_type, _regex, _regex_sql,
         summary="REGEX(text, pattern): true when the whole text matches")


def _concat(args: Sequence[Any]) -> Any:
    result = _c(args[0])
    for arg in args[1:]:
        result = result.concat(_c(arg))
    return result

