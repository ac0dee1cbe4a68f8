"""Checks across documents: the rules JSON Schema cannot express (names, and references
from one document to another), for the kernel's kinds and, through `DocumentChecker`, others'.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from metabiz.formulas import Calendar
from metabiz.formulas.calendars import parse_hours, zone_offset
from metabiz.platform import zones
from metabiz.platform.metadata.documents import Doc
from metabiz.platform.metadata.model import FieldDef, FollowUpDef, ObjectDef, RoleDef, UserDef
from metabiz.platform.metadata.problems import JsonPath, pointer
from metabiz.platform.metadata.reserved import (
    POOL_COLUMN,
    SYSTEM_DATETIME_COLUMNS,
    SYSTEM_FIELDS,
    SYSTEM_USER_COLUMNS,
    field_name_problem,
    name_problem,
)

ADMIN_ROLE = "admin"
COMPUTED_TYPES = frozenset({"formula", "rollup", "auto_number"})
REFERENCE_TYPES = frozenset({"lookup", "master_detail"})
#: no column, or none a list sorts on: `indexed` is refused
UNINDEXED_TYPES = frozenset({"formula", "long_text", "multi_picklist", "file", "image"})
NUMERIC_TYPES = frozenset({"number", "currency", "percent"})
TEMPORAL_TYPES = frozenset({"date", "datetime"})

#: definitions of one kind by name, each with the document that defined it
Registered = dict[str, tuple[Any, Doc]]


def type_name(f: FieldDef) -> str:
    """`a currency` / `a text formula`: how a message names a field's type."""
    return f"a {f.return_type} formula" if f.type == "formula" else f"a {f.type}"


class References:
    """What the documents of one load define, and the objects installed already."""

    def __init__(self, docs: Sequence[Doc], registered: Mapping[str, Registered],
                 known: Mapping[str, ObjectDef | None], *, in_folder: bool) -> None:
        self.docs = docs
        self.registered = registered
        self.in_folder = in_folder
        #: every object that may be referenced; None when only its name is known
        self.objects: dict[str, ObjectDef | None] = dict(known)
        for doc in docs:  # an invalid object file still declares its name
            if doc.kind == "object" and isinstance(doc.content, dict):
                self.objects.setdefault(doc.name() or doc.stem, None)
        self.objects.update({name: odef for name, (odef, _) in registered["object"].items()})

    def checker(self, doc: Doc) -> DocumentChecker:
        return DocumentChecker(self, doc)


