"""Typed, frozen metadata: what the rest of metabiz reads instead of raw JSON.

The loader validates JSON against the JSON Schemas beside this module and builds
these dataclasses; `to_json()` gives back the canonical JSON (for versions/export).
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
        return cls(tuple((k, v) for k, v in raw.items()))

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
        return dict(self.raw)


@dataclass(frozen=True)
class ValidationRuleDef:
    api_name: str
    error_condition: str
    message: Label
    field: str | None = None
    active: bool = True


@dataclass(frozen=True)
class LayoutSection:
    label: Label
    columns: int
    fields: tuple[str, ...]


@dataclass(frozen=True)
class LayoutDef:
    api_name: str
    sections: tuple[LayoutSection, ...]


@dataclass(frozen=True)
class ListViewDef:
    api_name: str
    label: Label
    columns: tuple[str, ...] = ()
    filter: str | None = None
    sort: str | None = None


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
        return dict(self.raw)


# ---- flows -------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionDef:
    """One flow action: `update`, `create`, `assign`, `notify` or `webhook`.

    `params` is the action's validated JSON body (its shape is fixed per kind by the
    flow JSON Schema); the flows package turns it into its action classes.
    """

    kind: str
    params: Mapping[str, Any]


@dataclass(frozen=True)
class ApproverDef:
    kind: str  # user | role | manager_of | field
    value: str


@dataclass(frozen=True)
class ApprovalStepDef:
    api_name: str
    label: Label
    approvers: tuple[ApproverDef, ...]
    mode: str = "any"  # any (或签) | all (会签)
    condition: str | None = None


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


@dataclass(frozen=True)
class TriggerDef:
    kind: str  # created | updated | deleted | field_changed | before_date | after_date
    fields: tuple[str, ...] = ()  # field_changed
    date_field: str | None = None  # before_date / after_date
    days: float = 0


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


@dataclass(frozen=True)
class AssignmentEntryDef:
    condition: str | None
    assignee: Mapping[str, Any]  # {"user": N} | {"role": R, "strategy": "round_robin"|"least_loaded"}


@dataclass(frozen=True)
class AssignmentRuleDef:
    api_name: str
    object: str
    label: Label
    entries: tuple[AssignmentEntryDef, ...]
    active: bool = True
    kind: str = "assignment"
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


FlowDef = ApprovalFlowDef | AutomationRuleDef | AssignmentRuleDef


# ---- roles and the app --------------------------------------------------------------


@dataclass(frozen=True)
class RoleDef:
    api_name: str
    label: Label
    objects: Mapping[str, frozenset[str]]
    record_access: str = "own"  # own | all
    fields: Mapping[str, str] = field(default_factory=dict)  # "object.field" -> hidden|read_only
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class AppDef:
    name: str
    version: str
    label: Label
    description: str | None = None


@dataclass(frozen=True)
class MetadataBundle:
    """A whole application: what `metabiz apply` takes and what a version stores."""

    app: AppDef | None
    objects: tuple[ObjectDef, ...] = ()
    flows: tuple[FlowDef, ...] = ()
    roles: tuple[RoleDef, ...] = ()
    data: Mapping[str, tuple[Mapping[str, Any], ...]] = field(default_factory=dict)

    def object(self, api_name: str) -> ObjectDef | None:
        return next((o for o in self.objects if o.api_name == api_name), None)

    def flow(self, api_name: str) -> FlowDef | None:
        return next((f for f in self.flows if f.api_name == api_name), None)

    def role(self, api_name: str) -> RoleDef | None:
        return next((r for r in self.roles if r.api_name == api_name), None)

    def __iter__(self) -> Iterator[ObjectDef]:
        return iter(self.objects)
