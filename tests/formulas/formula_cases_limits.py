"""Cases for the limits (formulas/limits.py): texts beyond 131,072 characters, numbers from
10^26 on, whole-number arguments far beyond any text or date, and RE2's REGEX.

Python reports an evaluation error (ERR) where SQL gives blank; where both can compute the
value they agree (RIGHT(name, 10^20) is the whole name in PostgreSQL too, not "integer out
of range").
"""

from __future__ import annotations

from decimal import Decimal

from formula_case import ERR, C, Case

A30 = "a" * 30

LIMIT_CASES: list[Case] = [
    # -- text: built up to the limit, never past it -------------------------------------------
    C('LEN(LPAD("a", 131072, "xy"))', 131072), C('LEN(RPAD(name, 131072))', 131072),
    C('LPAD(name, 131073)', ERR), C('RPAD(name, 100000000, "-")', ERR),
    C('LPAD("a", 1000000000000)', ERR),
    C('SUBSTITUTE(LPAD("a", 100000, "a"), "a", "bb")', ERR),
    C('LEN(SUBSTITUTE(LPAD("a", 65536, "a"), "a", "bb"))', 131072),
    C('SUBSTITUTE(name, "", LPAD("x", 100000))', "Acme Deal"),
    C('LEN(CONCATENATE(LPAD("a", 65536), LPAD("b", 65536)))', 131072),
    C('LEN(LPAD("a", 131071) & "b")', 131072),
    # (joining past the limit is an error in Python; in SQL only the statement timeout
    # bounds it: test_formula_python)
    # -- numbers below 10^26 -------------------------------------------------------------------
    C("POWER(10, 25) > 0", True), C("POWER(10, 26)", ERR), C("10 ^ 1000000", ERR),
    C("POWER(0.5, -100)", ERR), C("POWER(amount, 1000)", ERR), C("-(10 ^ 30)", ERR),
    C('VALUE("1e999999")', ERR, sql=False), C('VALUE("-1e26")', ERR, sql=False),
    C('VALUE("99999999999999999999999999")', Decimal("99999999999999999999999999"),
      sql=False),
    C('ISNUMBER("1e999999")', True),
    # -- whole-number arguments far beyond a text or a date ------------------------------------
    C("RIGHT(name, 10 ^ 20)", "Acme Deal"), C("LEFT(name, 10 ^ 20)", "Acme Deal"),
    C("MID(name, 10 ^ 20, 10 ^ 20)", None), C("MID(name, 1, 10 ^ 20)", "Acme Deal"),
    C("FIND(\"D\", name, 10 ^ 20)", 0), C("ADDMONTHS(close, 10 ^ 8)", ERR),
    C("ADDMONTHS(start, -(10 ^ 8))", ERR), C("EOMONTH(close, 10 ^ 20)", ERR),
    C("close + 10 ^ 20", ERR), C("DATE(10 ^ 20, 1, 1)", ERR), C("CHR(10 ^ 20)", ERR),
    C("WORKDAY(close, 10 ^ 20)", ERR),
    # -- REGEX runs on RE2: linear in the text, the same answers ----------------------------
    C(f'REGEX("{A30}", "(a+)+b")', False), C(f'REGEX("{A30}b", "(a+)+b")', True),
    C('REGEX(LPAD("b", 100000, "a"), "(a|aa)*b")', True),
    C('REGEX(name, "Ac(me|ne) D.*")', True),
]
