"""Loads metadata folders and documents into a MetadataBundle, reporting every problem at once.

JSON → JSON Schema → frozen dataclasses → cross-document checks; formulas stay text here.
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from metabiz.errors import MetadataError
from metabiz.platform.metadata.model import (
    ActionDef,
    AppDef,
    ApprovalFlowDef,
    ApprovalStepDef,
    ApproverDef,
    AssignmentEntryDef,
    AssignmentRuleDef,
    AutomationRuleDef,
    FieldDef,
    FlowDef,
    Label,
    LayoutDef,
    LayoutSection,
    ListViewDef,
    MetadataBundle,
    ObjectDef,
    PicklistValue,
    RoleDef,
    TriggerDef,
    UserDef,
    ValidationRuleDef,
)
from metabiz.platform.metadata.reserved import (
    SYSTEM_DATETIME_COLUMNS,
    SYSTEM_FIELDS,
    SYSTEM_USER_COLUMNS,
    field_name_problem,
    name_problem,
)

__all__ = ["load_path", "load_documents", "bundle_documents", "USERS_FILE"]

SCHEMA_DIR = Path(__file__).with_name("schemas")
USERS_FILE = "data/_users.json"
ADMIN_ROLE = "admin"

#: folder → document kind; `data/_users.json` is the "users" kind
FOLDERS = {"objects": "object", "flows": "flow", "roles": "role", "data": "data"}
#: the order documents (and their problems) are listed in
KIND_ORDER = ("app", "object", "flow", "role", "data", "users")

COMPUTED_TYPES = frozenset({"formula", "rollup", "auto_number"})
REFERENCE_TYPES = frozenset({"lookup", "master_detail"})
NUMERIC_TYPES = frozenset({"number", "currency", "percent"})
TEMPORAL_TYPES = frozenset({"date", "datetime"})
#: type-specific keys whose absence means a default (see object.json "default")
FIELD_DEFAULTS: dict[str, dict[str, Any]] = {
    "text": {"max_length": 255},
    "number": {"scale": 0},
    "currency": {"scale": 2},
    "percent": {"scale": 2},
    "lookup": {"on_delete": "restrict"},
    "master_detail": {"on_delete": "cascade", "required": True},
}

JsonPath = tuple[str | int, ...]


# ---- problems ---------------------------------------------------------------------------


def pointer(path: Iterable[str | int]) -> str:
    """A JSON Pointer (RFC 6901) for `path`; `/` for the whole document."""
    parts = [str(p).replace("~", "~0").replace("/", "~1") for p in path]
    return "/" + "/".join(parts)


@dataclass(frozen=True)
class Problem:
    file: str
    path: JsonPath
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {pointer(self.path)}: {self.message}"


def _quoted(names: Sequence[str], last: str = "or") -> str:
    items = [repr(n) for n in names]
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {last} {items[-1]}"


def _unknown_key(key: str, allowed: Iterable[str]) -> str:
    allowed = sorted(allowed)
    close = difflib.get_close_matches(key, allowed, n=1)
    if close:
        return f"unknown key {key!r} (did you mean {close[0]!r}?)"
    if 0 < len(allowed) <= 8:
        return f"unknown key {key!r}; expected {_quoted(allowed)}"
    return f"unknown key {key!r}"


# ---- JSON Schemas -----------------------------------------------------------------------


def _one_key_of(validator: Any, keys: list[str], instance: Any,
                schema: Mapping[str, Any]) -> Iterator[ValidationError]:
    """metabiz's own keyword: exactly one of `keys` is present (a message users can read)."""
    if not validator.is_type(instance, "object"):
        return
    present = [k for k in keys if k in instance]
    if len(present) > 1:
        yield ValidationError(f"{_quoted(present, 'and')} cannot be combined: "
                              f"use one of {_quoted(keys)}")
    elif not present and not set(instance) - set(schema.get("properties", {})):
        # unknown keys are reported by additionalProperties, with a suggestion
        yield ValidationError(f"expected one of {_quoted(keys)}")


_Validator = validators.extend(Draft202012Validator, {"oneKeyOf": _one_key_of})


