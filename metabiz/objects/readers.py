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
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from typing import Any

from sqlalchemy import Select, bindparam, select

from metabiz.formulas import FType, Image, Link, to_json_value
from metabiz.objects.fields.base import FieldType
from metabiz.objects.fields.datetime import DateTime
from metabiz.objects.fields.formula import SCALED, Formula
from metabiz.objects.fields.number import Number
from metabiz.objects.schema import SYSTEM_COLUMN_NAMES, CompiledObject, RuntimeSchema
from metabiz.platform.access import Actor

#: the JSON keys every record starts with (records.SYSTEM_OUTPUT, which imports us)
SYSTEM_KEYS = ("id", "version", "owner", "created_at", "created_by", "updated_at",
               "updated_by", "approval_status")
Convert = Callable[[Any], Any]
#: fills in the formula fields of a record's values (records.compute, bound to its context)
Compute = Callable[[dict[str, Any]], dict[str, Any]]
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
        #: a row of `select(obj.table)` → the API's JSON record (not `rich`), given how to
        #: compute the formula fields (None when the object has none)
        self.read: Callable[[Any, Compute | None], dict[str, Any]] = \
            _compile(obj, self.decoding, self.output)
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


# -- the compiled reading -------------------------------------------------------------
#
# A number read through `Number.from_db` (or computed by a formula with a scale) is a
# Decimal quantized to its field's scale s; with fewer than 10^(15-s) units before the point
# it has at most 15 significant digits, which a float keeps exactly (DBL_DIG): its JSON is the
# float, as `to_json_value` decides after its round trip through repr.


def _number(value: Any, below: Decimal) -> Any:
    """`to_json_value` of a number quantized to its scale, `below` 10^(15-scale)."""
    if type(value) is Decimal and value.is_finite() and -below < value < below:
        whole = int(value)
        return whole if whole == value else float(value)
    return to_json_value(value)


def _day(value: Any) -> Any:
    return value.isoformat() if type(value) is dt.date else to_json_value(value)


def _stamp(value: Any) -> Any:
    """`to_json_value` of a datetime, made aware UTC by `_utc_stamp` or `from_db`."""
    if type(value) is dt.datetime and value.tzinfo is dt.UTC:
        return value.isoformat(timespec="seconds")[:-6] + "Z"  # "+00:00" off
    return to_json_value(value)


def _quantized(quantum: Decimal) -> Convert:
    """`Number.from_db`: the stored number at the field's scale (rounded half up)."""
    def from_db(value: Any) -> Any:
        if value is None:
            return None
        if type(value) is not Decimal:
            value = Decimal(str(value))
        return value.quantize(quantum, rounding=ROUND_HALF_UP)
    return from_db


def _number_scale(obj: CompiledObject, name: str) -> int | None:
    """The scale a field's values are quantized to when read (None: not known to be)."""
    cf = obj.fields.get(name)
    if cf is None:
        return None
    kind = type(cf.ftype)
    if isinstance(cf.ftype, Number) and kind.from_db is Number.from_db \
            and kind.normalise is Number.normalise and kind.to_json is FieldType.to_json:
        return cf.ftype.scale(cf.fdef)
    if kind is Formula and cf.fdef.return_type in SCALED:  # Formula.normalise quantizes
        return cf.fdef.scale if cf.fdef.scale is not None else SCALED[cf.fdef.return_type]
    return None


def _formula_reads(obj: CompiledObject) -> set[str]:
    """The record's own values its formulas read (`rec.get(path[0])`, lookups followed from
    there), and the id their warnings name."""
    reads = {"id"}
    for name in obj.formula_order:
        formula = obj.fields[name].formula
        assert formula is not None
        reads.update(path[0] for path in formula.checked.references)
    return reads


def _stamp_kind(obj: CompiledObject, key: str) -> bool:
    """Whether a column holds a UTC timestamp read as `_utc_stamp` or `DateTime.from_db` do."""
    cf = obj.fields.get(key)
    return key in ("created_at", "updated_at") if cf is None else \
        cf.formula is None and type(cf.ftype).from_db is DateTime.from_db