class DocumentChecker:
    """The cross-document lookups a document kind's check uses, reporting each problem at a
    JSON path of the one document being checked (the `checker` of `DocumentKind.check`)."""

    def __init__(self, refs: References, doc: Doc) -> None:
        self._refs = refs
        self._doc = doc

    @property
    def in_folder(self) -> bool:
        """True for a whole folder or stored app; False for a lone file, whose references
        may name documents that are installed already."""
        return self._refs.in_folder

    def problem(self, path: JsonPath, message: str) -> None:
        self._doc.problem(path, message)

    def object(self, path: JsonPath, name: str) -> ObjectDef | None:
        """The named object's definition (None when only its name is known); reports an
        unknown one."""
        if name not in self._refs.objects:
            self.problem(path, f"unknown object {name!r}")
        return self._refs.objects.get(name)

    def field(self, path: JsonPath, odef: ObjectDef | None, name: str, *,
              system: Iterable[str] = SYSTEM_FIELDS) -> FieldDef | None:
        """The named field of `odef` (None for the `system` fields); reports an unknown one."""
        if odef is None or name in system:
            return None
        fdef = odef.field(name)
        if fdef is None:
            self.problem(path, f"unknown field {name!r} on {odef.api_name}")
        return fdef

    def user_field(self, path: JsonPath, odef: ObjectDef | None, name: str) -> None:
        """`name` is a user field of `odef` (or a system column holding a user)."""
        if name in SYSTEM_FIELDS - SYSTEM_USER_COLUMNS:
            self.problem(path, f"{name!r} is a system field, not a user field")
            return
        fdef = self.field(path, odef, name, system=SYSTEM_USER_COLUMNS)
        if fdef is not None and fdef.type != "user":
            self.problem(path, f"{name!r} is {type_name(fdef)} field, not a user field")

    def writable_field(self, path: JsonPath, odef: ObjectDef | None, name: str) -> None:
        """`name` is a field of `odef` a write may set (not computed, not system but owner)."""
        if name in SYSTEM_FIELDS - {"owner"}:
            self.problem(path, f"{name!r} is a system field and cannot be set")
            return
        fdef = self.field(path, odef, name, system={"owner"})
        if fdef is not None and fdef.is_computed:
            self.problem(path, f"{name!r} is {type_name(fdef)} field and cannot be set")

    def date_field(self, path: JsonPath, odef: ObjectDef | None, name: str) -> None:
        """`name` is a date or datetime field of `odef` (formulas and timestamps included)."""
        if name in SYSTEM_FIELDS - SYSTEM_DATETIME_COLUMNS:
            self.problem(path, f"{name!r} is a system field, not a date or datetime field")
            return
        fdef = self.field(path, odef, name, system=SYSTEM_DATETIME_COLUMNS)
        if fdef is None:
            return
        kind = fdef.return_type if fdef.type == "formula" else fdef.type
        if kind not in TEMPORAL_TYPES:
            self.problem(path, f"{name!r} is {type_name(fdef)} field, not a date or datetime "
                               "field")

    def duplicates(self, items: Iterable[tuple[JsonPath, str]], what: str) -> None:
        """Reports every name given twice among `items` ((path, name) pairs)."""
        seen: dict[str, JsonPath] = {}
        for path, name in items:
            if name in seen:
                self.problem(path, f"duplicate {what} {name!r} (also at {pointer(seen[name])})")
            else:
                seen[name] = path

    def names(self, kind: str) -> set[str | None]:
        """The names the documents of `kind` in this load declare, valid or not."""
        return {doc.name() for doc in self._refs.docs if doc.kind == kind}

    def definition(self, kind: str, name: str) -> Any | None:
        """The valid definition of `kind` named `name` in this load, if any."""
        found = self._refs.registered.get(kind, {}).get(name)
        return None if found is None else found[0]

    def stored_under_own_name(self, name: str) -> None:
        """A folder's document lives in `<folder>/<api_name>.json`."""
        doc = self._doc
        if self.in_folder and doc.stem != name:
            self.problem(("api_name",), f"{name!r} must be stored as {doc.folder}/{name}.json, "
                                        f"not {doc.relpath}")


# ---- objects ----------------------------------------------------------------------------


def check_object(odef: ObjectDef, checker: DocumentChecker) -> None:
    if problem := name_problem(odef.api_name):
        checker.problem(("api_name",), problem)
    if odef.renamed_from is not None:
        if odef.renamed_from == odef.api_name:
            checker.problem(("renamed_from",), "an object cannot be renamed from its own name")
        elif checker.definition("object", odef.renamed_from) is not None:
            checker.problem(("renamed_from",),
                            f"{odef.renamed_from!r} is another current object; renamed_from "
                            "names the object's old name")
    checker.duplicates(((("fields", i, "api_name"), f.api_name)
                        for i, f in enumerate(odef.fields)), "field")
    for i, fdef in enumerate(odef.fields):
        _field(odef, fdef, checker, ("fields", i))
    checker.duplicates(((("fields", i, "renamed_from"), f.renamed_from)
                        for i, f in enumerate(odef.fields) if f.renamed_from), "renamed_from")
    if odef.name_field is not None:
        _name_field(odef, checker)
    checker.duplicates(((("validation_rules", i, "api_name"), r.api_name)
                        for i, r in enumerate(odef.validation_rules)), "validation rule")
    for i, rule in enumerate(odef.validation_rules):
        if rule.field is not None:
            checker.field(("validation_rules", i, "field"), odef, rule.field, system=())
    for layout in odef.layouts:
        checker.duplicates(((("layouts", layout.api_name, "sections", s, "fields", j), name)
                            for s, sec in enumerate(layout.sections)
                            for j, name in enumerate(sec.fields)), "layout field")
        for s, section in enumerate(layout.sections):
            for j, name in enumerate(section.fields):
                checker.field(("layouts", layout.api_name, "sections", s, "fields", j),
                              odef, name)
    checker.duplicates(((("list_views", i, "api_name"), v.api_name)
                        for i, v in enumerate(odef.list_views)), "list view")
    for i, view in enumerate(odef.list_views):
        for j, name in enumerate(view.columns):
            checker.field(("list_views", i, "columns", j), odef, name)
        for name in (view.sort or "").split(","):
            if name:
                checker.field(("list_views", i, "sort"), odef, name.lstrip("-"))
    if odef.pools:
        _pools(odef, checker)
    if odef.follow_up is not None:
        _follow_up(odef, odef.follow_up, checker)


