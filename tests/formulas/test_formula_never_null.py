"""Booleans known never to be blank are not wrapped in COALESCE again: deep NOT chains stay
within SQLite's parser, and a field compared with a literal stays a bare column condition
(one an index serves), on both databases."""

from __future__ import annotations

import pytest
from formula_harness import FIXED_NOW, Databases, checked, run_python, sql_resolver
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from metabiz.formulas import compile_sql
from metabiz.formulas.functions.sql_support import NeverNull, truthy

DIALECTS = {"sqlite": sqlite.dialect(), "postgresql": postgresql.dialect()}


def sql_of(source: str, dialect: str) -> str:
    built = compile_sql(checked(source), sql_resolver(), dialect, now=FIXED_NOW)
    return str(select(built).compile(dialect=DIALECTS[dialect])).lower()


@pytest.mark.parametrize("inner, nest", [
    ('stage = "prospecting"', lambda x: f"NOT({x})"),
    ("active", lambda x: f"!{x}"),
    ("!active", lambda x: f"NOT({x})"),
    ('REGEX(name, "A.*")', lambda x: f"NOT({x})"),
])
def test_thirty_nested_nots_run_on_both_databases(inner, nest, databases: Databases) -> None:
    source = inner
    for _ in range(30):
        source = nest(source)
    formula = checked(source)
    for record in ("main", "edge"):
        want = run_python(formula, record)
        for db in databases:  # SQLite included: its parser has room for about 30 levels
            assert db.evaluate(formula, record) is want, (db.dialect, record)
    for dialect in DIALECTS:  # as many COALESCEs as for one NOT: none added per level
        assert sql_of(source, dialect).count("coalesce") == \
            sql_of(nest(inner), dialect).count("coalesce"), dialect


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_field_equal_to_a_literal_stays_a_column_condition(dialect: str) -> None:
    for source in ('stage = "prospecting"', 'IF(stage = "prospecting", 1, 2) = 1',
                   'NOT(NOT(stage = "prospecting"))', 'stage = "prospecting" && active'):
        sql = sql_of(source, dialect)
        assert "deal.stage = " in sql and "deal.stage is not null" in sql, sql
        assert "coalesce(deal.stage" not in sql and "nullif(deal.stage" not in sql, sql


def test_what_is_known_never_null_is_known_by_identity_for_one_compilation() -> None:
    column = sql_resolver()(("active",))
    first, second = NeverNull(), NeverNull()
    held = truthy(column, first)
    assert truthy(held, first) is held  # not wrapped twice
    assert held in first and held not in second and column not in first
    assert truthy(held, second) is not held  # another compilation knows nothing of it
