"""Formula value types and the catalog of fields a formula may reference.

The checker asks a `Catalog` about fields; the runtime supplies one built from metadata,
tests and the CLI use `DictCatalog`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


class FType(enum.Enum):
    NUMBER = "number"
    TEXT = "text"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    PICKLIST = "picklist"
    MULTI_PICKLIST = "multi_picklist"
    NULL = "null"  # the type of the literal NULL: compatible with anything

    @property
    def label(self) -> str:
        """How messages name the type."""
        return {"null": "blank", "multi_picklist": "multi-picklist"}.get(self.value, self.value)


@dataclass(frozen=True)
class FieldSpec:
    """What the checker needs to know about one field."""

    name: str
    type: FType
    target: str | None = None  # object a dotted reference traverses into (lookups)
    picklist_values: tuple[str, ...] = ()


class Catalog(Protocol):
    def field(self, object_name: str, field_name: str) -> FieldSpec | None: ...


class DictCatalog:
    """A catalog over `{object: {field: FieldSpec}}` (tests, CLI)."""

    def __init__(self, mapping: Mapping[str, Mapping[str, FieldSpec]]) -> None:
        self._mapping = {o: dict(f) for o, f in mapping.items()}

    def field(self, object_name: str, field_name: str) -> FieldSpec | None:
        return self._mapping.get(object_name, {}).get(field_name)


TEXTLIKE = frozenset({FType.TEXT, FType.PICKLIST})


def accepts(allowed: frozenset[FType], found: FType) -> bool:
    """Whether an argument of type `found` may stand where one of `allowed` is expected."""
    if found is FType.NULL or found in allowed:
        return True
    return found is FType.PICKLIST and FType.TEXT in allowed


def unify(a: FType, b: FType) -> FType | None:
    """The common type of two branches (IF, CASE, BLANKVALUE), or None if they clash."""
    if a is FType.NULL:
        return b
    if b is FType.NULL or a is b:
        return a
    if a in TEXTLIKE and b in TEXTLIKE:
        return FType.TEXT
    return None