def _follow_up(odef: ObjectDef, follow: FollowUpDef, checker: DocumentChecker) -> None:
    """The child object, its link back to this object, its text fields and fixed values,
    and the date stamped on the record."""
    child = checker.object(("follow_up", "object"), follow.object)
    link = checker.field(("follow_up", "link"), child, follow.link, system=())
    if link is not None and (link.type not in REFERENCE_TYPES or link.target != odef.api_name):
        checker.problem(("follow_up", "link"), f"{follow.link!r} must be a lookup or "
                                               f"master_detail field to {odef.api_name}")
    for key in ("subject", "text"):
        name = getattr(follow, key)
        found = checker.field(("follow_up", key), child, name, system=()) if name else None
        if found is not None and found.type not in ("text", "long_text"):
            checker.problem(("follow_up", key), f"{name!r} is {type_name(found)} field, not text")
    for name in follow.values:
        checker.writable_field(("follow_up", "values", name), child, name)
    if follow.stamp is not None:
        stamp = checker.field(("follow_up", "stamp"), odef, follow.stamp, system=())
        if stamp is not None and stamp.type not in TEMPORAL_TYPES:
            checker.problem(("follow_up", "stamp"), f"{follow.stamp!r} is {type_name(stamp)} "
                                                    "field, not a date or datetime")


def _pools(odef: ObjectDef, checker: DocumentChecker) -> None:
    """Pool names, member and admin roles, return reasons; no field may be named `pool`
    (the system column holding the pool a record is in)."""
    checker.duplicates(((("pools", i, "api_name"), p.api_name)
                        for i, p in enumerate(odef.pools)), "pool")
    for i, fdef in enumerate(odef.fields):
        if fdef.api_name == POOL_COLUMN:
            checker.problem(("fields", i, "api_name"), "'pool' is the system field of an "
                                                       "object with pools; choose another name")
    roles = checker.names("role") | {ADMIN_ROLE}
    for i, pool in enumerate(odef.pools):
        for key, names in (("members", pool.members), ("admins", pool.admins)):
            for j, role in enumerate(names):
                if checker.in_folder and role not in roles:
                    checker.problem(("pools", i, key, j), f"unknown role {role!r}")
        checker.duplicates(((("pools", i, "return_reasons", j), r.value)
                            for j, r in enumerate(pool.return_reasons)), "return reason")
        flag = odef.field(pool.adopt_field) if pool.adopt_field else None
        if flag is not None and flag.type != "boolean":
            checker.problem(("pools", i, "adopt_field"),
                            f"{flag.api_name!r} is {type_name(flag)} field, not a boolean")


