"""The plan of an apply: its changes, one line each, and how they are described and rendered.

`Plan.render()` prints what `metabiz apply` did (or, with --dry-run, would do), in the manner
of `terraform plan`; the functions below say in words what changed in a field or an object.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from metabiz.platform.metadata.model import FieldDef, Label, ObjectDef

#: a plan line's sign → (dry run, applied) wording of its count
SIGNS = {"+": ("to add", "added"), "~": ("to change", "changed"),
         "→": ("to rename", "renamed"), "-": ("to remove", "removed")}


@dataclass
class Change:
    """One line of a plan: + add, ~ change, → rename or - remove, with details below it."""

    sign: str
    text: str
    details: list[str] = field(default_factory=list)


@dataclass
class Plan:
    """What an apply did (or, with --dry-run, would do), one change a line like `terraform plan`."""

    changes: list[Change] = field(default_factory=list)
    version: int | None = None
    dry_run: bool = False
    #: the version the plan starts from
    base: int = 0

    @property
    def steps(self) -> list[str]:
        return [change.text for change in self.changes]

    def add(self, sign: str, text: str) -> Change:
        change = Change(sign, text)
        self.changes.append(change)
        return change

    def render(self) -> str:
        if self.dry_run:
            tail = "dry run: nothing was changed"
        elif self.version is None:
            tail = "metadata unchanged"
        else:
            tail = f"applied as version {self.version}"
        if not self.changes:
            return "\n".join(["no changes", tail])
        title = "Plan" if self.dry_run else "Changes"
        lines = [f"{title}: metadata version {self.base} → {self.base + 1}", ""]
        for change in self.changes:
            lines.append(f"  {change.sign} {change.text}")
            lines.extend(f"      {detail}" for detail in change.details)
        counts = [f"{n} {words[0 if self.dry_run else 1]}" for sign, words in SIGNS.items()
                  if (n := sum(c.sign == sign for c in self.changes))]
        return "\n".join([*lines, "", ", ".join(counts) + ".", tail])


# -- describing a change ------------------------------------------------------------------

#: FieldDef attributes shown by name only when they change (their values are long)
_NAMED_ONLY = {"label", "help", "formula", "filter", "values"}
_NOT_OPTIONS = {"api_name", "type", "renamed_from", "raw", "required", "unique"}


def option_parts(before: FieldDef, after: FieldDef) -> list[str]:
    """What changed in a field besides its name and type: `max_length 20 → 10`, …"""
    parts = []
    for attribute in dataclasses.fields(FieldDef):
        key = attribute.name
        old, new = getattr(before, key), getattr(after, key)
        if key in _NOT_OPTIONS or old == new:
            continue
        if key == "values":
            removed = [v for v in before.picklist_values() if v not in after.picklist_values()]
            added = [v for v in after.picklist_values() if v not in before.picklist_values()]
            if removed:
                parts.append("remove picklist values " + ", ".join(map(repr, removed)))
            if added:
                parts.append("add picklist values " + ", ".join(map(repr, added)))
            if not removed and not added:
                parts.append("picklist labels or order")
        elif key == "label" and old == Label.of(None, before.api_name) \
                and new == Label.of(None, after.api_name):
            continue  # a label made from the api_name follows a rename by itself
        elif key in _NAMED_ONLY:
            parts.append(key)
        else:
            name = "field" if key == "rollup_field" else key
            parts.append(f"{name} {shown(old)} → {shown(new)}")
    if before.required and not after.required:
        parts.append("no longer required")
    if before.unique and not after.unique:
        parts.append("no longer unique")
    return parts


def object_parts(before: ObjectDef, after: ObjectDef) -> list[str]:
    """What changed in an object that holds no data: labels, rules, layouts, list views,
    pools."""
    parts = []
    if (before.label, before.plural_label, before.description) != \
            (after.label, after.plural_label, after.description):
        parts.append("labels")
    for key, name in (("name_field", "name field"), ("validation_rules", "validation rules"),
                      ("layouts", "layouts"), ("list_views", "list views"),
                      ("pools", "pools")):
        if getattr(before, key) != getattr(after, key):
            parts.append(name)
    return parts


def describe_documents(plan: Plan, stored: Mapping[str, Any],
                       documents: Mapping[str, Any]) -> None:
    """Plan lines for the documents that hold no data: flows, roles, app manifests and the
    documents of higher packages' kinds (reports, dashboards…)."""
    def kinds(docs: Mapping[str, Any]) -> dict[str, tuple[str, Any]]:
        found = {}
        for key, doc in docs.items():
            app, _, rel = key.partition("/")
            folder, _, file_name = rel.partition("/")
            if file_name and folder not in ("objects", "data"):
                found[f"{folder[:-1]} {file_name.removesuffix('.json')}"] = (key, doc)
            elif rel == "app.json":
                found[f"app {app}"] = (key, doc)
        return found

    before, after = kinds(stored), kinds(documents)
    for name in sorted(after.keys() - before.keys()):
        plan.add("+", f"add {name}")
    for name in sorted(after.keys() & before.keys()):
        if after[name][1] != before[name][1]:
            plan.add("~", f"change {name}")
    for name in sorted(before.keys() - after.keys()):
        plan.add("-", f"remove {name}")


# -- words for values and counts ----------------------------------------------------------


def shown(value: Any) -> str:
    """An option's value as a plan line shows it: `none`, `'text'`, `10`."""
    return "none" if value is None else repr(value) if isinstance(value, str) else f"{value}"


def plural(count: int, noun: str) -> str:
    """`1 record`, `3 records`."""
    return f"{count} {noun}" + ("" if count == 1 else "s")


def short(value: Any) -> str:
    """A stored value, quoted and cut to 40 characters, for the lists in refusals."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "...'"
