"""The formula language: parse → check (typed AST) → Python closures or SQL expressions.

Imports nothing of metabiz but `metabiz.errors`; usable and tested without a database.
"""

from metabiz.formulas.calendars import Calendar
from metabiz.formulas.checker import CheckedFormula, check
from metabiz.formulas.ftypes import CalendarCatalog, Catalog, DictCatalog, FieldSpec, FType
from metabiz.formulas.functions import FUNCTIONS, Function
from metabiz.formulas.graph import DependencyGraph
from metabiz.formulas.links import Image, Link
from metabiz.formulas.parser import parse
from metabiz.formulas.python import EvalContext, compile_python
from metabiz.formulas.sql import SQLITE_HEADROOM, SQLITE_LIST_HEADROOM, compile_sql
from metabiz.formulas.values import (
    ExactNumber,
    Location,
    exact_float,
    from_json_value,
    to_json_value,
)

__all__ = [
    "FUNCTIONS", "SQLITE_HEADROOM", "SQLITE_LIST_HEADROOM", "Calendar", "CalendarCatalog", "Catalog", "CheckedFormula", "DependencyGraph",
    "DictCatalog", "EvalContext", "ExactNumber", "FType", "FieldSpec", "Function", "Image",
    "Link", "Location", "check", "compile_python", "compile_sql", "exact_float",
    "from_json_value", "parse",
    "to_json_value",
]
