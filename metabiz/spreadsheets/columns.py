"""Which field each column of a sheet fills, and its cells read as a person types them.

Headers match a field's api_name or its English or Chinese label (ignoring case and spaces);
values go through the field type's own text reading (thousands separators, `2026/11/23`,
是/否, picklist labels); lookups and users are resolved batch by batch in `references`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from metabiz.objects.schema import CompiledObject
from metabiz.platform.access import AccessPolicy, Actor
from metabiz.spreadsheets.sheets import SheetRejected, column_letter, unguarded

#: columns naming system values: `id` (the key of an update) and `owner` are read, the
#: others (written by metabiz) are left out, so an exported file imports as it is
SYSTEM_COLUMNS = {"id": ("ID", "编号"), "owner": ("Owner", "所有人"),
                  "created_at": ("Created at", "创建时间"), "created_by": ("Created by", "创建人"),
                  "updated_at": ("Updated at", "更新时间"), "updated_by": ("Updated by", "更新人"),
                  "version": ("Version", "版本"), "approval_status": ("Approval status", "审批状态")}
READ_SYSTEM = ("id", "owner")
#: field types whose value names another record or a user (resolved per batch)
REFERENCE_TYPES = ("lookup", "master_detail", "user")
TEXT_TYPES = ("text", "long_text", "email", "phone", "url")
#: field types an export writes as download links: an import leaves their column out
FILE_TYPES = ("file", "image")
#: the column an error report adds (report.py); importing the fixed report leaves it out
REPORT_COLUMN = {"en": "Import errors", "zh": "导入错误"}


@dataclass(frozen=True)
class Column:
    """One column of the sheet: the field it fills (None: not imported, `note` says why)."""

    index: int
    header: str
    field: str | None
    note: str | None = None

    @property
    def name(self) -> str:
        """How messages name the column: its header, else its letter."""
        return self.header or column_letter(self.index)


def _folded(text: str) -> str:
    return " ".join(text.split()).casefold()


def field_names(obj: CompiledObject) -> dict[str, str]:
    """Every name a header may use → the field (or system column) it means."""
    names: dict[str, str] = {}
    for key, labels in SYSTEM_COLUMNS.items():
        for text in (key, *labels):
            names.setdefault(_folded(text), key)
    for cf in obj.fields.values():
        names[_folded(cf.name)] = cf.name
    for cf in obj.fields.values():
        for _, label in cf.fdef.label.texts:
            names.setdefault(_folded(label), cf.name)
    return names


def match_columns(obj: CompiledObject, header: Sequence[str], actor: Actor,
                  access: AccessPolicy,
                  mapping: Mapping[int, str | None] | None = None) -> list[Column]:
    """The columns of `header`, each matched to a field (or chosen in `mapping`: column index →
    field name, None to leave it out). SheetRejected lists every header problem at once:
    a column matching nothing, two columns for one field, a column without a name."""
    names = field_names(obj)
    problems: list[str] = []
    columns: list[Column] = []
    seen: dict[str, Column] = {}
    for index, text in enumerate(header):
        label = text.strip()
        where = f"row 1, column {label or column_letter(index)}"
        if mapping is not None and index in mapping:
            target = mapping[index]
            if target is not None and target not in obj.fields and target not in READ_SYSTEM:
                problems.append(f"{where}: {obj.name} has no field {target!r}")
                continue
        elif _folded(label) in {_folded(t) for t in REPORT_COLUMN.values()}:
            columns.append(Column(index, label, None, "the error report's own column"))
            continue
        elif not label:
            problems.append(f"row 1, column {column_letter(index)}: the column has no name "
                            "(name it after a field, or delete the column)")
            continue
        else:
            target = names.get(_folded(label))
            if target is None:
                problems.append(f"{where}: {label!r} matches no field of {obj.name}")
                continue
        if target is None:
            columns.append(Column(index, label, None, "left out"))
            continue
        if target in seen:
            problems.append(f"{where}: {label!r} is a second column for {target} "
                            f"(column {seen[target].name} is the first)")
            continue
        column = Column(index, label, target, _refusal(obj, target, actor, access))
        if column.note is not None:
            column = Column(index, label, None, column.note)
        else:
            seen[target] = column
        columns.append(column)
    if problems:
        raise SheetRejected(problems)
    return columns


def _refusal(obj: CompiledObject, name: str, actor: Actor, access: AccessPolicy) -> str | None:
    """Why a column matching `name` is not imported (None: it is)."""
    if name in SYSTEM_COLUMNS:
        return None if name in READ_SYSTEM else "set by metabiz"
    cf = obj.fields[name]
    if not cf.ftype.writable:
        return "computed by metabiz"
    if cf.fdef.type in FILE_TYPES:
        return "files and images are attached on the record page"
    rule = access.field_rule(actor, obj.name, name)
    if rule is not None:
        return f"{rule.replace('_', '-')} for your role"
    return None


# -- values ---------------------------------------------------------------------------------

#: how many distinct texts of one column a reader remembers
_MEMO = 20_000

#: text → the value the record service takes (ValueError says why it cannot be one)
Reader = Callable[[str], Any]


def reader_for(obj: CompiledObject, name: str) -> Reader | None:
    """How a column's text becomes input for the record service; None for references (lookups,
    users, the owner), which are resolved per batch."""
    if name in READ_SYSTEM:
        return _record_id if name == "id" else None
    cf = obj.fields[name]
    kind = cf.fdef.type
    if kind in REFERENCE_TYPES:
        return None
    if kind in TEXT_TYPES:
        return unguarded
    ftype, fdef = cf.ftype, cf.fdef
    # a column repeats its values (stages, dates, amounts): each text is read once
    seen: dict[str, Any] = {}

    def read(text: str) -> Any:
        found = seen.get(text, seen)  # `seen` itself: not read yet
        if found is not seen:
            if isinstance(found, ValueError):
                raise found
            return list(found) if type(found) is list else found
        try:
            value = _as_input(ftype.from_text(fdef, unguarded(text)))
        except ValueError as err:
            value = err
        if len(seen) < _MEMO:
            seen[text] = value
        if isinstance(value, ValueError):
            raise value
        return value

    return read


def _record_id(text: str) -> int:
    cleaned = text.strip().lstrip("#")
    if not cleaned.isdigit():
        raise ValueError(f"{text!r} is not a record id")
    return int(cleaned)


def _as_input(value: Any) -> Any:
    """A normalised field value as the input the record service reads (a Decimal stays one:
    the service takes exact decimals as they are, without a round trip through text)."""
    if value is None or isinstance(value, bool | int | str | Decimal):
        return value
    if isinstance(value, tuple | list):
        return list(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return format(value, "f")
