"""The function library: importing the families registers every function in FUNCTIONS.

One registered entry per function (registry.py); grouped by family: logic, math, text
(characters, text_format, web), dates (times, workdays, workhours), geo and lookups.
"""

from metabiz.formulas.functions import (  # noqa: F401  (registers)
    characters,
    dates,
    geo,
    logic,
    lookups,
    math,
    text,
    times,
    web,
    workdays,
    workhours,
)
from metabiz.formulas.functions.registry import FUNCTIONS, Function

__all__ = ["FUNCTIONS", "Function"]
