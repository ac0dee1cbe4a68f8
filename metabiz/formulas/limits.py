"""The limits that keep one formula from holding a worker: text length, number size, regex.

Every back end checks them where a value is built (before building it when the size is
known in advance); Python reports an evaluation error, SQL gives blank (docs/formulas.md).
"""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any

import re2

from metabiz.errors import FormulaError
from metabiz.formulas.ftypes import FType

#: the longest text a formula may build, in characters: 128 Ki, Salesforce's limit for a
#: long text area (its formula fields stop at 3,900 characters; ours may compute long ones)
MAX_TEXT = 131_072
#: numbers a formula gives, reads with VALUE or writes as a literal stay below 10^26 in
#: magnitude: 26 digits before the point and 2 after fill the 28 that Decimal keeps
NUMBER_DIGITS = 26
MAX_NUMBER = Decimal(10) ** NUMBER_DIGITS
#: the largest whole exponent POWER and ^ compute exactly; beyond, a float power
MAX_EXACT_EXPONENT = 1000
#: distinct REGEX patterns kept compiled per process
PATTERN_CACHE = 256

_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # a bad pattern is the user's, reported as a FormulaError


def too_long(what: str) -> FormulaError:
    return FormulaError(f"{what}: the text would be longer than {MAX_TEXT:,} characters, the "
                        "limit of a formula's text", kind="eval")


def text_room(length: int, what: str) -> None:
    """Refuse to build a text of `length` characters beyond MAX_TEXT (before building it)."""
    if length > MAX_TEXT:
        raise too_long(what)


def checked_text(text: Any, what: str) -> Any:
    """The text as it is, or an evaluation error when it is longer than MAX_TEXT."""
    if text is not None and len(text) > MAX_TEXT:
        raise too_long(what)
    return text


def too_large(what: str) -> FormulaError:
    return FormulaError(f"{what}: the number is too large (formulas work with numbers below "
                        f"10^{NUMBER_DIGITS})", kind="eval")


def in_range(value: Decimal) -> bool:
    """Whether a number is finite and below MAX_NUMBER in magnitude (cheap for any size)."""
    if not value.is_finite():
        return False
    return not value or value.adjusted() < NUMBER_DIGITS


def checked_number(value: Any, what: str) -> Any:
    """The number as it is (blank too), or an evaluation error beyond MAX_NUMBER."""
    if value is not None and not in_range(value):
        raise too_large(what)
    return value


def result_check(ftype: FType) -> Any:
    """How a formula's result of this type is checked before anyone sees it (None: not)."""
    if ftype is FType.NUMBER:
        def number(value: Any) -> Any:
            if value is not None and not in_range(value):
                raise FormulaError(f"the result is too large (formulas work with numbers "
                                   f"below 10^{NUMBER_DIGITS})", kind="eval")
            return value

        return number
    if ftype is FType.TEXT:
        def text(value: Any) -> Any:
            if value is not None and len(value) > MAX_TEXT:
                raise FormulaError(f"the result is longer than {MAX_TEXT:,} characters, the "
                                   "limit of a formula's text", kind="eval")
            return value

        return text
    return None


@functools.lru_cache(maxsize=PATTERN_CACHE)
def compiled_pattern(pattern: str) -> Any:
    """A REGEX pattern compiled by RE2, which runs in time linear in the text (no pattern
    can backtrack for ever); FormulaError for one RE2 cannot compile."""
    try:
        return re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as err:
        raise FormulaError(f"REGEX: invalid pattern: {_reason(err)}", kind="eval") from None


def _reason(err: Exception) -> str:
    reason = err.args[0] if err.args else err
    return reason.decode(errors="replace") if isinstance(reason, bytes) else str(reason)


def regex_matches(text: str, pattern: str) -> bool:
    """Whether the whole text matches the pattern (RE2 syntax)."""
    return compiled_pattern(pattern).fullmatch(text) is not None


def sqlite_regex(text: Any, pattern: Any) -> int | None:
    """REGEX as an SQLite function (db.py registers it on every connection): 1 or 0, and
    NULL for a pattern RE2 cannot compile, as SQL gives blank where Python raises."""
    try:
        return int(regex_matches("" if text is None else str(text),
                                 "" if pattern is None else str(pattern)))
    except FormulaError:
        return None


#: functions the SQL back end calls on SQLite, which every connection must have:
#: name → (number of arguments, implementation)
SQLITE_FUNCTIONS: dict[str, tuple[int, Any]] = {"metabiz_regex": (2, sqlite_regex)}


def add_sqlite_functions(dbapi_connection: Any) -> None:
    """Register SQLITE_FUNCTIONS on a new sqlite3 connection (an engine's connect event)."""
    for name, (arity, implementation) in SQLITE_FUNCTIONS.items():
        dbapi_connection.create_function(name, arity, implementation, deterministic=True)
