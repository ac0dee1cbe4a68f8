"""The function library: importing the families registers every function in FUNCTIONS.

One registered entry per function (registry.py); grouped by family in logic, math,
text and dates.
"""

from metabiz.formulas.functions import dates, logic, math, text  # noqa: F401  (registers)
from metabiz.formulas.functions.registry import FUNCTIONS, Function

__all__ = ["FUNCTIONS", "Function"]
