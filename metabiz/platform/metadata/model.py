"""Typed, frozen metadata: what the rest of metabiz reads instead of raw JSON.

loader.py validates JSON against the schemas beside this module and builds these;
each `to_json()` gives back the canonical JSON document (for versions and export).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

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


def _put(out: dict[str, Any], key: str, value: Any, omit: Any = None) -> None:
    """Set `key` unless `value` is the omitted default (keeps canonical JSON short)."""
    if value is not omit and value != omit:
        out[key] = value


def _label(label: Label | None) -> str | dict[str, str] | None:
    return None if label is None or not label.get() else label.to_json()


@dataclass(frozen=True)
class FieldDef:
    """One field of an object. Type-specific keys are None when they do not apply."""

    api_name: str
    type: str
    label: Label
    required: bool = False
    unique: bool = False
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
        _put(out, "required", self.required, False)
        _put(out, "unique", self.unique, False)
        _put(out, "default", self.default)
        _put(out, "help", _label(self.help))
        _put(out, "renamed_from", self.renamed_from)
        _put(out, "max_length", self.max_length)
        _put(out, "scale", self.scale)
        _put(out, "min", self.min)
        _put(out, "max", self.max)
        if self.values:
            out["values"] = [v.to_json() for v in self.values]
        _put(out, "target", self.target)
        if self.type == "lookup":
            _put(out, "on_delete", self.on_delete)
        _put(out, "format", self.format)
        _put(out, "return_type", self.return_type)
        _put(out, "formula", self.formula)
        if self.type == "formula":
            out["treat_blanks_as"] = self.treat_blanks_as
        _put(out, "child_object", self.child_object)
        _put(out, "relationship_field", self.relationship_field)
        _put(out, "function", self.function)
        _put(out, "field", self.rollup_field)
        _put(out, "filter", self.filter)
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
        _put(out, "field", self.field)
        _put(out, "active", self.active, True)
        return out


@dataclass(frozen=True)
class LayoutSection:
    label: Label  # empty text when the section has no heading
    columns: int
    fields: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        _put(out, "label", _label(self.label))
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
        _put(out, "filter", self.filter)
        _put(out, "sort", self.sort)
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
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def table_name(self) -> str:
        return f"obj_{self.api_name}"

    def field(self, api_name: str) -> FieldDef | None:
        for f in self.fields:
            if f.api_name == api_name:
                return f
        return None

    def layout(self, name: str = "default") -> LayoutDef | None:
        return next((lay for lay in self.layouts if lay.api_name == name), None)

    def list_view(self, name: str) -> ListViewDef | None:
        return next((v for v in self.list_views if v.api_name == name), None)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"api_name": self.api_name, "label": self.label.to_json()}
        _put(out, "plural_label", _label(self.plural_label))
        _put(out, "description", self.description)
        _put(out, "name_field", self.name_field)
        _put(out, "renamed_from", self.renamed_from)
        out["fields"] = [f.to_json() for f in self.fields]
        if self.validation_rules:
            out["validation_rules"] = [r.to_json() for r in self.validation_rules]
        if self.layouts:
            out["layouts"] = {lay.api_name: lay.to_json() for lay in self.layouts}
        if self.list_views:
            out["list_views"] = [v.to_json() for v in self.list_views]
        return out


# ---- flows -------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionDef:
    """One flow action: `update`, `create`, `assign`, `notify` or `webhook`.

    `params` is the action's validated JSON body (its shape is fixed per kind by the
    flow JSON Schema); the flows package turns it into its action classes.
    """

    kind: str
    params: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {self.kind: dict(self.params)}


def _actions(out: dict[str, Any], key: str, actions: tuple[ActionDef, ...]) -> None:
    if actions:
        out[key] = [a.to_json() for a in actions]


@dataclass(frozen=True)
class ApproverDef:
    kind: str  # user | role | manager_of | field
    value: str

    def to_json(self) -> dict[str, Any]:
        return {self.kind: self.value}


@dataclass(frozen=True)
class ApprovalStepDef:
    api_name: str
    label: Label
    approvers: tuple[ApproverDef, ...]
    mode: str = "any"  # any (或签) | all (会签)
    condition: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"api_name": self.api_name, "label": self.label.to_json()}
        _put(out, "condition", self.condition)
        out["approvers"] = [a.to_json() for a in self.approvers]
        out["mode"] = self.mode
        return out


@dataclass(frozen=True)
class ApprovalFlowDef:
    api_name: str
    object: str
    label: Label
    steps: tuple[ApprovalStepDef, ...]
    entry_condition: str | None = None
    lock_record: bool = True
    active: bool = True
    submitter_approver: str = "allow"  # allow | manager
    on_submit: tuple[ActionDef, ...] = ()
    on_approve: tuple[ActionDef, ...] = ()
    on_reject: tuple[ActionDef, ...] = ()
    on_recall: tuple[ActionDef, ...] = ()
    kind: str = "approval"
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"api_name": self.api_name, "kind": self.kind,
                               "object": self.object, "label": self.label.to_json()}
        _put(out, "active", self.active, True)
        _put(out, "entry_condition", self.entry_condition)
        out["lock_record"] = self.lock_record
        _put(out, "submitter_approver", self.submitter_approver, "allow")
        out["steps"] = [s.to_json() for s in self.steps]
        _actions(out, "on_submit", self.on_submit)
        _actions(out, "on_approve", self.on_approve)
        _actions(out, "on_reject", self.on_reject)
        _actions(out, "on_recall", self.on_recall)
        return out


@dataclass(frozen=True)
class TriggerDef:
    kind: str  # created | updated | deleted | field_changed | before_date | after_date
    fields: tuple[str, ...] = ()  # field_changed
    date_field: str | None = None  # before_date / after_date
    days: float = 0

    @property
    def is_scheduled(self) -> bool:
        """Time-based (run by the worker) rather than fired by a write."""
        return self.kind in ("before_date", "after_date")

    def to_json(self) -> str | dict[str, Any]:
        if self.kind == "field_changed":
            return {"field_changed": list(self.fields)}
        if self.is_scheduled:
            return {self.kind: {"field": self.date_field, "days": self.days}}
        return self.kind


@dataclass(frozen=True)
class AutomationRuleDef:
    api_name: str
    object: str
    label: Label
    trigger: TriggerDef
    actions: tuple[ActionDef, ...]
    condition: str | None = None
    active: bool = True
    kind: str = "automation"
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"api_name": self.api_name, "kind": self.kind,
                               "object": self.object, "label": self.label.to_json()}
        _put(out, "active", self.active, True)
        out["trigger"] = self.trigger.to_json()
        _put(out, "condition", self.condition)
        out["actions"] = [a.to_json() for a in self.actions]
        return out


@dataclass(frozen=True)
class AssignmentEntryDef:
    condition: str | None
    assignee: Mapping[str, Any]  # {"user": N} | {"role": R, "strategy": "round_robin"|"least_loaded"}

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        _put(out, "condition", self.condition)
        out["assignee"] = dict(self.assignee)
        return out


@dataclass(frozen=True)
class AssignmentRuleDef:
    api_name: str
    object: str
    label: Label
    entries: tuple[AssignmentEntryDef, ...]
    active: bool = True
    #: run on every new record of the object (without an automation rule's assign action)
    on_create: bool = False
    kind: str = "assignment"
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"api_name": self.api_name, "kind": self.kind,
                               "object": self.object, "label": self.label.to_json()}
        _put(out, "active", self.active, True)
        _put(out, "on_create", self.on_create, False)
        out["entries"] = [e.to_json() for e in self.entries]
        return out


FlowDef = ApprovalFlowDef | AutomationRuleDef | AssignmentRuleDef


# ---- roles and the app --------------------------------------------------------------

#: the rights a role grants on an object, in their canonical order
RIGHTS = ("read", "create", "edit", "delete", "export")


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
        _put(out, "password", self.password)
        _put(out, "display_name", self.display_name)
        _put(out, "email", self.email)
        if self.roles:
            out["roles"] = list(self.roles)
        _put(out, "manager", self.manager)
        _put(out, "language", self.language)
        return out


@dataclass(frozen=True)
class AppDef:
    name: str
    version: str
    label: Label
    description: str | None = None
    depends: tuple[str, ...] = ()  # names of apps whose objects this one uses

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "version": self.version,
                               "label": self.label.to_json()}
        _put(out, "description", self.description)
        if self.depends:
            out["depends"] = list(self.depends)
        return out


@dataclass(frozen=True)
class MetadataBundle:
    """A whole application: what `metabiz apply` takes and what a version stores."""

    app: AppDef | None
    objects: tuple[ObjectDef, ...] = ()
    flows: tuple[FlowDef, ...] = ()
    roles: tuple[RoleDef, ...] = ()
    #: demo records by object name (`data/<object>.json`)
    data: Mapping[str, tuple[Mapping[str, Any], ...]] = field(default_factory=dict)
    #: demo users (`data/_users.json`)
    users: tuple[UserDef, ...] = ()

    def object(self, api_name: str) -> ObjectDef | None:
        return next((o for o in self.objects if o.api_name == api_name), None)

    def flow(self, api_name: str) -> FlowDef | None:
        return next((f for f in self.flows if f.api_name == api_name), None)

    def role(self, api_name: str) -> RoleDef | None:
        return next((r for r in self.roles if r.api_name == api_name), None)

    def __iter__(self) -> Iterator[ObjectDef]:
        return iter(self.objects)
