"""One case of the formula table: a formula, its expected value on a harness record, and
whether SQL agrees with it, refuses it, or gives blank where Python reports an error.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

UTC = dt.UTC
ERR = "<eval error>"  # Python raises FormulaError(kind="eval"); SQL gives blank


@dataclass(frozen=True)
class Case:
    formula: str
    expected: Any
    record: str = "main"
    sql: bool = True  # False: compile_sql must refuse it (kind "sql")
    zero: bool = False  # treat_blanks_as: zero
    context: str = "field"

    @property
    def id(self) -> str:
        suffix = "" if self.record == "main" else f"@{self.record}"
        return f"{self.formula}{suffix}{' [zero]' if self.zero else ''}"


def d(y: int, m: int, day: int) -> dt.date:
    return dt.date(y, m, day)


def ts(y: int, m: int, day: int, h: int = 0, mi: int = 0, s: int = 0) -> dt.datetime:
    return dt.datetime(y, m, day, h, mi, s, tzinfo=UTC)


C = Case
