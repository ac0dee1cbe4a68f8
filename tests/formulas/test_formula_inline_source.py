"""The generated source's inline forms (python_inline.py) give what the closures give.

ROUND with literal digits, date parts, DATE, date differences, LEFT/UPPER/LOWER and whole
numbers kept as ints, on ordinary, blank, boundary and datetime values; and the result
check, now inside the generated function, still refuses what is too large or too long.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from formula_harness import DEALS, FIXED_NOW, checked

from metabiz.errors import FormulaError
from metabiz.formulas import EvalContext, compile_python
from metabiz.formulas.limits import MAX_TEXT, result_check
from metabiz.formulas.python import _limited, compile_closures

UTC = dt.UTC
RECORDS: list[dict[str, Any]] = [
    DEALS["main"], DEALS["blank"], DEALS["edge"],
    {**DEALS["main"], "close": dt.date(9999, 12, 31), "amount": Decimal("-0.005")},
    {**DEALS["main"], "close": dt.datetime(2024, 12, 31, 23, 30, tzinfo=UTC)},  # a datetime
    {**DEALS["main"], "close": dt.date(1, 1, 1), "amount": Decimal("1e25"), "name": "ß"},
]
FORMULAS = [
    "ROUND(amount, 2)", "ROUND(amount * 3, 0)", "ROUND(amount, -2)", "ROUND(amount, 2.7)",
    "ROUND(discount, 2)",
    "YEAR(close)", "MONTH(close)", "DAY(close)", "YEAR(start)", "MONTH(start) + 1",
    "YEAR(close) + 1", "YEAR(close) - 2000 + MONTH(close)", "MONTH(close) = 12",
    "MONTH(close) <> 12", "DAY(close) >= 31", "YEAR(close) < 2024", "MONTH(close) = 12.0",
    "MONTH(close) = 12.5", "YEAR(close) = amount",
    "DATE(YEAR(close) + 1, 1, 1)", "DATE(YEAR(close), MONTH(close) + 1, 1)",
    "IF(MONTH(close) = 12, DATE(YEAR(close) + 1, 1, 1), "
    "DATE(YEAR(close), MONTH(close) + 1, 1)) - close",
    "DATE(YEAR(close), 2, 30)", "DATE(2024, 2, 29)", "DATE(YEAR(close), qty, 1)",
    "close - DATE(2020, 1, 1)", "finish - start",
    "LEFT(name, 3)", "LEFT(name, 2.7)", "LEFT(note, 3)", "LEFT(title, 1)",
    "UPPER(LEFT(name, 3)) & \"-\" & region", "UPPER(note)", "LOWER(name)",
    "amount * 10000000000000000000000",
]


def _outcome(run: Any, record: dict[str, Any]) -> Any:
    try:
        return run(EvalContext(record=record, now=FIXED_NOW))
    except FormulaError as err:
        return ("error", err.kind, err.message)
    except (TypeError, AttributeError) as err:  # a datetime where a date field's date is
        return (type(err).__name__,)  # due: both back ends fail alike


@pytest.mark.parametrize("source", FORMULAS)
def test_inline_forms_agree_with_the_closures(source: str) -> None:
    formula = checked(source)
    # the closures as compile_python falls back to them: with the result check around
    fast = compile_python(formula)
    slow = _limited(compile_closures(formula), result_check(formula.type))
    assert hasattr(fast, "source"), "the generated source handles it"
    for record in RECORDS:
        assert _outcome(fast, record) == _outcome(slow, record), (source, record)


def test_whole_numbers_stay_ints_and_literal_digits_are_worked_out_once() -> None:
    dates = compile_python(checked(
        "IF(MONTH(close) = 12, DATE(YEAR(close) + 1, 1, 1), close)")).source
    assert ".month" in dates and "== 12" in dates  # no Decimal made for the test
    assert "date_of_ints(v" in dates and ", 1, 1)" in dates  # the year as it is, an int
    rounded = compile_python(checked("ROUND(amount, 2)")).source
    assert ".quantize(" in rounded


def test_values_beyond_the_limits_are_still_refused() -> None:
    huge = compile_python(checked("amount * 10000000000000000000000"))
    with pytest.raises(FormulaError, match="too large"):
        huge(EvalContext(record={**DEALS["main"], "amount": Decimal("1e25")}))
    upper = compile_python(checked("UPPER(name)"))
    with pytest.raises(FormulaError, match="longer than"):
        upper(EvalContext(record={**DEALS["main"], "name": "a" * (MAX_TEXT + 1)}))
    assert compile_python(checked("DATE(YEAR(close) + 1, 1, 1)"))(
        EvalContext(record=DEALS["main"])) == dt.date(2025, 1, 1)
    with pytest.raises(FormulaError, match="DATE: 10000-01-01 is not a valid date"):
        compile_python(checked("DATE(YEAR(close) + 1, 1, 1)"))(
            EvalContext(record={**DEALS["main"], "close": dt.date(9999, 12, 31)}))
