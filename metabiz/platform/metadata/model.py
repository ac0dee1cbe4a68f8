"""Typed, frozen metadata of the kernel's kinds: what the rest of metabiz reads instead of JSON.

loader.py validates JSON against the schemas beside this module and builders.py builds these;
each `to_json()` gives back the canonical JSON document (for versions and export). Kinds
added by higher packages (flows, reports…) keep their definitions in `MetadataBundle.documents`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from metabiz.formulas import Calendar

LANGUAGES = ("en", "zh")


@dataclass(frozen=True)
class Label:
    """A free-text label, possibly localised: `"Stage"` or `{"en": "Stage", "zh": "阶段"}`."""

    texts: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, raw: str | Mapping[str, str] | None, fallback: str = "") -> Label:
        if raw is None:
            raw = fallback.replace("_", " ").capitalize()
        if isinstance(raw, str):
            return cls((("", raw),))
        # a fixed language order, so that {"zh", "en"} and {"en", "zh"} compare equal
        order = {lang: i for i, lang in enumerate(LANGUAGES)}
        items = sorted(raw.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))
        return cls(tuple(items))

    def get(self, lang: str = "en") -> str:
        texts = dict(self.texts)
        for key in (lang, "", "en"):
            if texts.get(key):
                return texts[key]
        return next(iter(texts.values()), "")

    def __str__(self) -> str:
        return self.get("en")

    def to_json(self) -> str | dict[str, str]:
        if len(self.texts) == 1 and self.texts[0][0] == "":
            return self.texts[0][1]
        return dict(self.texts)


@dataclass(frozen=True)
class PicklistValue:
    value: str
    label: Label

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "label": self.label.to_json()}


def set_unless_default(out: dict[str, Any], key: str, value: Any, omit: Any = None) -> None:
    """Set `key` unless `value` is the omitted default (keeps canonical JSON short)."""
    if value is not omit and value != omit:
        out[key] = value


def label_json(label: Label | None) -> str | dict[str, str] | None:
    return None if label is None or not label.get() else label.to_json()


@dataclass(frozen=True)
class FieldDef:
    """One field of an object. Type-specific keys are None when they do not apply."""

    api_name: str
    type: str
    label: Label
    required: bool = False
    unique: bool = False
    #: a database index on the column, so list views sort and filter on it quickly
    indexed: bool = False
    default: str | None = None  # a formula
    help: Label | None = None
    renamed_from: str | None = None
    # text
    max_length: int | None = None
    # number / currency / percent
    scale: int | None = None
    min: float | None = None
    max: float | None = None
    # picklist / multi_picklist
    values: tuple[PicklistValue, ...] = ()
    # lookup / master_detail
    target: str | None = None
    on_delete: str | None = None  # restrict | set_null | cascade (master_detail)
    #: lookup: (target field, this record's field or a required True/False), see `match`
    match: tuple[tuple[str, str | bool], ...] = ()
    # user: the chosen user must hold one of these roles
    roles: tuple[str, ...] = ()
    # file / image
    max_size_mb: float | None = None
    accept: tuple[str, ...] = ()
    # auto_number
    format: str | None = None
    # formula
    return_type: str | None = None
    formula: str | None = None
    treat_blanks_as: str = "blank"
    # rollup
    child_object: str | None = None
    relationship_field: str | None = None
    function: str | None = None
    rollup_field: str | None = None  # JSON key "field"
    filter: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_computed(self) -> bool:
        return self.type in ("formula", "rollup", "auto_number")

    def picklist_values(self) -> tuple[str, ...]:
        return tuple(v.value for v in self.values)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"api_name": self.api_name, "type": self.type,
                               "label": self.label.to_json()}
        set_unless_default(out, "required", self.required, False)
        set_unless_default(out, "unique", self.unique, False)
        set_unless_default(out, "indexed", self.indexed, False)
        set_unless_default(out, "default", self.default)
        set_unless_default(out, "help", label_json(self.help))
        set_unless_default(out, "renamed_from", self.renamed_from)
        set_unless_default(out, "max_length", self.max_length)
        set_unless_default(out, "scale", self.scale)
        set_unless_default(out, "min", self.min)
        set_unless_default(out, "max", self.max)
        if self.values:
            out["values"] = [v.to_json() for v in self.values]
        set_unless_default(out, "target", self.target)
        if self.type == "lookup":
            set_unless_default(out, "on_delete", self.on_delete)
        if self.match:
            out["match"] = dict(self.match)
        if self.roles:
            out["roles"] = list(self.roles)
        set_unless_default(out, "max_size_mb", self.max_size_mb)
        if self.accept:
            out["accept"] = list(self.accept)
        set_unless_default(out, "format", self.format)
        set_unless_default(out, "return_type", self.return_type)
        set_unless_default(out, "formula", self.formula)
        if self.type == "formula":
            out["treat_blanks_as"] = self.treat_blanks_as
        set_unless_default(out, "child_object", self.child_object)
        set_unless_default(out, "relationship_field", self.relationship_field)
        set_unless_default(out, "function", self.function)
        set_unless_default(out, "field", self.rollup_field)
        set_unless_default(out, "filter", self.filter)
        return out


@dataclass(frozen=True)
class ValidationRuleDef:
    api_name: str
    error_condition: str
    message: Label
    field: str | None = None
    active: bool = True

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"api_name": self.api_name,
                               "error_condition": self.error_condition,
                               "message": self.message.to_json()}
        set_unless_default(out, "field", self.field)
        set_unless_default(out, "active", self.active, True)
        return out


@dataclass(frozen=True)
class LayoutSection:
    label: Label  # empty text when the section has no heading
    columns: int
    fields: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        set_unless_default(out, "label", label_json(self.label))
        out["columns"] = self.columns
        out["fields"] = list(self.fields)
        return out


@dataclass(frozen=True)
class LayoutDef:
    api_name: str
    sections: tuple[LayoutSection, ...]

    def to_json(self) -> dict[str, Any]:
        return {"sections": [s.to_json() for s in self.sections]}


@dataclass(frozen=True)
class ListViewDef:
    api_name: str
    label: Label
    columns: tuple[str, ...] = ()  # () = the list page chooses
    filter: str | None = None
    sort: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"api_name": self.api_name, "label": self.label.to_json()}
        if self.columns:
            out["columns"] = list(self.columns)
        set_unless_default(out, "filter", self.filter)
        set_unless_default(out, "sort", self.sort)
        return out


@dataclass(frozen=True)
class PoolDef:
    """A public pool (公海) of an object: records without an owner that members may claim."""

    api_name: str
    label: Label
    members: tuple[str, ...]  # roles whose users see and claim the pool's records
    admins: tuple[str, ...] = ()  # roles whose users assign them (and see them)
    claim_limit: int | None = None  # records from this pool one user may hold at once
    return_reasons: tuple[PicklistValue, ...] = ()
    adopt_field: str | None = None  # boolean field moved into the pool when it is new

    def reason(self, value: str) -> PicklistValue | None:
        return next((r for r in self.return_reasons if r.value == value), None)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"api_name": self.api_name, "label": self.label.to_json(),
                               "members": list(self.members)}
        if self.admins:
            out["admins"] = list(self.admins)
        set_unless_default(out, "claim_limit", self.claim_limit)
        if self.return_reasons:
            out["return_reasons"] = [r.to_json() for r in self.return_reasons]
        set_unless_default(out, "adopt_field", self.adopt_field)
        return out


@dataclass(frozen=True)
class FollowUpDef:
    """What "Log a follow-up" on a record of the object creates: a child record."""

    object: str  # the child object (a task, a visit)
    link: str  # its lookup / master-detail field pointing to the record
    subject: str  # its text field taking the first line of what was typed
    text: str | None = None  # its (long) text field taking all of it
    values: Mapping[str, Any] = field(default_factory=dict)  # fixed values, as in the API
    stamp: str | None = None  # a date(time) field of the record set to now

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"object": self.object, "link": self.link, "subject": self.subject}
        set_unless_default(out, "text", self.text)
        if self.values:
            out["values"] = dict(self.values)
        set_unless_default(out, "stamp", self.stamp)
        return out


@dataclass(frozen=True)
class ObjectDef:
    api_name: str
    label: Label
    fields: tuple[FieldDef, ...]
    name_field: str | None = None
    plural_label: Label | None = None
    description: str | None = None
    renamed_from: str | None = None
    validation_rules: tuple[ValidationRuleDef, ...] = ()
    layouts: tuple[LayoutDef, ...] = ()
    list_views: tuple[ListViewDef, ...] = ()
    pools: tuple[PoolDef, ...] = ()
    follow_up: FollowUpDef | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def table_name(self) -> str:
        return f"obj_{self.api_name}"

    @property
    def icon(self) -> str | None:
        """The optional icon's name (object.json's `icon`)."""
        icon = self.raw.get("icon")
        return icon if isinstance(icon, str) else None

    def field(self, api_name: str) -> FieldDef | None:
        for f in self.fields:
            if f.api_name == api_name:
                return f
        return None

    def layout(self, name: str = "default") -> LayoutDef | None:
        return next((lay for lay in self.layouts if lay.api_name == name), None)

    def list_view(self, name: str) -> ListViewDef | None:
        return next((v for v in self.list_views if v.api_name == name), None)

    def pool(self, name: str) -> PoolDef | None:
        return next((p for p in self.pools if p.api_name == name), None)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"api_name": self.api_name, "label": self.label.to_json()}
        set_unless_default(out, "plural_label", label_json(self.plural_label))
        set_unless_default(out, "description", self.description)
        set_unless_default(out, "name_field", self.name_field)
        set_unless_default(out, "renamed_from", self.renamed_from)
        out["fields"] = [f.to_json() for f in self.fields]
        if self.validation_rules:
            out["validation_rules"] = [r.to_json() for r in self.validation_rules]
        if self.layouts:
            out["layouts"] = {lay.api_name: lay.to_json() for lay in self.layouts}
        if self.list_views:
            out["list_views"] = [v.to_json() for v in self.list_views]
        if self.pools:
            out["pools"] = [p.to_json() for p in self.pools]
        if self.follow_up is not None:
            out["follow_up"] = self.follow_up.to_json()
        return out


# ---- roles and the app --------------------------------------------------------------

#: the rights a role grants on an object, in their canonical order
RIGHTS = ("read", "create", "edit", "delete", "export", "import")


@dataclass(frozen=True)
class RoleDef:
    api_name: str
    label: Label
    objects: Mapping[str, frozenset[str]]
    record_access: str = "own"  # own | all
    fields: Mapping[str, str] = field(default_factory=dict)  # "object.field" -> hidden|read_only
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"api_name": self.api_name, "label": self.label.to_json()}
        out["objects"] = {name: [r for r in RIGHTS if r in rights]
                          for name, rights in self.objects.items()}
        out["record_access"] = self.record_access
        if self.fields:
            out["fields"] = dict(self.fields)
        return out


@dataclass(frozen=True)
class UserDef:
    """A demo user from `data/_users.json`, created by `template install --demo-data`."""

    name: str
    password: str | None = None
    display_name: str | None = None
    email: str | None = None
    roles: tuple[str, ...] = ()
    manager: str | None = None
    language: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        set_unless_default(out, "password", self.password)
        set_unless_default(out, "display_name", self.display_name)
        set_unless_default(out, "email", self.email)
        if self.roles:
            out["roles"] = list(self.roles)
        set_unless_default(out, "manager", self.manager)
        set_unless_default(out, "language", self.language)
        return out


@dataclass(frozen=True)
class AppDef:
    name: str
    version: str
    label: Label
    description: str | None = None
    depends: tuple[str, ...] = ()  # names of apps whose objects this one uses
    #: business calendars (app.json "calendars"), for NETWORKDAYS and WORKDAY
    calendars: tuple[Calendar, ...] = ()
    #: the IANA time zone datetimes are shown and entered in (app.json "timezone", None:
    #: UTC) unless the user chose another; reports bucket dates in it
    timezone: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "version": self.version,
                               "label": self.label.to_json()}
        set_unless_default(out, "description", self.description)
        if self.depends:
            out["depends"] = list(self.depends)
        if self.calendars:
            out["calendars"] = {c.name: calendar_json(c) for c in self.calendars}
        set_unless_default(out, "timezone", self.timezone)
        return out


def calendar_json(calendar: Calendar) -> dict[str, list[str]]:
    """A calendar as app.json holds it, its dates in order."""
    out: dict[str, list[str]] = {}
    for key, days in (("holidays", calendar.holidays), ("workdays", calendar.workdays)):
        if days:
            out[key] = [d.isoformat() for d in sorted(days)]
    if calendar.hours is not None:
        out["hours"] = [f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}" for ms in calendar.hours]
    return out


@dataclass(frozen=True)
class MetadataBundle:
    """A whole application: what `metabiz apply` takes and what a version stores."""

    app: AppDef | None
    objects: tuple[ObjectDef, ...] = ()
    roles: tuple[RoleDef, ...] = ()
    #: demo records by object name (`data/<object>.json`)
    data: Mapping[str, tuple[Mapping[str, Any], ...]] = field(default_factory=dict)
    #: demo users (`data/_users.json`)
    users: tuple[UserDef, ...] = ()
    #: the definitions of the kinds higher packages add, by kind name (`"flow"`); a kind
    #: without any definition is left out
    documents: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    #: the business calendars of every app in the bundle (names are global across apps)
    calendars: tuple[Calendar, ...] = ()

    def object(self, api_name: str) -> ObjectDef | None:
        return next((o for o in self.objects if o.api_name == api_name), None)

    def role(self, api_name: str) -> RoleDef | None:
        return next((r for r in self.roles if r.api_name == api_name), None)

    def definitions(self, kind: str) -> tuple[Any, ...]:
        """Every definition of an added kind (`bundle.definitions("flow")`)."""
        return tuple(self.documents.get(kind, ()))

    def definition(self, kind: str, api_name: str) -> Any | None:
        """One definition of an added kind by its api_name."""
        return next((d for d in self.documents.get(kind, ()) if d.api_name == api_name), None)

    def __iter__(self) -> Iterator[ObjectDef]:
        return iter(self.objects)
