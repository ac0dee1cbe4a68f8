"""TEXT(value, format): numbers with 0 # , . and dates, datetimes and times with YYYY MM DD
HH mm ss, in Python and in SQL; every other character of the format is kept.

The format is parsed once, when the formula is checked (it must be written in quotes).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import String, case, cast, func, literal, null

from metabiz.formulas.ftypes import FType
from metabiz.formulas.functions.registry import SqlCall, arg_error, literal_text, node_error
from metabiz.formulas.functions.sql_support import (
    bind,
    date_part,
    numeric,
    pad_digits,
    time_parts,
    two_digits,
)
from metabiz.formulas.nodes import Call
from metabiz.formulas.values import ms_of_time, utc

DATE_TOKENS = ("YYYY", "MM", "DD", "HH", "mm", "ss")
TIME_TOKENS = ("HH", "mm", "ss")
FORMATTABLE = frozenset({FType.NUMBER, FType.DATE, FType.DATETIME, FType.TIME})
#: the integer digits SQL groups with "," (numbers hold at most 18 significant digits)
GROUPED_DIGITS = 21


@dataclass(frozen=True)
class NumberFormat:
    """A number pattern: `prefix` [int part] [. fraction] `suffix`."""

    prefix: str
    suffix: str
    min_digits: int  # the "0"s of the integer part
    grouped: bool  # a "," in the integer part: thousands separators
    point: bool  # the pattern has a decimal point
    required: int  # fraction digits always shown (up to the last "0")
    optional: int  # fraction digits shown when not zero ("#" after the last "0")


@functools.cache
def number_format(text: str) -> NumberFormat:
    """The first run of 0 # , . holding a 0 or # is the pattern (ValueError if none)."""
    first = next((i for i, ch in enumerate(text) if ch in "0#"), None)
    if first is None:
        raise ValueError("a number format needs 0 or # (as in \"#,##0.00\")")
    start = first
    while start > 0 and text[start - 1] in "0#,.":
        start -= 1
    end = first
    while end < len(text) and text[end] in "0#,.":
        end += 1
    pattern = text[start:end]
    whole, point, fraction = pattern.partition(".")
    if "." in fraction or "," in fraction:
        raise ValueError("after the decimal point a number format takes only 0 and #")
    last_zero = fraction.rfind("0") + 1
    return NumberFormat(text[:start], text[end:], whole.count("0"), "," in whole, bool(point),
                        last_zero, len(fraction) - last_zero)


@functools.cache
def date_format(text: str) -> tuple[str, ...]:
    """The format split into tokens (DATE_TOKENS) and single literal characters."""
    parts: list[str] = []
    i = 0
    while i < len(text):
        token = next((t for t in DATE_TOKENS if text.startswith(t, i)), None)
        parts.append(token or text[i])
        i += len(token) if token else 1
    return tuple(parts)


def format_type(types: Sequence[FType], node: Call) -> None:
    """Check TEXT(value, format): a formattable value and a format written in quotes."""
    kind = types[0]
    if kind not in FORMATTABLE and kind is not FType.NULL:
        raise arg_error(node, 0, FORMATTABLE, kind)
    text = literal_text(node, 1, "the format")
    try:
        if kind is FType.NUMBER:
            number_format(text)
        elif kind is FType.TIME:
            tokens = set(date_format(text)) & set(DATE_TOKENS)
            if tokens - set(TIME_TOKENS):
                raise ValueError("a time of day has no year, month or day: use HH, mm and ss")
    except ValueError as err:
        raise node_error(node.args[1], f"TEXT: {err}") from None


# -- Python ---------------------------------------------------------------------------------

def format_value(value: Any, text: str) -> str:
    if isinstance(value, Decimal):
        return format_number_with(value, number_format(text))
    return format_moment(value, text)


def format_number_with(value: Decimal, fmt: NumberFormat) -> str:
    decimals = fmt.required + fmt.optional
    rounded = abs(value).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    digits = format(rounded, "f")
    whole, _, fraction = digits.partition(".")
    if whole == "0" and fmt.min_digits == 0:
        whole = ""
    whole = whole.rjust(fmt.min_digits, "0")
    if fmt.grouped and whole:
        whole = _group(whole)
    shown = fraction[:fmt.required] + fraction[fmt.required:].rstrip("0")
    sign = "-" if value < 0 and rounded != 0 else ""
    point = "." + shown if fmt.point else ""
    return f"{sign}{fmt.prefix}{whole}{point}{fmt.suffix}"


def _group(digits: str) -> str:
    head = len(digits) % 3 or 3
    return ",".join([digits[:head], *(digits[i:i + 3] for i in range(head, len(digits), 3))])


