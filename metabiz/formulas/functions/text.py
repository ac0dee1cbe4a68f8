"""Text functions: LEN LEFT RIGHT MID UPPER LOWER TRIM SUBSTITUTE CONTAINS BEGINS FIND TEXT
VALUE LPAD RPAD CONCATENATE REGEX. Blank text behaves as "" unless said otherwise.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, case, cast, func, literal, or_

from metabiz.errors import FormulaError
from metabiz.formulas.ftypes import FType
from metabiz.formulas.functions.registry import (
    ANY,
    NUM,
    TEXT,
    SqlCall,
    expect,
    fixed,
    register,
)
from metabiz.formulas.values import format_datetime, format_number, to_decimal


def _t(value: Any) -> str:
    return "" if value is None else str(value)


def _n(value: Any) -> int:
    return 0 if value is None else int(value)


def _c(arg: Any) -> Any:
    """A SQL text argument with blank as ''."""
    return func.coalesce(arg, literal(""))


def _or_blank(text: str) -> str | None:
    return text or None


def _len(value: Any) -> Decimal:
    return Decimal(len(_t(value)))


def _left(value: Any, count: Any) -> Any:
    return _or_blank(_t(value)[:max(_n(count), 0)])


def _right(value: Any, count: Any) -> Any:
    n = max(_n(count), 0)
    return _or_blank(_t(value)[-n:] if n else "")


def _mid(value: Any, start: Any, count: Any) -> Any:
    begin = max(_n(start), 1) - 1
    return _or_blank(_t(value)[begin:begin + max(_n(count), 0)])


def _substitute(value: Any, old: Any, new: Any) -> Any:
    text = _t(value)
    if not _t(old):
        return _or_blank(text)
    return _or_blank(text.replace(_t(old), _t(new)))


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
        fill = (filler * n)[: n - len(text)]
        return _or_blank(fill + text if left else text + fill)

    return run


def _text(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format_number(value)
    if isinstance(value, dt.datetime):
        return format_datetime(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple):
        return ";".join(value) or None
    return _or_blank(str(value))


def _text_type(types: Sequence[FType], node: Any) -> FType:
    return FType.TEXT


def _text_sql(c: SqlCall) -> Any:
    kind = c.types[0]
    if kind in (FType.TEXT, FType.PICKLIST, FType.MULTI_PICKLIST, FType.NULL):
        return c.args[0]
    if kind is FType.DATE:
        if c.dialect == "sqlite":
            return c.args[0]
        return func.to_char(c.args[0], literal("YYYY-MM-DD"))
    if kind is FType.DATETIME:
        if c.dialect == "sqlite":
            return func.strftime(literal("%Y-%m-%d %H:%M:%SZ"), c.args[0])
        return func.to_char(c.args[0], literal('YYYY-MM-DD HH24:MI:SS"Z"'))
    if kind is FType.BOOLEAN:
        return case((c.args[0].is_(None), None), (c.args[0], literal("true")),
                    else_=literal("false"))
    raise FormulaError("TEXT of a number cannot run in the database", kind="sql")


def _value(value: Any) -> Any:
    if value is None or not str(value).strip():
        return None
    try:
        return to_decimal(str(value).strip().replace(",", ""))
    except FormulaError:
        raise FormulaError(f"VALUE: {value!r} is not a number", kind="eval") from None


def _regex(value: Any, pattern: Any) -> bool:
    try:
        return re.fullmatch(_t(pattern), _t(value)) is not None
    except re.error as err:
        raise FormulaError(f"REGEX: invalid pattern: {err}", kind="eval") from None


def _concatenate(*values: Any) -> Any:
    return _or_blank("".join(_t(v) for v in values))


def _text_args(types: Sequence[FType], node: Any) -> FType:
    for i in range(len(types)):
        expect(node, types, i, TEXT)
    return FType.TEXT


def _substr_sql(c: SqlCall, start: Any, length: Any) -> Any:
    return func.nullif(func.substr(_c(c.args[0]), start, length), literal(""))


def _right_sql(c: SqlCall) -> Any:
    n = c.args[1]
    text = _c(c.args[0])
    if c.dialect == "postgresql":
        return func.nullif(func.right(text, cast(n, Integer())), literal(""))
    return case((n <= 0, None), else_=func.nullif(func.substr(text, -n), literal("")))


def _find_sql(c: SqlCall) -> Any:
    if len(c.args) > 2:
        raise FormulaError("FIND with a start position cannot run in the database", kind="sql")
    return _position(c.dialect, c.args[0], c.args[1])


def _position(dialect: str, search: Any, text: Any) -> Any:
    """1-based position of search in text, 0 when absent or when search is blank."""
    search, text = _c(search), _c(text)
    found = func.instr(text, search) if dialect == "sqlite" else func.strpos(text, search)
    return case((search == literal(""), 0), else_=found)


register("LEN", 1, 1, fixed([TEXT], FType.NUMBER), _len,
         lambda c: func.length(_c(c.args[0])), summary="LEN(text): number of characters")
register("LEFT", 2, 2, fixed([TEXT, NUM], FType.TEXT), _left,
         lambda c: _substr_sql(c, 1, c.args[1]), summary="LEFT(text, count)")
register("RIGHT", 2, 2, fixed([TEXT, NUM], FType.TEXT), _right, _right_sql,
         summary="RIGHT(text, count)")
register("MID", 3, 3, fixed([TEXT, NUM, NUM], FType.TEXT), _mid,
         lambda c: _substr_sql(c, c.args[1], c.args[2]),
         summary="MID(text, start, count): start counts from 1")
register("UPPER", 1, 1, fixed([TEXT], FType.TEXT), lambda v: _or_blank(_t(v).upper()),
         lambda c: func.upper(c.args[0]), summary="UPPER(text)")
register("LOWER", 1, 1, fixed([TEXT], FType.TEXT), lambda v: _or_blank(_t(v).lower()),
         lambda c: func.lower(c.args[0]), summary="LOWER(text)")
register("TRIM", 1, 1, fixed([TEXT], FType.TEXT), lambda v: _or_blank(_t(v).strip(" ")),
         lambda c: func.nullif(func.trim(c.args[0]), literal("")),
         summary="TRIM(text): removes leading and trailing spaces")
register("SUBSTITUTE", 3, 3, fixed([TEXT, TEXT, TEXT], FType.TEXT), _substitute,
         lambda c: func.nullif(func.replace(_c(c.args[0]), c.args[1], _c(c.args[2])),
                               literal("")),
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
register("TEXT", 1, 1, fixed([ANY], FType.TEXT), _text, _text_sql,
         summary="TEXT(value): a number, date, datetime, picklist or boolean as text")
register("VALUE", 1, 1, fixed([TEXT], FType.NUMBER), _value,
         summary="VALUE(text): the number written in text")
register("LPAD", 2, 3, fixed([TEXT, NUM, TEXT], FType.TEXT), _pad(True),
         summary="LPAD(text, length[, pad]): pads or cuts on the left to length")
register("RPAD", 2, 3, fixed([TEXT, NUM, TEXT], FType.TEXT), _pad(False),
         summary="RPAD(text, length[, pad])")
register("CONCATENATE", 1, None, _text_args, _concatenate,
         lambda c: func.nullif(_concat(c.args), literal("")),
         summary="CONCATENATE(text, ...): same as &")
register("REGEX", 2, 2, fixed([TEXT, TEXT], FType.BOOLEAN), _regex,
         summary="REGEX(text, pattern): true when the whole text matches")


def _concat(args: Sequence[Any]) -> Any:
    result = _c(args[0])
    for arg in args[1:]:
        result = result + _c(arg)
    return result

