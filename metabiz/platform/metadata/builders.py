"""JSON → frozen dataclasses for the kernel's document kinds: app, object, role and users.

Documents reach these only once their JSON Schema passed, so keys may be read directly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from metabiz.formulas import Calendar
from metabiz.platform.metadata.model import (
    AppDef,
    FieldDef,
    FollowUpDef,
    Label,
    LayoutDef,
    LayoutSection,
    ListViewDef,
    ObjectDef,
    PicklistValue,
    PoolDef,
    RoleDef,
    UserDef,
    ValidationRuleDef,
)

#: type-specific keys whose absence means a default (see object.json "default")
FIELD_DEFAULTS: dict[str, dict[str, Any]] = {
    "text": {"max_length": 255},
    "number": {"scale": 0},
    "currency": {"scale": 2},
    "percent": {"scale": 2},
    "lookup": {"on_delete": "restrict"},
    "master_detail": {"on_delete": "cascade", "required": True},
}


def _optional_label(raw: Any) -> Label | None:
    return None if raw is None else Label.of(raw)


def build_field(d: Mapping[str, Any]) -> FieldDef:
    ftype = d["type"]
    defaults = FIELD_DEFAULTS.get(ftype, {})

    def get(key: str) -> Any:
        return d.get(key, defaults.get(key))

    return FieldDef(
        api_name=d["api_name"], type=ftype, label=Label.of(d.get("label"), d["api_name"]),
        required=bool(get("required")), unique=d.get("unique", False),
        indexed=d.get("indexed", False),
        default=d.get("default"), help=_optional_label(d.get("help")),
        renamed_from=d.get("renamed_from"), max_length=get("max_length"), scale=get("scale"),
        min=d.get("min"), max=d.get("max"),
        values=tuple(PicklistValue(v["value"], Label.of(v.get("label"), v["value"]))
                     for v in d.get("values", ())),
        target=d.get("target"), on_delete=get("on_delete"), format=d.get("format"),
        match=tuple((d.get("match") or {}).items()), roles=tuple(d.get("roles", ())),
        max_size_mb=d.get("max_size_mb"), accept=tuple(d.get("accept", ())),
        return_type=d.get("return_type"), formula=d.get("formula"),
        treat_blanks_as=d.get("treat_blanks_as", "blank"),
        child_object=d.get("child_object"), relationship_field=d.get("relationship_field"),
        function=d.get("function"), rollup_field=d.get("field"), filter=d.get("filter"),
        raw=d,
    )


def build_object(d: Mapping[str, Any]) -> ObjectDef:
    return ObjectDef(
        api_name=d["api_name"], label=Label.of(d.get("label"), d["api_name"]),
        fields=tuple(build_field(f) for f in d["fields"]), name_field=d.get("name_field"),
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
            ListViewDef(v["api_name"], Label.of(v.get("label"), v["api_name"]),
                        tuple(v.get("columns", ())), v.get("filter"), v.get("sort"))
            for v in d.get("list_views", ())),
        pools=tuple(build_pool(p) for p in d.get("pools", ())),
        follow_up=FollowUpDef(**{**d["follow_up"], "values": dict(d["follow_up"].get("values", {}))})
        if "follow_up" in d else None,
        raw=d,
    )


def build_pool(d: Mapping[str, Any]) -> PoolDef:
    reasons = tuple(
        PicklistValue(r, Label.of(None, r)) if isinstance(r, str)
        else PicklistValue(r["value"], Label.of(r.get("label"), r["value"]))
        for r in d.get("return_reasons", ()))
    return PoolDef(api_name=d["api_name"], label=Label.of(d.get("label"), d["api_name"]),
                   members=tuple(d["members"]), admins=tuple(d.get("admins", ())),
                   claim_limit=d.get("claim_limit"), return_reasons=reasons,
                   adopt_field=d.get("adopt_field"))


def build_role(d: Mapping[str, Any]) -> RoleDef:
    return RoleDef(
        api_name=d["api_name"], label=Label.of(d.get("label"), d["api_name"]),
        objects={name: frozenset(rights) for name, rights in d.get("objects", {}).items()},
        record_access=d.get("record_access", "own"), fields=dict(d.get("fields", {})), raw=d)


def build_app(d: Mapping[str, Any]) -> AppDef:
    """The app; its calendars must have passed `crosscheck.calendar_problems`."""
    return AppDef(d["name"], d["version"], Label.of(d.get("label"), d["name"]),
                  d.get("description"), tuple(d.get("depends", ())),
                  tuple(Calendar.from_json(name, raw, d.get("timezone"))
                        for name, raw in d.get("calendars", {}).items()),
                  d.get("timezone"))


def build_users(d: Sequence[Mapping[str, Any]]) -> tuple[UserDef, ...]:
    return tuple(UserDef(u["name"], u.get("password"), u.get("display_name"), u.get("email"),
                         tuple(u.get("roles", ())), u.get("manager"), u.get("language"))
                 for u in d)
