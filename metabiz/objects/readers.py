"""Compiled record readers: a stored row to the API's JSON record (or to the values a page
shows), planned once per metadata version, object and set of roles instead of once per row.

The general path (`CompiledObject.decode`, `records.serialise`) asks each field's type and
the actor's field rules for every value; a reader settles those questions when it is
built and keeps only the conversions that do something. It gives the same answers
(tests/objects/test_record_readers.py compares both on every field type and role). Readers
live in the `RuntimeSchema` of their metadata version, so a metadata change (fields, field
security) makes new ones, and a user whose roles changed gets the reader of their roles.
A page's reader (`RecordReader.shown`) reads only the columns it shows and hands numbers,
days and timestamps over as Python values (tests/objects/test_page_rows.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
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
#: how many key sets (a page's columns) a reader keeps compiled
SHOWN_FUNCTIONS = 64


@dataclass(frozen=True)
class Wanted:
    """The keys a page shows (the id always comes along), each as the API's rich JSON value
    (a formula's link or image kept as itself) or, for the keys in `native`, as the Python
    value `native_kind` names, so the page need not parse the JSON again."""

    keys: tuple[str, ...]
    native: frozenset[str] = frozenset()


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
        self._shown: dict[Wanted, Callable[[Any, Compute | None], dict[str, Any]]] = {}

    def shown(self, wanted: Wanted) -> Callable[[Any, Compute | None], dict[str, Any]]:
        """`shown(row, compute)`: the `wanted` values of a row of the table's columns
        `shown.columns` names, given how to compute the formula fields (`shown.computes`:
        whether it calls it)."""
        found = self._shown.get(wanted)
        if found is None:
            if len(self._shown) >= SHOWN_FUNCTIONS:
                self._shown.clear()
            found = self._shown[wanted] = _compile_shown(self.obj, self.decoding,
                                                         self.output, wanted)
        return found

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


class _Source:
    """The Python source of one reading function: the row's values decoded once each, the
    constants it calls bound by name."""

    def __init__(self, obj: CompiledObject,
                 decoding: list[tuple[int, str, Convert | None]]) -> None:
        self.obj = obj
        self.names: dict[str, Any] = {
            "to_json_value": to_json_value, "_number": _number, "_day": _day,
            "_stamp": _stamp, "_raw_stamp": _raw_stamp, "Decimal": Decimal,
            "date": dt.date, "datetime": dt.datetime, "_rich": (Link, Image)}
        self.lines = ["def read(row, compute):"]
        self.columns = {key: (index, convert) for index, key, convert in decoding}
        self.decoded: dict[str, str] = {}  # key → the local holding its Python value

    def constant(self, value: Any) -> str:
        key = f"k{len(self.names)}"
        self.names[key] = value
        return key

    def python(self, key: str) -> str:
        """The local holding the decoded value of `key`, assigned on first use."""
        if key not in self.decoded:
            index, convert = self.columns[key]
            scale = _number_scale(self.obj, key)
            if scale is not None and convert is not None:
                convert = _quantized(Decimal(1).scaleb(-scale))
            if convert is None:  # the column's value as it is
                self.decoded[key] = f"row[{index}]"
            else:
                self.decoded[key] = f"v{len(self.decoded)}"
                self.lines.append(f"    {self.decoded[key]} = "
                                  f"{self.constant(convert)}(row[{index}])")
        return self.decoded[key]

    def json_of(self, key: str, value: str, convert: Convert | None) -> str:
        if convert is None:
            return value
        if convert is not to_json_value:
            return f"{self.constant(convert)}({value})"
        cf = self.obj.fields.get(key)
        scale = _number_scale(self.obj, key)
        if scale is not None:
            return f"_number({value}, {self.constant(Decimal(10) ** (15 - scale))})"
        kind = None if cf is None else cf.ftype.python_type(cf.fdef)
        if key in ("created_at", "updated_at") or kind is FType.DATETIME:
            return f"_stamp({value})"  # both give to_json_value's answer for any value
        if kind is FType.DATE:
            return f"_day({value})"
        return f"to_json_value({value})"

    def stored_json(self, key: str, convert: Convert | None) -> str:
        index, from_db = self.columns[key]
        if convert is to_json_value and _stamp_kind(self.obj, key) and from_db is not None:
            return f"None if row[{index}] is None else _raw_stamp(row[{index}], " \
                   f"{self.constant(from_db)})"
        cf = self.obj.fields.get(key)
        if convert is to_json_value and from_db is None and cf is not None and (
                cf.ftype.python_type(cf.fdef) is FType.DATE):
            return f"None if row[{index}] is None else _day(row[{index}])"
        value = self.python(key)
        expr = self.json_of(key, value, convert)
        # to_json_value (and what stands for it) gives None for None: no call for it
        return f"None if {value} is None else {expr}" if convert is to_json_value else expr

    def finish(self, entries: list[str], later: list[str],
               label: str) -> Callable[..., dict[str, Any]]:
        """The function ending with `out = {entries}`, then `later`'s assignments from the
        formulas' values, computed only when `later` reads some (and `compute` is given)."""
        given = self.formulas_given() if later else ""  # may decode columns: lines first
        self.lines.append("    out = {" + ", ".join(entries) + "}")
        if later:
            self.lines.append("    if compute is not None:")
            self.lines.append(f"        values = compute({{{given}}})")
            self.lines.extend(later)
        self.lines.append("    return out")
        return self.function(label)

    def function(self, label: str) -> Callable[..., dict[str, Any]]:
        source = "\n".join(self.lines) + "\n"
        exec(compile(source, f"<{label} {self.obj.name}>", "exec"), self.names)  # noqa: S102
        function: Callable[..., dict[str, Any]] = self.names["read"]
        function.source = source  # type: ignore[attr-defined]  # for debugging and tests
        return function

    def formulas_given(self) -> str:
        """The record's values its formulas read, as a dict display (decoded for them)."""
        reads = [key for key in self.columns if key in _formula_reads(self.obj)]
        return ", ".join(f"{key!r}: {self.python(key)}" for key in reads)


def _compile(obj: CompiledObject, decoding: list[tuple[int, str, Convert | None]],
             output: list[tuple[str, Convert | None]]) -> Callable[..., dict[str, Any]]:
    """`read(row, compute)`: one function doing `decode`, `compute` and `to_json` for this
    reader, with the conversions of `decoding` and `output`; only what the formulas read is
    decoded for them, the JSON of a timestamp or a day is made from the column's value."""
    src = _Source(obj, decoding)
    formulas = obj.formula_order
    later: list[str] = []
    entries = []
    for key, convert in output:
        if key in src.columns:
            entries.append(f"{key!r}: {src.stored_json(key, convert)}")
        elif key in formulas:
            entries.append(f"{key!r}: None")
            later.append(f"        out[{key!r}] = "
                         f"{src.json_of(key, f'values.get({key!r})', convert)}")
        else:  # neither stored nor computed: as `to_json` gives it, from no value
            entries.append(f"{key!r}: {src.json_of(key, 'None', convert)}")
    return src.finish(entries, later, "reader")


# -- values for pages -------------------------------------------------------------------


def native_kind(obj: CompiledObject, key: str) -> tuple[str, int | None] | None:
    """What a reader can hand a page instead of a key's JSON value: `("number", scale)` a
    Decimal quantized to `scale`, `("day", None)` a date, `("stamp", None)` a datetime
    (aware UTC when stored); None when only the JSON value is offered."""
    if key in ("created_at", "updated_at"):
        return ("stamp", None)
    cf = obj.fields.get(key)
    if cf is None:
        return None
    scale = _number_scale(obj, key)
    if scale is not None:
        return ("number", scale)
    kind = cf.ftype.python_type(cf.fdef)
    if cf.formula is not None or type(cf.ftype).from_db is FieldType.from_db:
        if kind is FType.DATE:
            return ("day", None)
        if kind is FType.DATETIME and cf.formula is not None:
            return ("stamp", None)
    if _stamp_kind(obj, key):
        return ("stamp", None)
    return None


#: the Python type a native value has (anything else is given as its JSON value)
_NATIVE_TYPES = {"number": "Decimal", "day": "date", "stamp": "datetime"}


def _compile_shown(obj: CompiledObject, decoding: list[tuple[int, str, Convert | None]],
                   output: list[tuple[str, Convert | None]],
                   wanted: Wanted) -> Callable[..., dict[str, Any]]:
    """`shown(row, compute)` for `wanted`, reading a row of the columns it names
    (`shown.columns`: the wanted ones and what the wanted formulas read, in the table's
    order): stored natives straight from the column (as the reader decodes them), the other
    values as `to_json(..., rich=True)` gives them; formulas computed only when one is
    wanted."""
    keys = {"id", *wanted.keys}
    formulas = obj.formula_order
    shown_keys = [key for key, _ in output if key in keys]
    used = set(shown_keys)
    if any(key in formulas for key in shown_keys):
        used |= _formula_reads(obj)
    # the statement reads only these columns (a row of it has them in this order)
    narrowed = [(index, key, convert) for index, key, convert in decoding if key in used]
    src = _Source(obj, [(position, key, convert)
                        for position, (_, key, convert) in enumerate(narrowed)])
    natives = {key: native_kind(obj, key) for key in wanted.native}
    later: list[str] = []
    entries = []
    for key, convert in output:
        if key not in keys:
            continue
        native = natives.get(key)
        if key in src.columns:
            if native is None:
                entries.append(f"{key!r}: {src.stored_json(key, convert)}")
            elif native[0] == "day" and src.columns[key][1] is None:
                entries.append(f"{key!r}: row[{src.columns[key][0]}]")
            else:  # a number quantized to its scale, a stamp made aware UTC
                entries.append(f"{key!r}: {src.python(key)}")
        elif key in formulas:
            entries.append(f"{key!r}: None")
            later.append(f"        v = values.get({key!r})")
            json = src.json_of(key, "v", convert)
            if native is not None:
                later.append(f"        out[{key!r}] = v if type(v) is "
                             f"{_NATIVE_TYPES[native[0]]} else {json}")
            else:  # rich: a link or an image stays itself (the page shows its label)
                later.append(f"        out[{key!r}] = v if isinstance(v, _rich) else {json}")
        else:  # neither stored nor computed: as `to_json` gives it, from no value
            entries.append(f"{key!r}: {src.json_of(key, 'None', convert)}")
    function = src.finish(entries, later, "shown")
    function.computes = bool(later)  # type: ignore[attr-defined]
    function.columns = tuple(key for _, key, _ in narrowed)  # type: ignore[attr-defined]
    return function
