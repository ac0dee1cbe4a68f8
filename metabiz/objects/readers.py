"""Compiled record readers: a stored row to the API's JSON record, planned once per metadata
version, object and set of roles instead of once per row.

The general path (`CompiledObject.decode`, `records.serialise`) asks each field's type and
the actor's field rules for every value; a reader settles those questions when it is
built and keeps only the conversions that do something. It gives the same answers
(tests/objects/test_record_readers.py compares both on every field type and role). Readers
live in the `RuntimeSchema` of their metadata version, so a metadata change (fields, field
security) makes new ones, and a user whose roles changed gets the reader of their roles.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from sqlalchemy import Select, bindparam, select

from metabiz.formulas import Image, Link, to_json_value
from metabiz.objects.fields.base import FieldType
from metabiz.objects.schema import SYSTEM_COLUMN_NAMES, CompiledObject, RuntimeSchema
from metabiz.platform.access import Actor

#: the JSON keys every record starts with (records.SYSTEM_OUTPUT, which imports us)
SYSTEM_KEYS = ("id", "version", "owner", "created_at", "created_by", "updated_at",
               "updated_by", "approval_status")
Convert = Callable[[Any], Any]
_COMPILED = "readers"


def _utc_stamp(value: Any) -> Any:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


class RecordReader:
    """How rows of one object become Python values and JSON for actors with given roles."""

    def __init__(self, schema: RuntimeSchema, obj: CompiledObject, actor: Actor) -> None:
        self.obj = obj
        columns = {column.name: index for index, column in enumerate(obj.table.columns)}
        #: (position in a `select(obj.table)` row, key, conversion or None)
        self.decoding: list[tuple[int, str, Convert | None]] = [
            (columns[name], name, _utc_stamp if name in ("created_at", "updated_at") else None)
            for name in SYSTEM_COLUMN_NAMES if name in columns]
        for cf in obj.stored_fields():
            if cf.name in columns:
                own = type(cf.ftype).from_db is not FieldType.from_db
                self.decoding.append((columns[cf.name], cf.name,
                                      partial(cf.ftype.from_db, cf.fdef) if own else None))
        # a column read as it is stored holds text, a whole number or a flag: JSON already
        plain = {key for _, key, convert in self.decoding
                 if convert is None and _python_type(obj.table.c[key]) in (str, int, bool)}
        hidden = schema.access.hidden_fields(actor, obj.name, obj.fields)
        #: (JSON key, conversion of its Python value or None: it is JSON as it is)
        self.output: list[tuple[str, Convert | None]] = [
            (key, None if key in plain else to_json_value) for key in SYSTEM_KEYS]
        if obj.odef.pools:
            self.output.append(("pool", None))
        for name, cf in obj.fields.items():
            if name in hidden:
                continue
            if type(cf.ftype).to_json is not FieldType.to_json:
                self.output.append((name, partial(cf.ftype.to_json, cf.fdef)))
            else:
                self.output.append((name, None if name in plain else to_json_value))
        #: the record by id, for actors who may read every record (bound: `record_id`)
        self.by_id: Select[Any] = select(obj.table).where(
            obj.table.c.id == bindparam("record_id"))

    def decode(self, row: Any) -> dict[str, Any]:
        """A row of `select(obj.table)` as Python values, as `CompiledObject.decode` gives."""
        values: dict[str, Any] = {}
        for index, key, convert in self.decoding:
            value = row[index]
            values[key] = value if convert is None else convert(value)
        return values

    def to_json(self, values: Mapping[str, Any], *, rich: bool = False) -> dict[str, Any]:
        """The JSON record, as `records.serialise` gives (hidden fields left out)."""
        get = values.get
        if not rich:
            return {key: get(key) if convert is None else convert(get(key))
                    for key, convert in self.output}
        out: dict[str, Any] = {}
        for key, convert in self.output:
            value = get(key)
            out[key] = value if convert is None or isinstance(value, Link | Image) \
                else convert(value)
        return out


def _python_type(column: Any) -> type | None:
    try:
        return column.type.python_type  # type: ignore[no-any-return]
    except NotImplementedError:
        return None


def reader(schema: RuntimeSchema, obj: CompiledObject, actor: Actor) -> RecordReader:
    """The reader of `obj` for the actor's roles, made once per metadata version."""
    readers: dict[Any, RecordReader] = schema.compiled.setdefault(_COMPILED, {})
    key = (obj.name, actor.roles, actor.is_system)
    found = readers.get(key)
    if found is None:
        found = readers[key] = RecordReader(schema, obj, actor)
    return found
