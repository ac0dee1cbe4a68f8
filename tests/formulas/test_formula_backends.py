"""The case table through both back ends: Python, and SQL on SQLite and PostgreSQL agree.

Every case is checked against its expected value; then every case is run on every record
and the SQL results compared with Python's (one SELECT per record and database).
"""

from __future__ import annotations

from typing import Any

import pytest
from formula_cases import CASES, ERR, Case
from formula_harness import (
    RECORD_NAMES,
    Databases,
    checked,
    expected_value,
    normalise,
    run_python,
    same,
)

from metabiz.errors import FormulaError
from metabiz.formulas import CheckedFormula


def _check(case: Case) -> CheckedFormula:
    return checked(case.formula, context=case.context, blanks_as_zero=case.zero)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case: Case, databases: Databases) -> None:
    formula = _check(case)
    if case.expected == ERR:
        with pytest.raises(FormulaError) as err:
            run_python(formula, case.record)
        assert err.value.kind == "eval"
        assert err.value.line is None
        want: Any = None  # the documented difference: SQL gives blank
    else:
        want = expected_value(case.expected, formula.type)
        got = normalise(run_python(formula, case.record), formula.type)
        assert same(got, want), f"python gave {got!r}, expected {want!r}"
    for db in databases:
        if not case.sql:
            with pytest.raises(FormulaError) as refused:
                db.compile(formula)
            assert refused.value.kind == "sql", db.dialect
            assert "cannot run in the database" in refused.value.message
            continue
        got = db.evaluate(formula, case.record)
        assert same(got, want), f"{db.dialect} gave {got!r}, expected {want!r}"


def test_sql_capable_matches_the_sql_column() -> None:
    """`CheckedFormula.sql_capable` is what callers consult before filtering in SQL."""
    wrong = [c.formula for c in CASES if _check(c).sql_capable is not c.sql]
    assert wrong == []


def test_every_case_agrees_on_every_record(databases: Databases) -> None:
    """Each case on every record (not only the one its expectation is for)."""
    formulas = [_check(case) for case in CASES if case.sql]
    wanted: dict[str, list[Any]] = {}
    for record in RECORD_NAMES:
        wanted[record] = []
        for formula in formulas:
            try:
                wanted[record].append(normalise(run_python(formula, record), formula.type))
            except FormulaError as err:
                assert err.kind == "eval"
                wanted[record].append(ERR)  # SQL gives blank there; covered by test_case
    assert len(formulas) > 400
    for db in databases:
        raw = db.evaluate_many_records(formulas)
        mismatches = []
        for record in RECORD_NAMES:
            for formula, want, value in zip(formulas, wanted[record], raw[record], strict=True):
                if want == ERR:
                    continue
                got = value if isinstance(value, Exception) else normalise(
                    value, formula.type, db.dialect)
                if not same(got, want):
                    mismatches.append(f"{formula.source} on {record}: python {want!r}, "
                                      f"{db.dialect} {got!r}")
        assert mismatches == []


def test_postgresql_runs_the_cases_too(databases: Databases) -> None:
    """Makes a run without PostgreSQL visible as a skip (CI fails instead: see harness)."""
    if "postgresql" not in databases.items:
        pytest.skip("PostgreSQL not available (METABIZ_TEST_POSTGRES_URL unset)")
    assert sorted(databases.items) == ["postgresql", "sqlite"]
