"""The field-type protocol and its registry: one class per type, one file per class.

A type knows its column, its marshmallow field, its formula type, its form widget,
how values cross the database and JSON boundaries, and which types it converts to.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import marshmallow
from marshmallow import fields as ma
from sqlalchemy.types import TypeEngine

from metabiz.formulas import FieldSpec, FType, to_json_value
from metabiz.platform.metadata.model import FieldDef, MetadataBundle

_REGISTRY: dict[str, FieldType] = {}

#: `FieldType.quick_load`'s answer when the value needs the full marshmallow field
NOT_PLAIN = object()


def register(cls: type[FieldType]) -> type[FieldType]:
    """Class decorator: make a field type available under its `name`."""
    _REGISTRY[cls.name] = cls()
    return cls


def field_type(name: str) -> FieldType:
    return _REGISTRY[name]


def all_field_types() -> dict[str, FieldType]:
    return dict(_REGISTRY)


class FieldType:
    """Behaviour shared by all types; subclasses override what differs."""

    name: ClassVar[str]
    formula_type: ClassVar[FType] = FType.TEXT
    widget: ClassVar[str] = "text"
    #: stored in its own column (formula fields are computed on read)
    stored: ClassVar[bool] = True
    #: users may set it (auto numbers, formulas and roll-ups are computed)
    writable: ClassVar[bool] = True
    #: searched by the list view's `q`
    searchable: ClassVar[bool] = False
    #: types whose values this type's values convert to (schema evolution)
    converts_to: ClassVar[frozenset[str]] = frozenset()

    # -- storage --------------------------------------------------------------
    def column_type(self, f: FieldDef, bundle: MetadataBundle) -> TypeEngine[Any]:
        raise NotImplementedError

    def to_db(self, f: FieldDef, value: Any) -> Any:
        return value

    def from_db(self, f: FieldDef, value: Any) -> Any:
        return value

    # -- input ----------------------------------------------------------------
    def marshmallow_field(self, f: FieldDef) -> ma.Field:
        return ma.String(allow_none=True)

    def normalise(self, f: FieldDef, value: Any) -> Any:
        """Canonical Python value after loading (empty text is blank)."""
        return value

    def quick_load(self, f: FieldDef, value: Any) -> Any:
        """The loaded value when `value` is plainly well-formed, else NOT_PLAIN.

        Bulk writes take this shortcut; anything unusual (and every error, so that the
        messages stay marshmallow's) goes through `marshmallow_field`.
        """
        return NOT_PLAIN

    # -- output ---------------------------------------------------------------
    def to_json(self, f: FieldDef, value: Any) -> Any:
        return json_value(value)

    def spec(self, f: FieldDef, bundle: MetadataBundle) -> FieldSpec:
        return FieldSpec(name=f.api_name, type=self.formula_type)

    def python_type(self, f: FieldDef) -> FType:
        """The formula type of the field's value (formula fields: their return type)."""
        return self.formula_type

    def openapi(self, f: FieldDef) -> dict[str, Any]:
        return {"type": "string"}

    # -- schema evolution (docs/schema-changes.md) ------------------------------
    def as_text(self, f: FieldDef, value: Any) -> str | None:
        """A stored value (as `from_db` gives it) written as text, exactly."""
        return None if value is None else str(value)

    def from_text(self, f: FieldDef, text: str) -> Any:
        """Text read as a (normalised) value of this field; ValueError says why it is not one."""
        return load_value(self, f, text)

    def convert(self, f: FieldDef, source: FieldType, old: FieldDef, value: Any) -> Any:
        """A value of the `old` field (of type `source`) as a normalised value of `f`, or
        ValueError saying why it cannot be one.

        Through text by default, which is what most pairs of the conversion matrix mean;
        a type overrides it where text would say something else (datetime → date).
        """
        text = source.as_text(old, value)
        return None if text is None else self.from_text(f, text)


def load_value(ftype: FieldType, f: FieldDef, raw: Any) -> Any:
    """`raw` through the type's input field and normalisation (ValueError if refused)."""
    try:
        loaded = ftype.marshmallow_field(f).deserialize(raw)
    except marshmallow.ValidationError as err:
        messages = err.messages if isinstance(err.messages, list) else [str(err.messages)]
        raise ValueError(" ".join(str(m) for m in messages)) from None
    return ftype.normalise(f, loaded)


def json_value(value: Any) -> Any:
    """A Python value as JSON: exact decimals as numbers, UTC timestamps with a Z.

    The same conversion as formula results, so a field and a formula agree in the API.
    """
    return to_json_value(value)


def blank_text(value: Any) -> Any:
    """Empty or whitespace-only text is blank, as in the formula language."""
    if isinstance(value, str) and not value.strip():
        return None
    return value


Validator = Callable[[Any], Any]