def format_moment(value: Any, text: str) -> str:
    if isinstance(value, dt.datetime):
        moment = utc(value)
        parts = {"YYYY": f"{moment.year:04d}", "MM": f"{moment.month:02d}",
                 "DD": f"{moment.day:02d}", "HH": f"{moment.hour:02d}",
                 "mm": f"{moment.minute:02d}", "ss": f"{moment.second:02d}"}
    elif isinstance(value, dt.date):
        parts = {"YYYY": f"{value.year:04d}", "MM": f"{value.month:02d}",
                 "DD": f"{value.day:02d}", "HH": "00", "mm": "00", "ss": "00"}
    else:
        ms = ms_of_time(value)
        parts = {"HH": f"{ms // 3_600_000:02d}", "mm": f"{ms // 60_000 % 60:02d}",
                 "ss": f"{ms // 1000 % 60:02d}"}
    return "".join(parts.get(p, p) for p in date_format(text))


# -- SQL --------------------------------------------------------------------------------------

def text_format_sql(c: SqlCall) -> Any:
    value, kind = c.args[0], c.types[0]
    text = literal_text(c.node, 1, "the format")
    if kind is FType.NULL:
        return null()
    def build(value: Any) -> Any:
        if kind is FType.NUMBER:
            built = _number_sql(value, number_format(text), c.dialect)
        else:
            built = _moment_sql(value, kind, text, c.dialect)
        return func.nullif(case((value.is_(None), None), else_=built), literal(""))

    return bind([value], build)


def _right(text: Any, count: int, dialect: str) -> Any:
    return func.substr(text, -count) if dialect == "sqlite" else func.right(text, count)


def _number_sql(value: Any, fmt: NumberFormat, d: str) -> Any:
    decimals = fmt.required + fmt.optional
    digits: Any
    whole: Any
    fraction: Any
    if d == "sqlite":
        # round() is half away from zero on the decimal text; printf then writes exactly
        # the digits of that rounded value
        rounded = func.round(func.abs(value), decimals)
        digits = func.printf(literal(f"%.{decimals}f"), rounded)
    else:
        rounded = func.round(func.abs(numeric(value, d)), decimals)
        digits = cast(rounded, String())
    if decimals:
        whole = func.substr(digits, 1, func.length(digits) - (decimals + 1))
        fraction = func.substr(digits, func.length(digits) - (decimals - 1))
    else:
        whole, fraction = digits, literal("")
    if fmt.min_digits == 0:
        whole = case((whole == literal("0"), literal("")), else_=whole)
    else:
        padded = literal("0" * fmt.min_digits).concat(whole)
        whole = case((func.length(whole) >= fmt.min_digits, whole),
                     else_=_right(padded, fmt.min_digits, d))
    if fmt.grouped:
        spaced = _right(literal(" " * GROUPED_DIGITS).concat(whole), GROUPED_DIGITS, d)
        groups = [func.substr(spaced, i + 1, 3) for i in range(0, GROUPED_DIGITS, 3)]
        joined: Any = groups[0]
        for group in groups[1:]:
            joined = joined.concat(literal(",")).concat(group)
        whole = func.ltrim(joined, literal(" ,"))
    result = literal(fmt.prefix, String()).concat(whole)
    if fmt.point:
        shown = func.substr(fraction, 1, fmt.required).concat(
            func.rtrim(func.substr(fraction, fmt.required + 1), literal("0")))
        result = result.concat(literal(".")).concat(shown)
    result = result.concat(literal(fmt.suffix, String()))
    negative = (value < 0) & (rounded > 0)
    return case((negative, literal("-").concat(result)), else_=result)


_SQLITE = {"YYYY": "%Y", "MM": "%m", "DD": "%d", "HH": "%H", "mm": "%M", "ss": "%S"}
_POSTGRES = {"YYYY": "YYYY", "MM": "MM", "DD": "DD", "HH": "HH24", "mm": "MI", "ss": "SS"}


def _moment_sql(value: Any, kind: FType, text: str, d: str) -> Any:
    pieces: list[Any] = []
    for part in date_format(text):
        if part not in DATE_TOKENS:
            pieces.append(literal(part, String()))
        elif kind is FType.TIME:
            hour, minute, second, _milli = time_parts(value)
            pieces.append(two_digits({"HH": hour, "mm": minute, "ss": second}[part], d))
        elif kind is FType.DATE and part in TIME_TOKENS:
            pieces.append(literal("00"))
        elif part == "YYYY":
            pieces.append(pad_digits(date_part("year", value, d), 4, d))
        elif d == "sqlite":
            pieces.append(func.strftime(literal(_SQLITE[part]), value))
        else:
            pieces.append(func.to_char(value, literal(_POSTGRES[part])))
    result = pieces[0] if pieces else literal("")
    for piece in pieces[1:]:
        result = result.concat(piece)
    return result