def _raw_stamp(value: Any, from_db: Convert) -> Any:
    """The JSON of a stored timestamp (naive UTC as the column gives it): `to_json_value`'s
    answer without making the aware datetime first."""
    if type(value) is dt.datetime and value.tzinfo is None:
        return value.isoformat()[:19] + "Z"  # four-digit years always; no microseconds
    return to_json_value(from_db(value))


def _compile(obj: CompiledObject, decoding: list[tuple[int, str, Convert | None]],
             output: list[tuple[str, Convert | None]]) -> Callable[..., dict[str, Any]]:
    """`read(row, compute)`: one function doing `decode`, `compute` and `to_json` for this
    reader, with the conversions of `decoding` and `output`; only what the formulas read is
    decoded for them, the JSON of a timestamp or a day is made from the column's value."""
    names: dict[str, Any] = {"to_json_value": to_json_value, "_number": _number,
                             "_day": _day, "_stamp": _stamp, "_raw_stamp": _raw_stamp}

    def constant(value: Any) -> str:
        key = f"k{len(names)}"
        names[key] = value
        return key

    lines = ["def read(row, compute):"]
    columns = {key: (index, convert) for index, key, convert in decoding}
    decoded: dict[str, str] = {}  # key → the local holding its Python value

    def python(key: str) -> str:
        """The local holding the decoded value of `key`, assigned on first use."""
        if key not in decoded:
            index, convert = columns[key]
            scale = _number_scale(obj, key)
            if scale is not None and convert is not None:
                convert = _quantized(Decimal(1).scaleb(-scale))
            if convert is None:  # the column's value as it is
                decoded[key] = f"row[{index}]"
            else:
                decoded[key] = f"v{len(decoded)}"
                lines.append(f"    {decoded[key]} = {constant(convert)}(row[{index}])")
        return decoded[key]

    def json_of(key: str, value: str, convert: Convert | None) -> str:
        if convert is None:
            return value
        if convert is not to_json_value:
            return f"{constant(convert)}({value})"
        cf = obj.fields.get(key)
        scale = _number_scale(obj, key)
        if scale is not None:
            return f"_number({value}, {constant(Decimal(10) ** (15 - scale))})"
        kind = None if cf is None else cf.ftype.python_type(cf.fdef)
        if key in ("created_at", "updated_at") or kind is FType.DATETIME:
            return f"_stamp({value})"  # both give to_json_value's answer for any value
        if kind is FType.DATE:
            return f"_day({value})"
        return f"to_json_value({value})"

    def stored_json(key: str, convert: Convert | None) -> str:
        index, from_db = columns[key]
        if convert is to_json_value and _stamp_kind(obj, key) and from_db is not None:
            return f"None if row[{index}] is None else _raw_stamp(row[{index}], " \
                   f"{constant(from_db)})"
        if convert is to_json_value and from_db is None and (
                obj.fields[key].ftype.python_type(obj.fields[key].fdef) is FType.DATE):
            return f"None if row[{index}] is None else _day(row[{index}])"
        value = python(key)
        expr = json_of(key, value, convert)
        # to_json_value (and what stands for it) gives None for None: no call for it
        return f"None if {value} is None else {expr}" if convert is to_json_value else expr

    formulas = obj.formula_order
    later: list[str] = []
    entries = []
    for key, convert in output:
        if key in columns:
            entries.append(f"{key!r}: {stored_json(key, convert)}")
        elif key in formulas:
            entries.append(f"{key!r}: None")
            later.append(f"        out[{key!r}] = {json_of(key, f'values.get({key!r})', convert)}")
        else:  # neither stored nor computed: as `to_json` gives it, from no value
            entries.append(f"{key!r}: {json_of(key, 'None', convert)}")
    if formulas:
        reads = [key for key in columns if key in _formula_reads(obj)]
        given = ", ".join(f"{key!r}: {python(key)}" for key in reads)
    lines.append("    out = {" + ", ".join(entries) + "}")
    if formulas:
        lines.append("    if compute is not None:")
        lines.append(f"        values = compute({{{given}}})")
        lines.extend(later)
    lines.append("    return out")
    source = "\n".join(lines) + "\n"
    exec(compile(source, f"<reader {obj.name}>", "exec"), names)  # noqa: S102
    function: Callable[..., dict[str, Any]] = names["read"]
    function.source = source  # type: ignore[attr-defined]  # for debugging and tests
    return function