@functools.cache
def _schemas() -> dict[str, dict[str, Any]]:
    """The schema files by name, without `$schema`: all are draft 2020-12, and a `$schema`
    would make jsonschema switch to its stock validator class (without `oneKeyOf`)."""
    schemas = {}
    for path in sorted(SCHEMA_DIR.glob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        schema.pop("$schema", None)
        schemas[path.stem] = schema
    return schemas


@functools.cache
def _validator(kind: str) -> Any:
    schemas = _schemas()
    registry: Registry = Registry().with_resources(
        (s["$id"], DRAFT202012.create_resource(s)) for s in schemas.values())
    return _Validator(schemas[kind], registry=registry)


@functools.cache
def _field_type_keys() -> dict[str, frozenset[str]]:
    """Every field type → the keys a field of that type may have (read from object.json)."""
    spec = _schemas()["object"]["$defs"]["field"]
    common = set(spec["properties"])
    keys = {t: set(common) for t in spec["properties"]["type"]["enum"]}
    for branch in spec["allOf"]:
        cond = branch["if"]["properties"]["type"]
        for t in cond.get("enum") or [cond["const"]]:
            keys[t] |= set(branch["then"]["properties"])
    return {t: frozenset(k) for t, k in keys.items()}


def _doc_order(content: Any, path: Iterable[str | int]) -> tuple[int, ...]:
    """Where `path` lies in the document, so problems read top to bottom."""
    order: list[int] = []
    node = content
    for part in path:
        if isinstance(node, dict):
            keys = list(node)
            order.append(keys.index(part) if part in node else -1)
            node = node.get(part)  # type: ignore[arg-type]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            order.append(part)
            node = node[part]
        else:
            order.append(-1)
            node = None
    return tuple(order)


def _explain(err: ValidationError) -> Iterator[tuple[JsonPath, str]]:
    """One jsonschema error as (path, message) pairs, phrased for whoever edits the file."""
    if err.context:  # anyOf / oneOf: the alternative that came closest says the most
        yield from _explain(best_match(err.context))
        return
    path: JsonPath = tuple(err.absolute_path)
    instance, schema = err.instance, err.schema
    if err.validator == "additionalProperties":
        allowed = set(schema.get("properties", {}))
        for key in instance:
            if key not in allowed:
                yield path + (key,), _unknown_key(key, allowed)
    elif err.validator == "unevaluatedProperties" and schema.get("title") == "field":
        keys = _field_type_keys()
        ftype = instance.get("type")
        if not isinstance(ftype, str) or ftype not in keys:
            return  # the bad or missing `type` is the problem to report
        every_key = frozenset().union(*keys.values())
        for key in instance:
            if key in keys[ftype]:
                continue
            if key in every_key:
                yield path + (key,), f"{key!r} does not apply to a {ftype} field"
            else:
                yield path + (key,), _unknown_key(key, keys[ftype])
    elif err.validator == "pattern" and "title" in schema:
        about = f": {schema['description']}" if "description" in schema else ""
        yield path, f"{instance!r} is not a valid {schema['title']}{about}"
    elif err.validator == "dependentRequired":
        for key, needs in err.validator_value.items():
            missing = [n for n in needs if key in instance and n not in instance]
            if missing:
                yield path, f"{key!r} needs {_quoted(missing, 'and')}"
    else:
        yield path, err.message


# ---- documents --------------------------------------------------------------------------


@dataclass
class _Doc:
    """One document being loaded: where it lives in a folder, and what problems call it."""

    relpath: str
    shown: str
    kind: str | None
    content: Any = None
    valid: bool = False
    problems: list[Problem] = field(default_factory=list)

    @property
    def stem(self) -> str:
        return PurePosixPath(self.relpath).stem

    def problem(self, path: JsonPath, message: str) -> None:
        self.problems.append(Problem(self.shown, path, message))

    def name(self, key: str = "api_name") -> str | None:
        value = self.content.get(key) if isinstance(self.content, dict) else None
        return value if isinstance(value, str) else None


def _kind_of(relpath: str) -> str | None:
    parts = PurePosixPath(relpath).parts
    if parts == ("app.json",):
        return "app"
    if len(parts) == 2 and parts[0] in FOLDERS and parts[1].endswith(".json"):
        return "users" if relpath == USERS_FILE else FOLDERS[parts[0]]
    return None


def _read(path: Path, doc: _Doc) -> None:
    try:
        data = path.read_bytes()
    except OSError as err:
        doc.problem((), f"cannot read the file: {err.strerror}")
        return
    _parse(data, doc)


def _parse(data: bytes, doc: _Doc) -> None:
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in items:
            if key in seen:
                duplicates.append(key)
            seen[key] = value
        return seen

    try:
        doc.content = json.loads(data.decode("utf-8-sig"), object_pairs_hook=pairs)
    except UnicodeDecodeError as err:
        doc.problem((), f"not UTF-8 text: {err.reason} at byte {err.start}")
    except json.JSONDecodeError as err:
        doc.problem((), f"invalid JSON at line {err.lineno} column {err.colno}: {err.msg}")
    for key in dict.fromkeys(duplicates):
        doc.problem((), f"the key {key!r} appears twice in one JSON object; only the last "
                        "would count")


def _folder_docs(root: Path) -> list[_Doc]:
    docs: list[_Doc] = []
    for path in sorted(root.glob("*.json")):
        relpath = path.name
        docs.append(_Doc(relpath, relpath, _kind_of(relpath)))
    for folder in FOLDERS:
        base = root / folder
        if not base.is_dir():
            continue
        for path in sorted(p for p in base.rglob("*.json") if p.is_file()):
            relpath = path.relative_to(root).as_posix()
            docs.append(_Doc(relpath, relpath, _kind_of(relpath)))
    for doc in docs:
        if doc.kind is not None:
            _read(root / doc.relpath, doc)
    return docs


def _detect_kind(path: Path, content: Any) -> str | None:
    """What a lone file holds: by its keys, else by the folder it sits in."""
    if isinstance(content, dict):
        if "kind" in content:
            return "flow"
        if "objects" in content or "record_access" in content:
            return "role"  # a role's "fields" is a mapping, an object's a list
        if "fields" in content:
            return "object"
        if "name" in content and "version" in content:
            return "app"
    if path.name == "app.json":
        return "app"
    if path.parent.name == "data":
        return "users" if path.name == "_users.json" else "data"
    return FOLDERS.get(path.parent.name)


def _single_doc(path: Path, shown: str) -> _Doc:
    doc = _Doc(path.name, shown, None)
    _read(path, doc)
    if doc.problems:
        return doc
    kind = _detect_kind(path, doc.content)
    if kind is None:
        doc.problem((), "cannot tell what this document is: an object has \"fields\", a flow "
                        "\"kind\", a role \"objects\", an app \"name\" and \"version\"")
        return doc
    doc.kind = kind
    name = doc.name("name" if kind == "app" else "api_name") or path.stem
    doc.relpath = {"app": "app.json", "object": f"objects/{name}.json",
                   "flow": f"flows/{name}.json", "role": f"roles/{name}.json",
                   "data": f"data/{path.stem}.json", "users": USERS_FILE}[kind]
    return doc


# ---- building dataclasses ---------------------------------------------------------------


def _label(raw: Any, fallback: str) -> Label:
    return Label.of(raw, fallback)


def _optional_label(raw: Any) -> Label | None:
    return None if raw is None else Label.of(raw)


def _field(d: Mapping[str, Any]) -> FieldDef:
    ftype = d["type"]
    defaults = FIELD_DEFAULTS.get(ftype, {})

    def get(key: str) -> Any:
        return d.get(key, defaults.get(key))

    return FieldDef(
        api_name=d["api_name"], type=ftype, label=_label(d.get("label"), d["api_name"]),
        required=bool(get("required")), unique=d.get("unique", False),
        default=d.get("default"), help=_optional_label(d.get("help")),
        renamed_from=d.get("renamed_from"), max_length=get("max_length"), scale=get("scale"),
        min=d.get("min"), max=d.get("max"),
        values=tuple(PicklistValue(v["value"], _label(v.get("label"), v["value"]))
                     for v in d.get("values", ())),
        target=d.get("target"), on_delete=get("on_delete"), format=d.get("format"),
        return_type=d.get("return_type"), formula=d.get("formula"),
        treat_blanks_as=d.get("treat_blanks_as", "blank"),
        child_object=d.get("child_object"), relationship_field=d.get("relationship_field"),
        function=d.get("function"), rollup_field=d.get("field"), filter=d.get("filter"),
        raw=d,
    )


def _object(d: Mapping[str, Any]) -> ObjectDef:
    return ObjectDef(
        api_name=d["api_name"], label=_label(d.get("label"), d["api_name"]),
        fields=tuple(_field(f) for f in d["fields"]), name_field=d.get("name_field"),
        plural_label=_optional_label(d.get("plural_label")),
        description=d.get("description"), renamed_from=d.get("renamed_from"),
        validation_rules=tuple(
            ValidationRuleDef(r["api_name"], r["error_condition"], Label.of(r["message"]),
                              r.get("field"), r.get("active", True))
            for r in d.get("validation_rules", ())),
        layouts=tuple(
            LayoutDef(name, tuple(LayoutSection(Label.of(s.get("label", "")),
                                                s.get("columns", 2), tuple(s["fields"]))
                                  for s in layout["sections"]))
            for name, layout in d.get("layouts", {}).items()),
        list_views=tuple(
            ListViewDef(v["api_name"], _label(v.get("label"), v["api_name"]),
                        tuple(v.get("columns", ())), v.get("filter"), v.get("sort"))
            for v in d.get("list_views", ())),
        raw=d,
    )


def _assignee(raw: Mapping[str, Any]) -> dict[str, Any]:
    """`{"role": R}` means round robin; the canonical form says so."""
    if "role" in raw:
        return {"role": raw["role"], "strategy": raw.get("strategy", "round_robin")}
    return dict(raw)


def _action(raw: Mapping[str, Any]) -> ActionDef:
    ((kind, params),) = raw.items()
    if kind == "assign":
        params = _assignee(params)
    return ActionDef(kind, dict(params))


def _actions(raw: Iterable[Mapping[str, Any]] | None) -> tuple[ActionDef, ...]:
    return tuple(_action(a) for a in raw or ())


def _trigger(raw: str | Mapping[str, Any]) -> TriggerDef:
    if isinstance(raw, str):
        return TriggerDef(raw)
    ((kind, value),) = raw.items()
    if kind == "field_changed":
        return TriggerDef(kind, fields=tuple(value))
    return TriggerDef(kind, date_field=value["field"], days=value["days"])


def _flow(d: Mapping[str, Any]) -> FlowDef:
    common: dict[str, Any] = {"api_name": d["api_name"], "object": d["object"],
                              "label": _label(d.get("label"), d["api_name"]),
                              "active": d.get("active", True), "raw": d}
    if d["kind"] == "approval":
        steps = tuple(
            ApprovalStepDef(s["api_name"], _label(s.get("label"), s["api_name"]),
                            tuple(ApproverDef(*next(iter(a.items()))) for a in s["approvers"]),
                            s.get("mode", "any"), s.get("condition"))
            for s in d["steps"])
        return ApprovalFlowDef(
            steps=steps, entry_condition=d.get("entry_condition"),
            lock_record=d.get("lock_record", True),
            submitter_approver=d.get("submitter_approver", "allow"),
            on_submit=_actions(d.get("on_submit")), on_approve=_actions(d.get("on_approve")),
            on_reject=_actions(d.get("on_reject")), on_recall=_actions(d.get("on_recall")),
            **common)
    if d["kind"] == "automation":
        return AutomationRuleDef(trigger=_trigger(d["trigger"]), actions=_actions(d["actions"]),
                                 condition=d.get("condition"), **common)
    entries = tuple(AssignmentEntryDef(e.get("condition"), _assignee(e["assignee"]))
                    for e in d["entries"])
    return AssignmentRuleDef(entries=entries, on_create=d.get("on_create", False), **common)


def _role(d: Mapping[str, Any]) -> RoleDef:
    return RoleDef(
        api_name=d["api_name"], label=_label(d.get("label"), d["api_name"]),
        objects={name: frozenset(rights) for name, rights in d.get("objects", {}).items()},
        record_access=d.get("record_access", "own"), fields=dict(d.get("fields", {})), raw=d)


def _app(d: Mapping[str, Any]) -> AppDef:
    return AppDef(d["name"], d["version"], _label(d.get("label"), d["name"]),
                  d.get("description"), tuple(d.get("depends", ())))


def _users(d: Sequence[Mapping[str, Any]]) -> tuple[UserDef, ...]:
    return tuple(UserDef(u["name"], u.get("password"), u.get("display_name"), u.get("email"),
                         tuple(u.get("roles", ())), u.get("manager"), u.get("language"))
                 for u in d)


# ---- checks across documents ------------------------------------------------------------


def _type_name(f: FieldDef) -> str:
    return f"a {f.return_type} formula" if f.type == "formula" else f"a {f.type}"


class _Checks:
    """The rules JSON Schema cannot express: names, and references between documents."""

    def __init__(self, docs: list[_Doc], objects: dict[str, tuple[ObjectDef, _Doc]],
                 flows: dict[str, tuple[FlowDef, _Doc]], known: Mapping[str, ObjectDef | None],
                 *, in_folder: bool) -> None:
        self.objects = objects
        self.flows = flows
        self.in_folder = in_folder
        #: every object that may be referenced; None when only its name is known
        self.defs: dict[str, ObjectDef | None] = dict(known)
        for doc in docs:  # an invalid object file still declares its name
            if doc.kind == "object" and isinstance(doc.content, dict):
                self.defs.setdefault(doc.name() or doc.stem, None)
        self.defs.update({name: odef for name, (odef, _) in objects.items()})
        self.flow_names = {doc.name() for doc in docs if doc.kind == "flow"}
        self.role_names = {doc.name() for doc in docs if doc.kind == "role"} | {ADMIN_ROLE}

    # -- helpers ------------------------------------------------------------------------
    def _object_ref(self, doc: _Doc, path: JsonPath, name: str) -> ObjectDef | None:
        """The named object's definition; reports an unknown one."""
        if name not in self.defs:
            doc.problem(path, f"unknown object {name!r}")
        return self.defs.get(name)

    def _field_ref(self, doc: _Doc, path: JsonPath, odef: ObjectDef | None, name: str, *,
                   system: Iterable[str] = SYSTEM_FIELDS) -> FieldDef | None:
        """The named field of `odef` (None for system fields); reports an unknown one."""
        if odef is None or name in system:
            return None
        fdef = odef.field(name)
        if fdef is None:
            doc.problem(path, f"unknown field {name!r} on {odef.api_name}")
        return fdef

    def _user_field(self, doc: _Doc, path: JsonPath, odef: ObjectDef | None, name: str) -> None:
        if name in SYSTEM_FIELDS - SYSTEM_USER_COLUMNS:
            doc.problem(path, f"{name!r} is a system field, not a user field")
            return
        fdef = self._field_ref(doc, path, odef, name, system=SYSTEM_USER_COLUMNS)
        if fdef is not None and fdef.type != "user":
            doc.problem(path, f"{name!r} is {_type_name(fdef)} field, not a user field")

    def _writable_field(self, doc: _Doc, path: JsonPath, odef: ObjectDef | None,
                        name: str) -> None:
        if name in SYSTEM_FIELDS - {"owner"}:
            doc.problem(path, f"{name!r} is a system field and cannot be set")
            return
        fdef = self._field_ref(doc, path, odef, name, system={"owner"})
        if fdef is not None and fdef.is_computed:
            doc.problem(path, f"{name!r} is {_type_name(fdef)} field and cannot be set")

    @staticmethod
    def _duplicates(doc: _Doc, items: Iterable[tuple[JsonPath, str]], what: str) -> None:
        seen: dict[str, JsonPath] = {}
        for path, name in items:
            if name in seen:
                doc.problem(path, f"duplicate {what} {name!r} (also at {pointer(seen[name])})")
            else:
                seen[name] = path

    def _file_name(self, doc: _Doc, path: JsonPath, name: str) -> None:
        if self.in_folder and doc.stem != name:
            folder = PurePosixPath(doc.relpath).parent
            doc.problem(path, f"{name!r} must be stored as {folder}/{name}.json, "
                              f"not {doc.relpath}")

    # -- objects ------------------------------------------------------------------------
    def object(self, odef: ObjectDef, doc: _Doc) -> None:
        self._file_name(doc, ("api_name",), odef.api_name)
        if problem := name_problem(odef.api_name):
            doc.problem(("api_name",), problem)
        if odef.renamed_from is not None:
            if odef.renamed_from == odef.api_name:
                doc.problem(("renamed_from",), "an object cannot be renamed from its own name")
            elif odef.renamed_from in self.objects:
                doc.problem(("renamed_from",),
                            f"{odef.renamed_from!r} is another current object; renamed_from "
                            "names the object's old name")
        self._duplicates(doc, ((("fields", i, "api_name"), f.api_name)
                               for i, f in enumerate(odef.fields)), "field")
        for i, fdef in enumerate(odef.fields):
            self._field(odef, fdef, doc, ("fields", i))
        self._duplicates(doc, ((("fields", i, "renamed_from"), f.renamed_from)
                               for i, f in enumerate(odef.fields) if f.renamed_from),
                         "renamed_from")
        if odef.name_field is not None:
            self._name_field(odef, doc)
        self._duplicates(doc, ((("validation_rules", i, "api_name"), r.api_name)
                               for i, r in enumerate(odef.validation_rules)), "validation rule")
        for i, rule in enumerate(odef.validation_rules):
            if rule.field is not None:
                self._field_ref(doc, ("validation_rules", i, "field"), odef, rule.field,
                                system=())
        for layout in odef.layouts:
            self._duplicates(doc, ((("layouts", layout.api_name, "sections", s, "fields", j), name)
                                   for s, sec in enumerate(layout.sections)
                                   for j, name in enumerate(sec.fields)), "layout field")
            for s, section in enumerate(layout.sections):
                for j, name in enumerate(section.fields):
                    self._field_ref(doc, ("layouts", layout.api_name, "sections", s, "fields", j),
                                    odef, name)
        self._duplicates(doc, ((("list_views", i, "api_name"), v.api_name)
                               for i, v in enumerate(odef.list_views)), "list view")
        for i, view in enumerate(odef.list_views):
            for j, name in enumerate(view.columns):
                self._field_ref(doc, ("list_views", i, "columns", j), odef, name)
            for name in (view.sort or "").split(","):
                if name:
                    self._field_ref(doc, ("list_views", i, "sort"), odef, name.lstrip("-"))

    def _name_field(self, odef: ObjectDef, doc: _Doc) -> None:
        fdef = self._field_ref(doc, ("name_field",), odef, odef.name_field or "", system=())
        if fdef is None:
            return
        if not (fdef.type in ("text", "auto_number")
                or (fdef.type == "formula" and fdef.return_type == "text")):
            doc.problem(("name_field",), f"{fdef.api_name!r} is {_type_name(fdef)} field; "
                                         "the name field must be text, auto_number or a "
                                         "text formula")

    def _field(self, odef: ObjectDef, fdef: FieldDef, doc: _Doc, path: JsonPath) -> None:
        raw = fdef.raw
        if problem := field_name_problem(fdef.api_name):
            doc.problem(path + ("api_name",), problem)
        if fdef.renamed_from is not None:
            if fdef.renamed_from == fdef.api_name:
                doc.problem(path + ("renamed_from",), "a field cannot be renamed from its own "
                                                      "name")
            elif odef.field(fdef.renamed_from) is not None:
                doc.problem(path + ("renamed_from",),
                            f"{fdef.renamed_from!r} is another current field; renamed_from "
                            "names the field's old name")
        if fdef.type in COMPUTED_TYPES:
            for key in ("default", "required"):
                if raw.get(key):
                    doc.problem(path + (key,), f"a {fdef.type} field is computed and cannot "
                                               f"have {key!r}")
        if fdef.unique and fdef.type in ("formula", "rollup", "long_text", "multi_picklist"):
            doc.problem(path + ("unique",), f"a {fdef.type} field cannot be unique")
        if fdef.type == "master_detail" and raw.get("required") is False:
            doc.problem(path + ("required",), "a master_detail field is always required "
                                              "(use a lookup for an optional reference)")
        if fdef.min is not None and fdef.max is not None and fdef.min > fdef.max:
            doc.problem(path + ("min",), f"min {fdef.min} is greater than max {fdef.max}")
        self._duplicates(doc, ((path + ("values", i, "value"), v.value)
                               for i, v in enumerate(fdef.values)), "picklist value")
        if fdef.type in REFERENCE_TYPES and fdef.target is not None:
            self._object_ref(doc, path + ("target",), fdef.target)
        if fdef.type == "rollup":
            self._rollup(odef, fdef, doc, path)

    def _rollup(self, odef: ObjectDef, fdef: FieldDef, doc: _Doc, path: JsonPath) -> None:
        child = self._object_ref(doc, path + ("child_object",), fdef.child_object or "")
        if child is None:
            return
        rel = self._field_ref(doc, path + ("relationship_field",), child,
                              fdef.relationship_field or "", system=())
        if rel is not None and rel.type not in REFERENCE_TYPES:
            doc.problem(path + ("relationship_field",),
                        f"{rel.api_name!r} on {child.api_name} is {_type_name(rel)} field, "
                        "not a lookup or master_detail")
        elif rel is not None and rel.target != odef.api_name:
            doc.problem(path + ("relationship_field",),
                        f"{rel.api_name!r} on {child.api_name} points to {rel.target!r}, "
                        f"not to {odef.api_name!r}")
        if fdef.rollup_field is None:
            return
        source = self._field_ref(doc, path + ("field",), child, fdef.rollup_field)
        if source is None or fdef.function == "count":
            return
        kind = source.return_type if source.type == "formula" else source.type
        if source.type == "rollup":
            kind = "number"
        allowed = NUMERIC_TYPES | (TEMPORAL_TYPES if fdef.function in ("min", "max") else set())
        if kind not in allowed:
            what = "a number, currency, percent, date or datetime" \
                if fdef.function in ("min", "max") else "a number, currency or percent"
            doc.problem(path + ("field",), f"{fdef.function} needs {what} field; "
                                           f"{source.api_name!r} is {_type_name(source)} field")

    # -- flows --------------------------------------------------------------------------
    def flow(self, fdef: FlowDef, doc: _Doc) -> None:
        self._file_name(doc, ("api_name",), fdef.api_name)
        odef = self._object_ref(doc, ("object",), fdef.object)
        if isinstance(fdef, ApprovalFlowDef):
            self._duplicates(doc, ((("steps", i, "api_name"), s.api_name)
                                   for i, s in enumerate(fdef.steps)), "step")
            for i, step in enumerate(fdef.steps):
                for j, approver in enumerate(step.approvers):
                    if approver.kind in ("manager_of", "field"):
                        self._user_field(doc, ("steps", i, "approvers", j, approver.kind),
                                         odef, approver.value)
            for key in ("on_submit", "on_approve", "on_reject", "on_recall"):
                self._actions(fdef, odef, getattr(fdef, key), doc, (key,))
        elif isinstance(fdef, AutomationRuleDef):
            trigger = fdef.trigger
            for i, name in enumerate(trigger.fields):
                self._field_ref(doc, ("trigger", "field_changed", i), odef, name)
            if trigger.is_scheduled and trigger.date_field is not None:
                self._date_field(doc, ("trigger", trigger.kind, "field"), odef,
                                 trigger.date_field)
            self._actions(fdef, odef, fdef.actions, doc, ("actions",))

    def _date_field(self, doc: _Doc, path: JsonPath, odef: ObjectDef | None, name: str) -> None:
        if name in SYSTEM_FIELDS - SYSTEM_DATETIME_COLUMNS:
            doc.problem(path, f"{name!r} is a system field, not a date or datetime field")
            return
        fdef = self._field_ref(doc, path, odef, name, system=SYSTEM_DATETIME_COLUMNS)
        if fdef is None:
            return
        kind = fdef.return_type if fdef.type == "formula" else fdef.type
        if kind not in TEMPORAL_TYPES:
            doc.problem(path, f"{name!r} is {_type_name(fdef)} field, not a date or datetime "
                              "field")

    def _actions(self, flow: FlowDef, odef: ObjectDef | None, actions: Sequence[ActionDef],
                 doc: _Doc, path: JsonPath) -> None:
        deleted = isinstance(flow, AutomationRuleDef) and flow.trigger.kind == "deleted"
        for i, action in enumerate(actions):
            where = path + (i, action.kind)
            params = action.params
            if deleted and action.kind in ("update", "assign"):
                doc.problem(where, f"an {action.kind} action cannot change a deleted record")
            elif action.kind == "update":
                for name in params:
                    self._writable_field(doc, where + (name,), odef, name)
            elif action.kind == "create":
                target = self._object_ref(doc, where + ("object",), params["object"])
                for name in params["values"]:
                    self._writable_field(doc, where + ("values", name), target, name)
            elif action.kind == "assign" and "rules" in params:
                self._assignment_rule(doc, where + ("rules",), flow.object, params["rules"])
            elif action.kind == "notify":
                for j, recipient in enumerate(params["to"]):
                    ((kind, value),) = recipient.items()
                    if kind in ("field", "manager_of"):
                        self._user_field(doc, where + ("to", j, kind), odef, value)
            elif action.kind == "webhook":
                for j, name in enumerate(params.get("fields", ())):
                    self._field_ref(doc, where + ("fields", j), odef, name)

    def _assignment_rule(self, doc: _Doc, path: JsonPath, object_name: str, name: str) -> None:
        if not self.in_folder:
            return  # a lone file: the rule may be installed already
        rule = self.flows.get(name, (None, None))[0]
        if name not in self.flow_names or (rule is not None
                                           and not isinstance(rule, AssignmentRuleDef)):
            doc.problem(path, f"unknown assignment rule {name!r}")
        elif rule is not None and rule.object != object_name:
            doc.problem(path, f"assignment rule {name!r} assigns {rule.object} records, "
                              f"not {object_name}")

    # -- roles, users, data -------------------------------------------------------------
    def role(self, rdef: RoleDef, doc: _Doc) -> None:
        self._file_name(doc, ("api_name",), rdef.api_name)
        if rdef.api_name == ADMIN_ROLE:
            doc.problem(("api_name",), "'admin' is the built-in role that may do everything; "
                                       "choose another name")
        for name, rights in rdef.objects.items():
            self._object_ref(doc, ("objects", name), name)
            if rights and "read" not in rights:
                doc.problem(("objects", name), "rights to create, edit, delete or export "
                                               "need 'read' too")
        for key in rdef.fields:
            object_name, _, field_name = key.partition(".")
            odef = self._object_ref(doc, ("fields", key), object_name)
            self._field_ref(doc, ("fields", key), odef, field_name, system=())

    def users(self, users: tuple[UserDef, ...], doc: _Doc) -> None:
        self._duplicates(doc, (((i, "name"), u.name) for i, u in enumerate(users)), "user")
        for i, user in enumerate(users):
            for j, role in enumerate(user.roles):
                if self.in_folder and role not in self.role_names:
                    doc.problem((i, "roles", j), f"unknown role {role!r}")
            if user.manager == user.name:
                doc.problem((i, "manager"), "a user cannot be their own manager")

    def data(self, doc: _Doc) -> None:
        if doc.stem not in self.defs:
            doc.problem((), f"unknown object {doc.stem!r} (data/<object>.json holds records "
                            "of that object)")


# ---- the pipeline -----------------------------------------------------------------------


_KnownObjects = Iterable[str | ObjectDef]


def _known(known_objects: _KnownObjects) -> dict[str, ObjectDef | None]:
    known: dict[str, ObjectDef | None] = {}
    for item in known_objects:
        if isinstance(item, ObjectDef):
            known[item.api_name] = item
        else:
            known.setdefault(item, None)
    return known


def _load(docs: list[_Doc], known_objects: _KnownObjects, *, in_folder: bool) -> MetadataBundle:
    rank = {kind: i for i, kind in enumerate(KIND_ORDER)}
    docs.sort(key=lambda d: (rank.get(d.kind or "", len(rank)), d.relpath))
    for doc in docs:
        if doc.kind is None and not doc.problems:
            doc.problem((), "not a metadata document: expected app.json, objects/*.json, "
                            "flows/*.json, roles/*.json or data/*.json")
        elif doc.kind is not None and not doc.problems:
            for path, message in _schema_problems(doc.kind, doc.content):
                doc.problem(path, message)
            doc.valid = not doc.problems

    app: AppDef | None = None
    objects: dict[str, tuple[ObjectDef, _Doc]] = {}
    flows: dict[str, tuple[FlowDef, _Doc]] = {}
    roles: dict[str, tuple[RoleDef, _Doc]] = {}
    users: tuple[UserDef, ...] = ()
    data: dict[str, tuple[Mapping[str, Any], ...]] = {}
    for doc in (d for d in docs if d.valid):
        content = doc.content
        if doc.kind == "app":
            app = _app(content)
        elif doc.kind == "users":
            users = _users(content)
        elif doc.kind == "data":
            data[doc.stem] = tuple(dict(r) for r in content)
        elif doc.kind == "object":
            _register(objects, _object(content), doc)
        elif doc.kind == "flow":
            _register(flows, _flow(content), doc)
        elif doc.kind == "role":
            _register(roles, _role(content), doc)

    checks = _Checks(docs, objects, flows, _known(known_objects), in_folder=in_folder)
    for odef, doc in objects.values():
        checks.object(odef, doc)
    for fdef, doc in flows.values():
        checks.flow(fdef, doc)
    for rdef, doc in roles.values():
        checks.role(rdef, doc)
    for doc in docs:
        if doc.valid and doc.kind == "users":
            checks.users(users, doc)
        elif doc.valid and doc.kind == "data":
            checks.data(doc)

    problems = [str(p) for doc in docs for p in _in_document_order(doc)]
    if problems:
        raise MetadataError(problems)
    return MetadataBundle(app=app, objects=tuple(o for o, _ in objects.values()),
                          flows=tuple(f for f, _ in flows.values()),
                          roles=tuple(r for r, _ in roles.values()), data=data, users=users)


def _register(table: dict[str, tuple[Any, _Doc]], built: ObjectDef | FlowDef | RoleDef,
              doc: _Doc) -> None:
    if built.api_name in table:
        doc.problem(("api_name",), f"{doc.kind} {built.api_name!r} is also defined in "
                                   f"{table[built.api_name][1].shown}")
    else:
        table[built.api_name] = (built, doc)


def _in_document_order(doc: _Doc) -> list[Problem]:
    def position(problem: Problem) -> tuple[int, ...]:
        return _doc_order(doc.content, problem.path)

    return sorted(dict.fromkeys(doc.problems), key=position)


def _schema_problems(kind: str, content: Any) -> list[tuple[JsonPath, str]]:
    found: list[tuple[JsonPath, str]] = []
    for err in _validator(kind).iter_errors(content):
        found.extend(_explain(err))
    return found


# ---- public API -------------------------------------------------------------------------


def load_path(path: str | Path, known_objects: _KnownObjects = ()) -> MetadataBundle:
    """Load a metadata folder, or one object, flow, role or app JSON file.

    `known_objects` are objects installed already (names, or ObjectDefs to check field
    references too) that lookups, roll-ups, flows and roles may reference.
    Raises MetadataError listing every problem as `file: /json/pointer: message`.
    """
    shown = str(path)
    root = Path(path)
    if root.is_dir():
        return _load(_folder_docs(root), known_objects, in_folder=True)
    if root.is_file():
        return _load([_single_doc(root, shown)], known_objects, in_folder=False)
    raise MetadataError([f"{shown}: /: no such file or folder"])


def load_documents(docs: Mapping[str, Any],
                   known_objects: _KnownObjects = ()) -> MetadataBundle:
    """Load parsed documents keyed by their path in a folder (`"objects/lead.json"`).

    This is how stored versions are reloaded; `load_documents(bundle_documents(b)) == b`.
    """
    loaded = [_Doc(relpath, relpath, _kind_of(relpath), content)
              for relpath, content in docs.items()]
    return _load(loaded, known_objects, in_folder=True)


def bundle_documents(bundle: MetadataBundle) -> dict[str, Any]:
    """The canonical JSON documents of `bundle`, keyed by their path in a folder."""
    docs: dict[str, Any] = {}
    if bundle.app is not None:
        docs["app.json"] = bundle.app.to_json()
    for obj in bundle.objects:
        docs[f"objects/{obj.api_name}.json"] = obj.to_json()
    for flow in bundle.flows:
        docs[f"flows/{flow.api_name}.json"] = flow.to_json()
    for role in bundle.roles:
        docs[f"roles/{role.api_name}.json"] = role.to_json()
    for name, records in bundle.data.items():
        docs[f"data/{name}.json"] = [dict(r) for r in records]
    if bundle.users:
        docs[USERS_FILE] = [u.to_json() for u in bundle.users]
    return docs
