"""The Python back end beyond the shared table: prior values, errors, clocks, JSON values.

And the dependency graph of formula fields (order, cycles, what to recompute).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from formula_harness import DEALS, FIXED_NOW, Databases, checked, run_python

from metabiz.errors import FormulaError
from metabiz.formulas import (
    FUNCTIONS,
    DependencyGraph,
    EvalContext,
    FType,
    Image,
    Link,
    Location,
    compile_python,
    compile_sql,
    from_json_value,
    to_json_value,
)


def evaluate(source: str, record: dict[str, Any], *, context: str = "field",
             prior: dict[str, Any] | None = None, is_new: bool | None = None,
             now: dt.datetime | None = FIXED_NOW) -> Any:
    formula = checked(source, context=context)
    return compile_python(formula)(EvalContext(record=record, prior=prior, now=now,
                                               is_new=is_new))


# -- prior values ----------------------------------------------------------------------------

def test_ischanged_priorvalue_and_isnew_compare_with_the_record_before_the_save() -> None:
    before = {**DEALS["main"], "amount": Decimal("1000"), "note": ""}
    after = DEALS["main"]
    assert evaluate("ISCHANGED(amount)", after, context="validation", prior=before) is True
    assert evaluate("ISCHANGED(name)", after, context="validation", prior=before) is False
    # "" before and blank after is no change: empty text is blank
    assert evaluate("ISCHANGED(note)", after, context="validation", prior=before) is False
    assert evaluate("PRIORVALUE(amount)", after, context="validation",
                    prior=before) == Decimal("1000")
    assert evaluate("amount - PRIORVALUE(amount)", after, context="condition",
                    prior=before) == Decimal("250.50")
    assert evaluate("ISNEW()", after, context="validation", prior=before) is False
    assert evaluate("ISNEW()", after, context="validation") is True
    assert evaluate("ISNEW()", after, context="validation", prior=before, is_new=True) is True
    assert evaluate("ISCHANGED(amount)", after, context="validation") is False
    assert evaluate("PRIORVALUE(amount)", after, context="validation") is None


# -- evaluation errors -----------------------------------------------------------------------

@pytest.mark.parametrize(("source", "message"), [
    ("amount / 0", "division by zero"),
    ("MOD(amount, 0)", "MOD: division by zero"),
    ('VALUE("abc")', "VALUE: 'abc' is not a number"),
    ("DATE(2020, 2, 30)", "DATE: 2020-02-30 is not a valid date"),
    ('DATEVALUE("29/02/2020")', "DATEVALUE: '29/02/2020' is not a date and time"),
    ("SQRT(-4)", "SQRT: -4 is negative"),
    ("LN(0)", "LN: 0 is not a positive number"),
    ("EXP(100000)", "EXP: the result is too large"),
    ("0 ^ -1", "division by zero"),
    ("ROUND(10 ^ 20 * 10 ^ 20, 2)", "cannot compute the formula"),
    ("10 ^ 40", "POWER: the number is too large (formulas work with numbers below 10^26)"),
    ('LPAD("a", 131072) & "b"', "&: the text would be longer than 131,072 characters"),
    ('LPAD("a", 131072) + name', "+: the text would be longer than 131,072 characters"),
    ('CONCATENATE(LPAD("a", 65536), LPAD("b", 65537))', "CONCATENATE: the text would be"),
    ('LPAD("a", 100000000, "b")', "LPAD: the text would be longer than 131,072 characters"),
    ('VALUE("1e999999")', "VALUE: the number is too large"),
    ("amount * 10 ^ 20 * 10 ^ 20", "the result is too large (formulas work with numbers"),
    ("ADDMONTHS(close, 120000)", "ADDMONTHS: the date is out of range"),
    ("EOMONTH(close, -30000)", "EOMONTH: the date is out of range"),
    ("CHR(0)", "CHR: 0 is not a character code"),
    ('TIMEVALUE("7pm")', "TIMEVALUE: '7pm' is not a time of day (use 17:30:45)"),
    ("GEOLOCATION(91, 0)", "GEOLOCATION: latitude 91 is not between -90 and 90"),
    ("FROMUNIXTIME(1000000000000)", "FROMUNIXTIME: 1000000000000 is out of range"),
    ('DATEDIF(TODAY(), close, "D")', "DATEDIF: the start date is after the end date"),
    ('VALUE("NaN")', "VALUE: 'NaN' is not a number"),
    ("WORKDAY(close, 5000000)", "WORKDAY: the date is out of range"),
    ("close + 10000000", "cannot compute the formula"),
])
def test_evaluation_errors_are_formula_errors_not_crashes(source: str, message: str) -> None:
    with pytest.raises(FormulaError) as caught:
        run_python(checked(source))
    assert caught.value.kind == "eval"
    assert caught.value.message.startswith(message)
    assert caught.value.line is None


def test_division_by_zero_gives_blank_in_sql(databases: Databases) -> None:
    """The documented difference: a filter cannot stop on one bad row."""
    for db in databases:
        assert db.evaluate(checked("amount / 0")) is None
        assert db.evaluate(checked("ISBLANK(amount / 0)")) is True


# -- clock and inputs ------------------------------------------------------------------------

def test_now_and_today_are_utc_and_default_to_the_wall_clock() -> None:
    shanghai = dt.timezone(dt.timedelta(hours=8))
    late = dt.datetime(2024, 3, 16, 2, 0, tzinfo=shanghai)  # still the 15th in UTC
    assert evaluate("TODAY()", {}, now=late) == dt.date(2024, 3, 15)
    assert evaluate("HOUR(NOW())", {}, now=late) == 18
    before = dt.datetime.now(dt.UTC)
    value = evaluate("NOW()", {}, now=None)
    assert before <= value <= dt.datetime.now(dt.UTC)


def test_record_values_are_normalised_on_read() -> None:
    record = {"amount": 12.5, "qty": 2, "name": "", "tags": ["a", "b"],
              "start": dt.datetime(2020, 1, 1, 12, 0)}  # naive is UTC
    assert evaluate("amount * qty", record) == Decimal("25.0")
    assert evaluate("ISBLANK(name)", record) is True
    assert evaluate('INCLUDES(tags, "b")', record) is True
    assert evaluate("TEXT(start)", record) == "2020-01-01 12:00:00Z"
    assert evaluate("account.name", record) is None  # no resolver: blank


def test_blanks_as_zero_applies_to_number_fields_only() -> None:
    formula = checked("discount * 2 + 1", blanks_as_zero=True)
    assert compile_python(formula)(EvalContext(record={})) == 1
    text = checked('BLANKVALUE(note, "-")', blanks_as_zero=True)
    assert compile_python(text)(EvalContext(record={})) == "-"


# -- JSON values -----------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "json"), [
    (Decimal("3"), 3), (Decimal("2.50"), 2.5), (None, None), ("x", "x"), (True, True),
    (dt.date(2020, 2, 29), "2020-02-29"),
    (dt.datetime(2020, 2, 29, 17, 5, tzinfo=dt.UTC), "2020-02-29T17:05:00Z"),
    (("a", "b"), ["a", "b"]), (dt.time(17, 30, 45), "17:30:45"),
    (dt.time(17, 30, 45, 125000), "17:30:45.125"),
    (Location(Decimal("31.2304"), Decimal("121.4737")),
     {"latitude": 31.2304, "longitude": 121.4737}),
    (Link("https://x.cn/a?b=1", "A & B"), "https://x.cn/a?b=1"),
    (Image("/static/logo.png", "logo"), "/static/logo.png"),
])
def test_to_json_value(value: Any, json: Any) -> None:
    assert to_json_value(value) == json


@pytest.mark.parametrize(("raw", "ftype", "value"), [
    (3, FType.NUMBER, Decimal(3)), ("2.5", FType.NUMBER, Decimal("2.5")),
    (0.1, FType.NUMBER, Decimal("0.1")), (True, FType.BOOLEAN, True),
    ("2020-02-29", FType.DATE, dt.date(2020, 2, 29)),
    ("2020-02-29T17:05:00Z", FType.DATETIME, dt.datetime(2020, 2, 29, 17, 5, tzinfo=dt.UTC)),
    ("2020-02-29 19:05:00+02:00", FType.DATETIME,
     dt.datetime(2020, 2, 29, 17, 5, tzinfo=dt.UTC)),
    (["a", "b"], FType.MULTI_PICKLIST, ("a", "b")), ("a;b", FType.MULTI_PICKLIST, ("a", "b")),
    ("中文", FType.TEXT, "中文"), (None, FType.NUMBER, None),
    ("17:30:45.125", FType.TIME, dt.time(17, 30, 45, 125000)),
    ({"latitude": 31.2304, "longitude": 121.4737}, FType.LOCATION,
     Location(Decimal("31.2304"), Decimal("121.4737"))),
    ("https://x.cn", FType.LINK, Link("https://x.cn", "https://x.cn")),
    ("/a.png", FType.IMAGE, Image("/a.png", "")),
])
def test_from_json_value(raw: Any, ftype: FType, value: Any) -> None:
    assert from_json_value(raw, ftype) == value


@pytest.mark.parametrize(("raw", "ftype"), [
    (True, FType.NUMBER), ("abc", FType.NUMBER), (1, FType.BOOLEAN), ("2020-02-30", FType.DATE),
    ("yesterday", FType.DATETIME), (3, FType.TEXT), (3, FType.MULTI_PICKLIST),
    ("25:00", FType.TIME), ({"latitude": 1}, FType.LOCATION), ("javascript:x", FType.LINK),
    (3, FType.IMAGE),
])
def test_from_json_value_refuses_wrong_values(raw: Any, ftype: FType) -> None:
    with pytest.raises(ValueError):
        from_json_value(raw, ftype)


# -- the registry ----------------------------------------------------------------------------

CONTRACT_FUNCTIONS = """IF CASE AND OR NOT ISBLANK BLANKVALUE NULLVALUE ISPICKVAL INCLUDES
ISNEW ISCHANGED PRIORVALUE ABS CEILING FLOOR ROUND TRUNC MOD MAX MIN SQRT EXP LN LOG
POWER SUM AVERAGE LEN LEFT RIGHT MID UPPER LOWER TRIM SUBSTITUTE CONTAINS BEGINS FIND
TEXT VALUE LPAD RPAD CONCATENATE REGEX TODAY NOW DATE DATEVALUE DATETIMEVALUE YEAR MONTH
DAY WEEKDAY ADDMONTHS HOUR MINUTE
ISNUMBER ISNULL INITCAP REVERSE ASCII CHR MCEILING MFLOOR ISOWEEK ISOYEAR DAYOFYEAR SECOND
MILLISECOND UNIXTIMESTAMP FROMUNIXTIME FORMATDURATION TIMEVALUE TIMENOW GEOLOCATION DISTANCE
HYPERLINK IMAGE CASESAFEID URLENCODE HTMLENCODE VLOOKUP IFS NETWORKDAYS WORKDAY EOMONTH
DATEDIF ADDWORKHOURS""".split()


def test_every_contract_function_is_registered_with_a_summary() -> None:
    assert sorted(CONTRACT_FUNCTIONS) == sorted(FUNCTIONS)
    assert all(FUNCTIONS[name].summary.startswith(name) for name in FUNCTIONS)


def test_only_text_parsing_and_prior_values_stay_out_of_sql() -> None:
    python_only = sorted(name for name, fn in FUNCTIONS.items() if fn.sql is None)
    assert python_only == ["ISCHANGED", "ISNEW", "PRIORVALUE", "VALUE"]


def test_compile_sql_refuses_other_databases() -> None:
    with pytest.raises(FormulaError) as caught:
        compile_sql(checked("1"), lambda path: None, "mysql")  # type: ignore[arg-type,return-value]
    assert caught.value.kind == "sql"


# -- dependency graph ------------------------------------------------------------------------

def test_order_puts_every_formula_after_what_it_reads() -> None:
    graph = DependencyGraph()
    graph.add("deal.total", ["deal.amount", "deal.tax"])
    graph.add("deal.tax", ["deal.amount", "deal.rate"])
    graph.add("deal.label", ["deal.total"])
    order = graph.order()
    for before, after in [("deal.tax", "deal.total"), ("deal.total", "deal.label"),
                          ("deal.amount", "deal.tax"), ("deal.rate", "deal.tax")]:
        assert order.index(before) < order.index(after)
    assert graph.order() == order  # deterministic


def test_cycles_are_named_in_order() -> None:
    graph = DependencyGraph()
    graph.add("a", ["b"])
    graph.add("b", ["a"])
    with pytest.raises(FormulaError) as caught:
        graph.order()
    assert caught.value.message == "formula cycle: a → b → a"
    assert caught.value.kind == "cycle"


def test_longer_and_self_cycles() -> None:
    graph = DependencyGraph()
    graph.add("deal.x", ["deal.y"])
    graph.add("deal.y", ["deal.z"])
    graph.add("deal.z", ["deal.x", "deal.amount"])
    with pytest.raises(FormulaError, match="formula cycle: deal.x → deal.y → deal.z → deal.x"):
        graph.order()
    selfish = DependencyGraph()
    selfish.add("a", ["a"])
    with pytest.raises(FormulaError, match="formula cycle: a → a"):
        selfish.order()


def test_dependents_of_follows_formulas_through_formulas() -> None:
    graph = DependencyGraph()
    graph.add("deal.tax", ["deal.amount"])
    graph.add("deal.total", ["deal.amount", "deal.tax"])
    graph.add("deal.label", ["deal.total", "deal.name"])
    graph.add("account.sum", ["deal.total"])
    assert graph.dependents_of("deal.amount") == {"deal.tax", "deal.total", "deal.label",
                                                  "account.sum"}
    assert graph.dependents_of("deal.name") == {"deal.label"}
    assert graph.dependents_of("deal.label") == set()
    graph.add("deal.tax", ["deal.rate"])  # add() accumulates
    assert "deal.tax" in graph.dependents_of("deal.rate")


# -- generated source and the closure fallback -----------------------------------------------

def test_closures_and_generated_source_agree_on_every_case() -> None:
    from formula_cases import CASES, ERR
    from formula_harness import RECORD_NAMES, python_resolver, vlookup

    from metabiz.formulas.python import compile_closures

    compared = 0
    for case in CASES:
        formula = checked(case.formula, context=case.context, blanks_as_zero=case.zero)
        fast, slow = compile_python(formula), compile_closures(formula)
        for record in RECORD_NAMES:
            values = DEALS[record]
            outcomes = []
            for run in (fast, slow):
                ctx = EvalContext(record=values, resolve=python_resolver(values), now=FIXED_NOW,
                                  vlookup=vlookup)
                try:
                    outcomes.append(run(ctx))
                except FormulaError as err:
                    outcomes.append((ERR, err.message))
            assert outcomes[0] == outcomes[1], (case.formula, record)
            compared += 1
    assert compared == 3 * len(CASES)


def test_formulas_too_wide_for_generated_source_fall_back_to_closures() -> None:
    wide = "AND(" + ", ".join(["amount > 1"] * 120) + ")"
    run = compile_python(checked(wide))
    assert not hasattr(run, "source")
    assert run(EvalContext(record=DEALS["main"])) is True
    assert run(EvalContext(record=DEALS["edge"])) is False
    assert hasattr(compile_python(checked("amount > 1")), "source")


def test_generated_source_never_contains_the_formulas_text() -> None:
    sneaky = '"\\"); import os; (\\"" & name & \'\\n\' & "__import__"'
    run = compile_python(checked(sneaky))
    assert "import" not in run.source and "__" not in run.source  # type: ignore[attr-defined]
    assert run(EvalContext(record={"name": "x"})) == '"); import os; ("x\n__import__'


# -- VLOOKUP's record access -------------------------------------------------------------------

def test_vlookup_needs_record_access_from_the_context() -> None:
    formula = checked('VLOOKUP(account.revenue, account.name, "acct2")')
    with pytest.raises(FormulaError) as caught:
        compile_python(formula)(EvalContext(record=DEALS["main"]))
    assert caught.value.kind == "eval"
    assert caught.value.message == ("VLOOKUP cannot read account records here: no record "
                                    "access was given to the formula")
    asked: list[tuple[str, str, str, Any]] = []

    def vlookup(object_name: str, field_name: str, key_field: str, key: Any) -> Any:
        asked.append((object_name, field_name, key_field, key))
        return "12.50"  # raw values are normalised like a field's

    run = compile_python(formula)
    assert run(EvalContext(record={}, vlookup=vlookup)) == Decimal("12.50")
    assert asked == [("account", "revenue", "name", "acct2")]
    blank_key = compile_python(checked("VLOOKUP(account.revenue, account.name, note)"))
    assert blank_key(EvalContext(record={}, vlookup=vlookup)) is None
    assert len(asked) == 1  # a blank key reads nothing


def test_vlookup_in_sql_needs_the_other_objects_tables() -> None:
    formula = checked('VLOOKUP(account.revenue, account.name, "acct2") > 1')
    with pytest.raises(FormulaError) as caught:
        compile_sql(formula, lambda path: None, "sqlite")  # type: ignore[arg-type,return-value]
    assert caught.value.kind == "sql"
    assert caught.value.message == ("VLOOKUP cannot run in the database, so it cannot be used "
                                    "in a filter or sort")


def test_time_arithmetic_wraps_around_midnight_both_ways() -> None:
    assert evaluate("remind + 86400000", {"remind": dt.time(9, 0)}) == dt.time(9, 0)
    assert evaluate("remind - 1", {"remind": dt.time(0, 0)}) == dt.time(23, 59, 59, 999000)
    assert evaluate("remind - TIMEVALUE(NOW())", {"remind": dt.time(9, 0)}) == -5400000
    assert evaluate("HOUR(remind)", {"remind": "17:45:00"}) == 17  # read as a time