def _name_field(odef: ObjectDef, checker: DocumentChecker) -> None:
    fdef = checker.field(("name_field",), odef, odef.name_field or "", system=())
    if fdef is None:
        return
    if not (fdef.type in ("text", "auto_number")
            or (fdef.type == "formula" and fdef.return_type == "text")):
        checker.problem(("name_field",), f"{fdef.api_name!r} is {type_name(fdef)} field; "
                                         "the name field must be text, auto_number or a "
                                         "text formula")


def _field(odef: ObjectDef, fdef: FieldDef, checker: DocumentChecker, path: JsonPath) -> None:
    raw = fdef.raw
    if problem := field_name_problem(fdef.api_name):
        checker.problem(path + ("api_name",), problem)
    if fdef.renamed_from is not None:
        if fdef.renamed_from == fdef.api_name:
            checker.problem(path + ("renamed_from",), "a field cannot be renamed from its own "
                                                      "name")
        elif odef.field(fdef.renamed_from) is not None:
            checker.problem(path + ("renamed_from",),
                            f"{fdef.renamed_from!r} is another current field; renamed_from "
                            "names the field's old name")
    if fdef.type in COMPUTED_TYPES:
        for key in ("default", "required"):
            if raw.get(key):
                checker.problem(path + (key,), f"a {fdef.type} field is computed and cannot "
                                               f"have {key!r}")
    if fdef.unique and fdef.type in ("formula", "rollup", "long_text", "multi_picklist"):
        checker.problem(path + ("unique",), f"a {fdef.type} field cannot be unique")
    if fdef.indexed and fdef.type in UNINDEXED_TYPES:
        checker.problem(path + ("indexed",), f"a {fdef.type} field has no column to index"
                        if fdef.type == "formula" else f"a {fdef.type} field cannot be indexed")
    if fdef.type == "master_detail" and raw.get("required") is False:
        checker.problem(path + ("required",), "a master_detail field is always required "
                                              "(use a lookup for an optional reference)")
    if fdef.min is not None and fdef.max is not None and fdef.min > fdef.max:
        checker.problem(path + ("min",), f"min {fdef.min} is greater than max {fdef.max}")
    checker.duplicates(((path + ("values", i, "value"), v.value)
                        for i, v in enumerate(fdef.values)), "picklist value")
    if fdef.type in REFERENCE_TYPES and fdef.target is not None:
        target = checker.object(path + ("target",), fdef.target)
        for their, mine in fdef.match:
            checker.field(path + ("match", their), target, their)
            if isinstance(mine, str):
                checker.field(path + ("match", their), odef, mine)
    if fdef.type == "rollup":
        _rollup(odef, fdef, checker, path)


def _rollup(odef: ObjectDef, fdef: FieldDef, checker: DocumentChecker, path: JsonPath) -> None:
    child = checker.object(path + ("child_object",), fdef.child_object or "")
    if child is None:
        return
    rel = checker.field(path + ("relationship_field",), child, fdef.relationship_field or "",
                        system=())
    if rel is not None and rel.type not in REFERENCE_TYPES:
        checker.problem(path + ("relationship_field",),
                        f"{rel.api_name!r} on {child.api_name} is {type_name(rel)} field, "
                        "not a lookup or master_detail")
    elif rel is not None and rel.target != odef.api_name:
        checker.problem(path + ("relationship_field",),
                        f"{rel.api_name!r} on {child.api_name} points to {rel.target!r}, "
                        f"not to {odef.api_name!r}")
    if fdef.rollup_field is None:
        return
    source = checker.field(path + ("field",), child, fdef.rollup_field)
    if source is None or fdef.function == "count":
        return
    kind = source.return_type if source.type == "formula" else source.type
    if source.type == "rollup":
        kind = "number"
    allowed = NUMERIC_TYPES | (TEMPORAL_TYPES if fdef.function in ("min", "max") else set())
    if kind not in allowed:
        what = "a number, currency, percent, date or datetime" \
            if fdef.function in ("min", "max") else "a number, currency or percent"
        checker.problem(path + ("field",), f"{fdef.function} needs {what} field; "
                                           f"{source.api_name!r} is {type_name(source)} field")


