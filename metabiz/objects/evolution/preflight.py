"""Problems found before migrating: what a change breaks elsewhere, and the data it refuses.

Checks of the new metadata as a whole (other apps' references, list-view filters, notes on
renamed or removed names) and the checks of stored values against narrower options, with
the refusal text that lists the records which stop an apply.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, String, func, literal, or_, type_coerce
from sqlalchemy.types import TypeEngine

from metabiz.errors import FormulaError, MetadataError
from metabiz.formulas import FType
from metabiz.formulas import check as check_formula
from metabiz.objects.evolution.plan import short
from metabiz.objects.fields import field_type
from metabiz.objects.fields.number import PRECISION, Number
from metabiz.objects.schema import CompiledField, RuntimeSchema
from metabiz.platform.exact_numbers import plain
from metabiz.platform.extensions import Extensions
from metabiz.platform.metadata.loader import load_documents as load_app
from metabiz.platform.metadata.model import FieldDef, MetadataBundle
from metabiz.platform.metadata.store import split_apps

#: how many failing records a refusal lists before it only counts the rest
MAX_LISTED = 50
BLANK_HINT = "fix them, or apply with --convert-failures=blank"

# -- what would break elsewhere -----------------------------------------------------------

_UNKNOWN_FIELD = re.compile(r"unknown field '([^']+)' on (\w+)")
_UNKNOWN_OBJECT = re.compile(r"unknown object '([^']+)'")


@contextmanager
def explained(old: MetadataBundle, documents: Mapping[str, Any]) -> Iterator[None]:
    """Metadata problems, each told what this change does to the field it cannot find.

    A formula, roll-up, flow or role that uses a field this change renames, removes or
    converts is refused by the loader or the compiler; the note says why the field is gone.
    """
    try:
        yield
    except MetadataError as err:
        notes, conversions = _changed_names(old, documents)
        problems, unexplained = [], False
        for problem in err.problems:
            field_match = _UNKNOWN_FIELD.search(problem)
            object_match = _UNKNOWN_OBJECT.search(problem)
            note = (notes.get(f"{field_match.group(2)}.{field_match.group(1)}") if field_match
                    else notes.get(object_match.group(1)) if object_match else None)
            problems.append(f"{problem} ({note})" if note else problem)
            unexplained = unexplained or note is None
        if unexplained:  # a type error in a formula may come from a conversion
            problems.extend(f"note: this change converts {what}" for what in conversions)
        raise MetadataError(problems) from None


def _changed_names(old: MetadataBundle,
                   documents: Mapping[str, Any]) -> tuple[dict[str, str], list[str]]:
    """`object.field` or `object` → what this change does to it; and its type conversions."""
    new_objects: dict[str, Mapping[str, Any]] = {}
    for key, doc in documents.items():
        if key.partition("/")[2].startswith("objects/") and isinstance(doc, dict) \
                and isinstance(doc.get("api_name"), str):
            new_objects[doc["api_name"]] = doc
    renamed_objects = {doc.get("renamed_from"): name for name, doc in new_objects.items()
                       if isinstance(doc.get("renamed_from"), str)}
    notes: dict[str, str] = {}
    conversions: list[str] = []
    for obj in old.objects:
        name = renamed_objects.get(obj.api_name, obj.api_name)
        doc = new_objects.get(name)
        if doc is None:
            notes[obj.api_name] = f"this change removes the object {obj.api_name}"
            continue
        if name != obj.api_name:
            notes[obj.api_name] = f"this change renames the object {obj.api_name} to {name}"
        fields = {f.get("api_name"): f for f in doc.get("fields", []) if isinstance(f, dict)}
        renamed = {f.get("renamed_from"): n for n, f in fields.items() if f.get("renamed_from")}
        for fdef in obj.fields:
            key = f"{name}.{fdef.api_name}"
            if fdef.api_name in renamed:
                notes[key] = (f"this change renames {key} to {renamed[fdef.api_name]}: "
                              "rename it here too")
            elif fdef.api_name not in fields:
                notes[key] = f"this change removes {key}: remove this use too, or keep the field"
            elif fields[fdef.api_name].get("type", "text") != fdef.type:
                conversions.append(f"{key} from {fdef.type} to "
                                   f"{fields[fdef.api_name].get('type', 'text')}")
    return notes, conversions


def list_view_problems(schema: RuntimeSchema) -> list[str]:
    """List views' filters, which the runtime compiles only when a list is shown."""
    problems = []
    for obj in schema.objects.values():
        for index, view in enumerate(obj.odef.list_views):
            if not view.filter:
                continue
            try:
                check_formula(view.filter, schema.catalog, obj.name, context="filter",
                              expected=FType.BOOLEAN)
            except FormulaError as err:
                where = f"{err.line}:{err.column}: " if err.line is not None else ""
                problems.append(f"objects/{obj.name}.json: /list_views/{index}/filter: "
                                f"{where}{err.message}")
    return problems


