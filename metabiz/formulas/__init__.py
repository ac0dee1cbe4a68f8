"""The formula language: parse → check (typed AST) → Python closures or SQL expressions.

Imports nothing of metabiz but `metabiz.errors`; usable and tested without a database.
"""

from metabiz.formulas.checker import CheckedFormula, check
from metabiz.formulas.ftypes import Catalog, DictCatalog, FieldSpec, FType
from metabiz.formulas.functions import FUNCTIONS, Function
from metabiz.formulas.graph import DependencyGraph
from metabiz.formulas.parser import parse
from metabiz.formulas.python import EvalContext, compile_python
from metabiz.formulas.sql import compile_sql
from metabiz.formulas.values import from_json_value, to_json_value

__all__ = [
    "FUNCTIONS", "Catalog", "CheckedFormula", "DependencyGraph", "DictCatalog", "EvalContext",
    "FType", "FieldSpec", "Function", "check", "compile_python", "compile_sql",
    "from_json_value", "parse", "to_json_value",
]