# ---- app.json ---------------------------------------------------------------------------

#: how Calendar.from_json names the entry it refuses
_BAD_ENTRY = re.compile(r"^calendar '[^']*': (holidays|workdays)\[(\d+)\]: (.*)$")
_BOTH = re.compile(r"^calendar '[^']*': (\S+) is both")


def calendar_problems(calendars: Mapping[str, Any], timezone: Any = None
                      ) -> Iterator[tuple[JsonPath, str]]:
    """The dates of app.json's `calendars` that are not dates, the dates listed both as
    holidays and as working days, and working hours that are not a start before an end or
    that a time zone with daylight saving time would shift, each at its JSON path (the
    schema checked the shape)."""
    for name, raw in calendars.items():
        where: JsonPath = ("calendars", name)
        if "hours" in raw:
            try:
                parse_hours(raw["hours"])
                if timezone is None or isinstance(timezone, str) and zones.is_zone(timezone):
                    zone_offset(timezone)
            except ValueError as err:
                yield where + ("hours",), str(err)
        dates: dict[str, list[str]] = {}
        for key in ("holidays", "workdays"):
            dates[key] = []
            for index, entry in enumerate(raw.get(key, ())):
                try:
                    Calendar.from_json(name, {key: [entry]})
                except ValueError as err:
                    yield where + (key, index), _refusal(str(err))
                else:
                    dates[key].append(entry)
        yield from _both(name, raw, dates["holidays"], dates["workdays"], where)


def _both(name: str, raw: Mapping[str, Any], holidays: list[str], workdays: list[str],
          where: JsonPath) -> Iterator[tuple[JsonPath, str]]:
    """Every date listed both as a holiday and as a working day (the calendar names one at
    a time)."""
    while True:
        try:
            Calendar.from_json(name, {"holidays": holidays, "workdays": workdays})
            return
        except ValueError as err:
            found = _BOTH.match(str(err))
            if found is None or found.group(1) not in workdays:
                yield where, str(err)
                return
            day = found.group(1)
            at = pointer(where + ("holidays", raw["holidays"].index(day)))
            yield where + ("workdays", raw["workdays"].index(day)), \
                f"{day} is both a holiday and a working day (also at {at})"
            workdays = [d for d in workdays if d != day]


def _refusal(message: str) -> str:
    found = _BAD_ENTRY.match(message)
    return found.group(3) if found else message


# ---- roles, users, data -----------------------------------------------------------------


def check_role(rdef: RoleDef, checker: DocumentChecker) -> None:
    if rdef.api_name == ADMIN_ROLE:
        checker.problem(("api_name",), "'admin' is the built-in role that may do everything; "
                                       "choose another name")
    for name, rights in rdef.objects.items():
        checker.object(("objects", name), name)
        if rights and "read" not in rights:
            checker.problem(("objects", name), "rights to create, edit, delete, export or "
                                               "import need 'read' too")
    for key in rdef.fields:
        object_name, _, field_name = key.partition(".")
        odef = checker.object(("fields", key), object_name)
        checker.field(("fields", key), odef, field_name, system=())


def check_users(users: tuple[UserDef, ...], checker: DocumentChecker) -> None:
    checker.duplicates((((i, "name"), u.name) for i, u in enumerate(users)), "user")
    roles = checker.names("role") | {ADMIN_ROLE}
    for i, user in enumerate(users):
        for j, role in enumerate(user.roles):
            if checker.in_folder and role not in roles:
                checker.problem((i, "roles", j), f"unknown role {role!r}")
        if user.manager == user.name:
            checker.problem((i, "manager"), "a user cannot be their own manager")


def check_data(checker: DocumentChecker) -> None:
    name = checker._doc.stem
    if name not in checker._refs.objects:
        checker.problem((), f"unknown object {name!r} (data/<object>.json holds records "
                            "of that object)")
