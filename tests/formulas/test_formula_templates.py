"""The bundled templates' formulas that the corrected ADDMONTHS touches keep their meaning:
a contract's default end date is the day before the same date a year on.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from metabiz.formulas import DictCatalog, EvalContext, check, compile_python

TEMPLATES = Path(__file__).resolve().parents[2] / "metabiz" / "templates_bundled"
CONTRACTS = [("crm", "contract"), ("service", "service_contract")]


def _end_date_default(template: str, object_name: str) -> str:
    doc = json.loads((TEMPLATES / template / "objects" / f"{object_name}.json").read_text())
    return next(f["default"] for f in doc["fields"] if f["api_name"] == "end_date")


@pytest.mark.parametrize(("template", "object_name"), CONTRACTS)
@pytest.mark.parametrize(("start", "end"), [
    ((2024, 1, 15), (2025, 1, 14)), ((2024, 1, 31), (2025, 1, 30)),
    ((2023, 2, 28), (2024, 2, 27)), ((2024, 2, 29), (2025, 2, 28)),
    ((2024, 3, 1), (2025, 2, 28)), ((2024, 4, 30), (2025, 4, 29)),
    ((2024, 12, 31), (2025, 12, 30)),
])
def test_a_contract_runs_twelve_months_to_the_day_before(template: str, object_name: str,
                                                        start: tuple[int, int, int],
                                                        end: tuple[int, int, int]) -> None:
    formula = check(_end_date_default(template, object_name), DictCatalog({}), object_name,
                    context="default")
    now = dt.datetime(*start, 9, 0, tzinfo=dt.UTC)
    assert compile_python(formula)(EvalContext(record={}, now=now)) == dt.date(*end)