def cross_app_problems(documents: Mapping[str, Any], bundle: MetadataBundle,
                       extensions: Extensions) -> set[str]:
    """References from one installed app into another's objects that do not resolve.

    Each app is loaded knowing only the other apps' object names; this pass gives it their
    definitions, so a flow or role of one app that uses a field another app drops is named.
    `extensions` are the process's (their document kinds are what the loader reads).
    """
    apps = split_apps(documents)
    if len(apps) < 2:
        return set()
    problems: set[str] = set()
    for name, docs in apps.items():
        own = {rel.split("/", 1)[1].removesuffix(".json") for rel in docs
               if rel.startswith("objects/")}
        try:
            load_app(docs, known_objects=[o for o in bundle.objects if o.api_name not in own],
                     kinds=extensions.document_kinds)
        except MetadataError as err:
            problems.update(f"{name}/{problem}" for problem in err.problems)
    return problems


# -- stored values the new metadata refuses -----------------------------------------------


@dataclass(frozen=True)
class Failure:
    """A record whose value cannot become what the new metadata asks for."""

    record_id: int
    value: str | None  # the old value as text
    reason: str

    def line(self) -> str:
        return f"id {self.record_id}: {short(self.value)} ({self.reason})"


@dataclass(frozen=True)
class Narrowing:
    """A same-type option change some stored values may violate (a SQL condition)."""

    key: str  # the JSON key that changed
    description: str  # "longer than 10 characters"
    violates: ColumnElement[bool]
    removed_values: tuple[str, ...] = ()  # multi-picklist values to take out when blanking


def narrowings(cf: CompiledField, before: FieldDef, column: ColumnElement[Any],
               old: MetadataBundle, new: MetadataBundle,
               dialect: str = "postgresql") -> list[Narrowing]:
    """The conditions stored values of `column` may now violate: a shorter max_length,
    fewer decimal places, a tighter minimum or maximum, picklist values taken away."""
    after = cf.fdef
    checks = []
    old_length = _length(field_type(before.type).column_type(before, old))
    new_length = _length(cf.ftype.column_type(after, new))
    if old_length and new_length and new_length < old_length:
        checks.append(Narrowing("max_length", f"values longer than {new_length} characters",
                                func.length(column) > new_length))
    if isinstance(cf.ftype, Number):
        old_scale, new_scale = cf.ftype.scale(before), cf.ftype.scale(after)
        # as stored before the change (SQLite: integers scaled by the old scale)
        stored = type_coerce(column, cf.ftype.column_type(before, old))
        if new_scale < old_scale:
            rounded = plain(column) % literal(10 ** (old_scale - new_scale)) != literal(0) \
                if dialect == "sqlite" else column != func.round(column, new_scale)
            checks.append(Narrowing("scale", f"values with more than {new_scale} decimal "
                                             "places", rounded))
        if new_scale > old_scale:
            digits = PRECISION - new_scale
            checks.append(Narrowing("scale", f"values of more than {digits} digits before "
                                             "the decimal point",
                                    or_(stored >= Decimal(10) ** digits,
                                        stored <= -Decimal(10) ** digits)))
        if after.min is not None and (before.min is None or after.min > before.min):
            checks.append(Narrowing("min", f"values less than the minimum {after.min:g}",
                                    stored < Decimal(str(after.min))))
        if after.max is not None and (before.max is None or after.max < before.max):
            checks.append(Narrowing("max", f"values greater than the maximum {after.max:g}",
                                    stored > Decimal(str(after.max))))
    removed = tuple(v for v in before.picklist_values() if v not in after.picklist_values())
    if removed and after.type == "picklist":
        checks.append(Narrowing("values", "values removed from the picklist",
                                column.in_(removed)))
    elif removed and after.type == "multi_picklist":
        framed = literal(";", String) + column + literal(";", String)
        checks.append(Narrowing(
            "values", "values removed from the picklist",
            or_(*(framed.contains(f";{v};", autoescape=True) for v in removed)), removed))
    return checks


def refusal(where: str, headline: str, lines: Sequence[str], hint: str = BLANK_HINT) -> str:
    """A refusal listing the first MAX_LISTED records, then how many more there are."""
    listed = "".join(f"\n    {line}" for line in lines[:MAX_LISTED])
    more = f"\n    … and {len(lines) - MAX_LISTED} more" if len(lines) > MAX_LISTED else ""
    return f"{where}: {headline} ({hint}):{listed}{more}"


def _length(column_type: TypeEngine[Any]) -> int | None:
    return getattr(column_type, "length", None) if isinstance(column_type, String) else None
