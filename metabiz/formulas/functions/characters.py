"""Text functions that work character by character: INITCAP REVERSE ASCII CHR ISNUMBER
CASESAFEID. Blank text gives blank (ISNUMBER: false).

Where the databases have no function for it (INITCAP, SQLite's REVERSE), the SQL walks the
characters with a recursive query (sql_support.map_characters).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import String, and_, case, func, literal, or_

from metabiz.errors import FormulaError
from metabiz.formulas.ftypes import FType
from metabiz.formulas.functions.math import blank_safe
from metabiz.formulas.functions.registry import NUM, TEXT, SqlCall, fixed, register
from metabiz.formulas.functions.sql_support import (
    code_point,
    integer,
    map_characters,
    truthy,
)
from metabiz.formulas.values import NUMBER_TEXT, as_decimal, as_int, is_number_text

MAX_CODE_POINT = 0x10FFFF
SURROGATES = (0xD800, 0xDFFF)


def _blank(text: Any) -> Any:
    return func.nullif(text, literal(""))


# -- INITCAP --------------------------------------------------------------------------------

def _is_word_character(char: str) -> bool:
    """A letter (it has an upper and a lower case) or a digit 0-9: words are runs of them."""
    return char.lower() != char.upper() or "0" <= char <= "9"


def _initcap(text: str) -> str | None:
    out, previous = [], ""
    for char in text:
        out.append(char.lower() if previous and _is_word_character(previous) else char.upper())
        previous = char
    return "".join(out) or None


def _initcap_sql(c: SqlCall) -> Any:
    def render(char: Any, before: Any) -> Any:
        in_word = or_(func.lower(before) != func.upper(before),
                      code_point(before, c.dialect).between(48, 57))
        return case((truthy(in_word, c.never_null), func.lower(char)), else_=func.upper(char))

    return _blank(map_characters(c.args[0], render))


# -- REVERSE ASCII CHR ------------------------------------------------------------------------

def _reverse_sql(c: SqlCall) -> Any:
    if c.dialect == "postgresql":
        return _blank(func.reverse(c.args[0]))
    return _blank(map_characters(c.args[0], lambda char, before: char, prepend=True))


def _chr(code: Any) -> str:
    number = as_int(code)
    if not 1 <= number <= MAX_CODE_POINT or SURROGATES[0] <= number <= SURROGATES[1]:
        raise FormulaError(f"CHR: {number} is not a character code", kind="eval")
    return chr(number)


def _chr_sql(c: SqlCall) -> Any:
    number = integer(c.args[0], c.dialect)
    valid = and_(number.between(1, MAX_CODE_POINT), ~number.between(*SURROGATES))
    made = func.char(number) if c.dialect == "sqlite" else func.chr(number)
    return case((valid, made), else_=None)


# -- ISNUMBER -------------------------------------------------------------------------------

def _isnumber_sql(c: SqlCall) -> Any:
    return truthy(c.args[0].regexp_match(literal(NUMBER_TEXT, String())), c.never_null)


# -- CASESAFEID -------------------------------------------------------------------------------

CASESAFE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
SALESFORCE_ID = r"\A[A-Za-z0-9]{15}\Z"
_SALESFORCE_ID = re.compile(SALESFORCE_ID)


def _casesafeid(value: str) -> str:
    """A 15-character Salesforce id with its 3-character case-safe suffix (18 characters);
    anything else unchanged."""
    if not _SALESFORCE_ID.search(value):
        return value
    suffix = ""
    for chunk in range(3):
        part = value[chunk * 5:chunk * 5 + 5]
        bits = sum(1 << i for i, char in enumerate(part) if "A" <= char <= "Z")
        suffix += CASESAFE_ALPHABET[bits]
    return value + suffix


def _casesafeid_sql(c: SqlCall) -> Any:
    value = c.args[0]
    suffix: Any = literal("", String())
    for chunk in range(3):
        bits: Any = literal(0)
        for i in range(5):
            char = func.substr(value, chunk * 5 + i + 1, 1)
            bits = bits + case((code_point(char, c.dialect).between(65, 90), 1 << i), else_=0)
        suffix = suffix.concat(func.substr(literal(CASESAFE_ALPHABET), bits + 1, 1))
    valid = truthy(value.regexp_match(literal(SALESFORCE_ID, String())), c.never_null)
    return case((valid, value.concat(suffix)), else_=value)


text_in = fixed([TEXT], FType.TEXT)

register("INITCAP", 1, 1, text_in, blank_safe(_initcap), _initcap_sql,
         summary='INITCAP(text): each word capitalised, INITCAP("hello WORLD") = "Hello World"')
register("REVERSE", 1, 1, text_in, blank_safe(lambda v: v[::-1]), _reverse_sql,
         summary="REVERSE(text): the characters in reverse order")
register("ASCII", 1, 1, fixed([TEXT], FType.NUMBER), blank_safe(lambda v: as_decimal(ord(v[0]))),
         lambda c: code_point(c.args[0], c.dialect),
         summary="ASCII(text): the code point of the first character (Unicode)")
register("CHR", 1, 1, fixed([NUM], FType.TEXT), blank_safe(_chr), _chr_sql,
         summary="CHR(code): the character with this code point")
register("ISNUMBER", 1, 1, fixed([TEXT], FType.BOOLEAN),
         lambda v: v is not None and is_number_text(v), _isnumber_sql,
         summary='ISNUMBER(text): true when VALUE(text) reads a number, ISNUMBER("1,234.5")')
register("CASESAFEID", 1, 1, text_in, blank_safe(_casesafeid), _casesafeid_sql,
         summary="CASESAFEID(id): a 15-character Salesforce id as its 18-character form")
