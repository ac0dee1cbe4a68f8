"""The field-type registry: every module in this package registers one type.

A new field type is one new file here; it is discovered at import time.
"""

from __future__ import annotations

import importlib
import pkgutil

from metabiz.objects.fields.base import FieldType, all_field_types, field_type, json_value

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "base":
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["FieldType", "all_field_types", "field_type", "json_value"]
