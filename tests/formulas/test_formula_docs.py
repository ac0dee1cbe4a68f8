"""docs/formulas.md stays true: every worked example gives the documented result, every
function is documented, and the "in SQL" column matches what compile_sql accepts.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from formula_harness import CN, FIXED_NOW

from metabiz.errors import FormulaError
from metabiz.formulas import (
    FUNCTIONS,
    DictCatalog,
    EvalContext,
    FieldSpec,
    FType,
    Image,
    Link,
    Location,
    check,
    compile_python,
)
from metabiz.formulas.values import format_datetime, format_number, format_time

DOC = Path(__file__).resolve().parents[2] / "docs" / "formulas.md"
CATALOG = DictCatalog({
    "opportunity": {
        "stage": FieldSpec("stage", FType.PICKLIST),
        "tags": FieldSpec("tags", FType.MULTI_PICKLIST),
        "amount": FieldSpec("amount", FType.NUMBER), "name": FieldSpec("name", FType.TEXT),
        "start": FieldSpec("start", FType.DATE), "end": FieldSpec("end", FType.DATE)},
    "product": {
        "id": FieldSpec("id", FType.NUMBER), "code": FieldSpec("code", FType.TEXT),
        "price": FieldSpec("price", FType.NUMBER)},
}, calendars={"cn": CN})  # the calendar the reference declares
ROW = re.compile(r"^\| *(`[^|]*`)? *\| *`(?P<example>.+?)` *\| *(?P<result>[^|]*?) *\|"
                 r" *(?P<blank>[^|]*?) *\| *(?P<sql>[^|]*?) *\|$")


def _rows() -> list[tuple[str, str, str, str]]:
    rows = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line.replace("\\|", "¦"))
        if match:
            rows.append((line.split("|")[1].strip().strip("`"), match["example"],
                         match["result"], match["sql"]))
    return rows


ROWS = _rows()
EXAMPLES = [(example, result.strip("`")) for _, example, result, _ in ROWS
            if result.startswith("`")]


def render(value: Any) -> str:
    """A value written the way the reference writes results."""
    if value is None:
        return "blank"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, Decimal):
        return format_number(value)
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dt.datetime):
        return format_datetime(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return format_time(value)
    if isinstance(value, Link | Image):
        return value.__html__()
    if isinstance(value, Location):
        return str(value)
    return repr(value)


def test_the_reference_has_the_function_tables() -> None:
    assert len(ROWS) > 60
    assert len(EXAMPLES) > 55


@pytest.mark.parametrize(("example", "result"), EXAMPLES, ids=[e for e, _ in EXAMPLES])
def test_worked_examples_give_the_documented_result(example: str, result: str) -> None:
    formula = check(example, CATALOG, "opportunity")  # code spans show the formula's text
    value = compile_python(formula)(EvalContext(record={}, now=FIXED_NOW))
    assert render(value) == result


def test_every_function_is_documented_once_with_its_sql_support() -> None:
    documented: dict[str, str] = {}
    for signature, _example, _result, sql in ROWS:
        if signature:
            name = signature.split("(")[0]
            assert name not in documented, name
            documented[name] = sql
    assert sorted(documented) == sorted(FUNCTIONS)
    for name, sql in documented.items():
        fn = FUNCTIONS[name]
        if sql == "yes":
            assert fn.sql is not None and not fn.needs_prior and fn.sql_accepts is None, name
        elif sql == "no":
            assert fn.sql is None or fn.needs_prior, name
        else:  # "datetime only" / "date only": SQL for some argument types
            assert fn.sql_accepts is not None
            kind = FType.DATETIME if sql.startswith("datetime") else FType.DATE
            assert fn.runs_in_sql([kind]) and not fn.runs_in_sql([FType.TEXT]), name


@pytest.mark.parametrize("mistake", [
    "amont + 1", "account.nme", "name.first", 'amount + "x"', "name & amount", "IF(1, 2, 3)",
    'IF(TRUE, 1, "a")', "IF(TRUE, 1)", "FOO(1)", "1 +", '"abc', "1 /* note",
    'NETWORKDAYS(start, end, "us")', 'TEXT(amount, "abc")',
    'VLOOKUP(product.prise, product.code, "P-1")', "GEOLOCATION(1, 2) = GEOLOCATION(1, 2)",
])
def test_documented_error_messages(mistake: str) -> None:
    text = DOC.read_text(encoding="utf-8")
    line = next(row for row in text.splitlines() if row.startswith(f"| `{mistake}` |"))
    documented = line.split("|")[2].strip().strip("`")
    catalog = DictCatalog({
        "opportunity": {"amount": FieldSpec("amount", FType.NUMBER),
                        "name": FieldSpec("name", FType.TEXT),
                        "start": FieldSpec("start", FType.DATE),
                        "end": FieldSpec("end", FType.DATE),
                        "account": FieldSpec("account", FType.NUMBER, target="account")},
        "account": {"name": FieldSpec("name", FType.TEXT)},
        "product": {"id": FieldSpec("id", FType.NUMBER), "code": FieldSpec("code", FType.TEXT)},
    })
    with pytest.raises(FormulaError) as caught:
        check(mistake, catalog, "opportunity")
    assert caught.value.message == documented


def test_the_caret_example() -> None:
    text = DOC.read_text(encoding="utf-8")
    with pytest.raises(FormulaError) as caught:
        check("amount + * 2", CATALOG, "opportunity")
    assert caught.value.render() in text
