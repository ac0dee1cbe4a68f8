"""The problems of the later stages, found in the same run as the loader's: when some
documents have problems, the rest is still compiled (formulas), checked by the registered
checks (flows) and the data files are checked, so that `metabiz apply` reports every
problem of every document at once.

What a reported problem points at (a field, a validation rule, a whole object) is left out
of the partial schema, and so is whatever then refers to something missing; problems that
only echo one already reported are dropped.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Engine

from metabiz.errors import MetadataError
from metabiz.objects import demo_data
from metabiz.objects.context import Context
from metabiz.objects.schema import RuntimeSchema
from metabiz.platform.access import SYSTEM
from metabiz.platform.extensions import Extensions
from metabiz.platform.metadata.model import MetadataBundle, ObjectDef

_SPOT = re.compile(r"^(.*?\.json): (/\S*)")
_OBJECT_SPOT = re.compile(r"(?:^|/)objects/([a-z][a-z0-9_]*)\.json: (/\S*)")
_UNKNOWN_FIELD = re.compile(r"unknown field '([^']+)'(?: on (\w+))?")
_UNKNOWN_OBJECT = re.compile(r"unknown object '([^']+)'")
#: a broken formula hides the next one behind it at most this many times
ROUNDS = 3


class _Pruned:
    """The objects that can be compiled, and what was left out of them."""

    def __init__(self, objects: Iterable[ObjectDef]) -> None:
        self.objects = {o.api_name: o for o in objects}
        self.fields: set[tuple[str, str]] = set()  # (object, field) left out
        self.gone: set[str] = set()  # objects left out
        #: app.json has problems, so its calendars are left out too
        self.no_calendars = False

    def leave_out(self, problems: Iterable[str]) -> None:
        for problem in problems:
            match = _OBJECT_SPOT.search(problem)
            if match is None or match.group(1) not in self.objects:
                continue
            name, pointer = match.group(1), match.group(2).rstrip(":")
            odef = self.objects[name]
            parts = pointer.split("/") + [""]
            index = int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else None
            if parts[1] == "fields" and index is not None and index < len(odef.fields):
                self._drop_fields(name, {odef.fields[index].api_name})
            elif parts[1] == "validation_rules" and index is not None:
                kept = tuple(r for i, r in enumerate(odef.validation_rules) if i != index)
                self.objects[name] = dataclasses.replace(odef, validation_rules=kept)
            elif parts[1] in ("", "api_name"):
                del self.objects[name]
                self.gone.add(name)
        self._dangling()

    def _drop_fields(self, name: str, fields: set[str]) -> None:
        odef = self.objects[name]
        self.fields.update((name, f) for f in fields)
        self.objects[name] = dataclasses.replace(
            odef, fields=tuple(f for f in odef.fields if f.api_name not in fields))

    def _dangling(self) -> None:
        """Leave out lookups and roll-ups whose target object or field is missing."""
        changed = True
        while changed:
            changed = False
            for name, odef in list(self.objects.items()):
                bad = set()
                for f in odef.fields:
                    target = self.objects.get(f.target or f.child_object or "")
                    if (f.target or f.child_object) and target is None or f.type == "rollup" and target is not None and any(
                            ref and target.field(ref) is None
                            for ref in (f.relationship_field, f.rollup_field)):
                        bad.add(f.api_name)
                if bad:
                    self._drop_fields(name, bad)
                    changed = True

    def echoes(self, problem: str) -> bool:
        """Whether a later problem only comes from something left out."""
        field = _UNKNOWN_FIELD.search(problem)
        if field is not None and any(f == field.group(1) and
                                     (field.group(2) in (None, o)) for o, f in self.fields):
            return True
        if self.no_calendars and "unknown calendar" in problem:
            return True
        missing = _UNKNOWN_OBJECT.search(problem)
        return missing is not None and missing.group(1) in self.gone

    def bundle(self, partial: MetadataBundle) -> MetadataBundle:
        return MetadataBundle(app=partial.app, objects=tuple(self.objects.values()),
                              documents=partial.documents, calendars=partial.calendars)


def later_problems(partial: MetadataBundle, reported: Sequence[str],
                   installed: Sequence[ObjectDef], *, extensions: Extensions,
                   engine: Engine, prefix: str = "") -> list[str]:
    """The formula, flow and data problems of what loaded, beyond the `reported` ones."""
    mine = {o.api_name for o in partial.objects}
    pruned = _Pruned([*(o for o in installed if o.api_name not in mine), *partial.objects])
    pruned.leave_out(reported)
    spots = {_spot(p) for p in reported}
    pruned.no_calendars = partial.app is None or any(
        spot is not None and spot[0].endswith("app.json") for spot in spots)
    found: list[str] = []
    schema = None
    for _ in range(ROUNDS):
        try:
            schema = RuntimeSchema(0, pruned.bundle(partial), dialect=engine.dialect.name)
            break
        except MetadataError as err:
            found += err.problems
            pruned.leave_out(err.problems)
    if schema is not None:
        found += extensions.metadata_problems(schema)
        with engine.connect() as conn:
            found += demo_data.problems(Context(conn, schema, SYSTEM),
                                        _kept_data(partial.data, pruned), prefix)
    out = []
    for problem in found:
        if _spot(problem) not in spots and not pruned.echoes(problem) and problem not in out:
            out.append(problem)
    return out


def _spot(problem: str) -> tuple[str, str] | None:
    """(folder/file, JSON pointer) a problem is about, whatever app folder it names."""
    match = _SPOT.search(problem)
    if match is None:
        return None
    return "/".join(match.group(1).split("/")[-2:]), match.group(2).rstrip(":")


def _kept_data(data: Any, pruned: _Pruned) -> dict[str, Any]:
    """The data files of kept objects, without the keys of fields left out."""
    out = {}
    for name, rows in data.items():
        if name in pruned.gone:
            continue
        dropped = {f for o, f in pruned.fields if o == name}
        out[name] = tuple({k: v for k, v in row.items() if k not in dropped}
                          if isinstance(row, dict) else row for row in rows)
    return out
