"""The builder's forms ↔ metadata JSON: labels in two languages, a field of any type with the
keys its type takes, and where a JSON pointer's problem shows in a form.

Pure functions over posted form data (a `MultiDict`) and documents; no database, no Flask.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from werkzeug.datastructures import MultiDict

from metabiz.platform.metadata.crosscheck import UNINDEXED_TYPES
from metabiz.platform.request_input import whole_number

#: every field type, in the order the type picker shows them
FIELD_TYPES = ("text", "long_text", "number", "currency", "percent", "boolean", "date",
               "datetime", "email", "phone", "url", "picklist", "multi_picklist", "lookup",
               "master_detail", "user", "auto_number", "formula", "rollup")
#: the keys a type takes beside the common ones
TYPE_KEYS: dict[str, tuple[str, ...]] = {
    "text": ("max_length",), "number": ("scale", "min", "max"), "currency": ("scale",),
    "percent": ("scale",), "picklist": ("values",), "multi_picklist": ("values",),
    "lookup": ("target", "on_delete"), "master_detail": ("target",), "auto_number": ("format",),
    "formula": ("return_type", "formula", "treat_blanks_as"),
    "rollup": ("child_object", "relationship_field", "function", "field", "filter"),
}
#: types whose value is computed: no default, required or unique
COMPUTED = ("formula", "rollup", "auto_number")
RETURN_TYPES = ("number", "currency", "percent", "text", "boolean", "date", "datetime", "time",
                "location", "link", "image")
ROLLUP_FUNCTIONS = ("count", "sum", "min", "max", "avg")
#: types that take `"indexed": true` (a column a list can sort and filter on)
INDEXABLE = tuple(t for t in FIELD_TYPES if t not in UNINDEXED_TYPES)
_INTEGERS = ("max_length", "scale")
_NUMBERS = ("min", "max")


def label_parts(label: Any) -> tuple[str, str]:
    """A label (text or {"en", "zh"}) as its English and Chinese inputs."""
    if isinstance(label, dict):
        return str(label.get("en") or ""), str(label.get("zh") or "")
    return (str(label) if label else ""), ""


def label_from(form: Mapping[str, Any], prefix: str) -> str | dict[str, str] | None:
    """The label typed in `<prefix>_en` / `<prefix>_zh`: text, both languages, or None."""
    en = (form.get(f"{prefix}_en") or "").strip()
    zh = (form.get(f"{prefix}_zh") or "").strip()
    if en and zh:
        return {"en": en, "zh": zh}
    return en or zh or None


#: the most numbered rows (steps, sections, actions…) one form may post
MAX_ROWS = 200


def row_count(form: Mapping[str, Any], key: str, most: int = MAX_ROWS) -> int:
    """How many numbered rows a form says it has (`step_count`): a whole number in ASCII
    digits, at most `most`; anything else counts as none."""
    number = whole_number((form.get(key) or "").strip())
    return min(number, most) if number is not None else 0


def _number(raw: str, integer: bool) -> Any:
    """A typed number (ASCII digits, finite); text that is not one goes through as is (the
    schema names it)."""
    negative = raw.startswith("-")
    whole = whole_number(raw.removeprefix("-"))
    if whole is not None:
        return -whole if negative else whole
    if integer or not raw.isascii():
        return raw
    try:
        value = float(raw)
    except ValueError:
        return raw
    return value if math.isfinite(value) else raw


def picklist_values(form: MultiDict[str, str]) -> list[dict[str, Any]]:
    """The picklist rows in the order they were posted (the order the admin dragged)."""
    out = []
    for value, en, zh in zip(form.getlist("value_value"), form.getlist("value_en"),
                             form.getlist("value_zh"), strict=False):
        if not value.strip() and not en.strip():
            continue
        item: dict[str, Any] = {"value": value.strip() or en.strip().lower().replace(" ", "_")}
        label = label_from({"l_en": en, "l_zh": zh}, "l")
        if label is not None:
            item["label"] = label
        out.append(item)
    return out


def field_from_form(form: MultiDict[str, str], original: Mapping[str, Any] | None) -> dict[str, Any]:
    """The field document the form describes; a changed name renames (data kept)."""
    kind = form.get("type") or (original or {}).get("type") or "text"
    doc: dict[str, Any] = {"api_name": (form.get("api_name") or "").strip(), "type": kind}
    label = label_from(form, "label")
    if label is not None:
        doc["label"] = label
    if original is not None:
        old_name = original.get("api_name")
        if old_name and doc["api_name"] != old_name:
            doc["renamed_from"] = old_name
        elif original.get("renamed_from"):
            doc["renamed_from"] = original["renamed_from"]
    if kind not in COMPUTED:
        if form.get("required"):
            doc["required"] = True
        if form.get("unique"):
            doc["unique"] = True
        default = (form.get("default") or "").strip()
        if default:
            doc["default"] = default
    if form.get("indexed") and kind in INDEXABLE:
        doc["indexed"] = True
    help_text = label_from(form, "help")
    if help_text is not None:
        doc["help"] = help_text
    for key in TYPE_KEYS.get(kind, ()):
        if key == "values":
            doc["values"] = picklist_values(form)
            continue
        raw = (form.get(key) or "").strip()
        if not raw:
            continue
        if key in _INTEGERS or key in _NUMBERS:
            doc[key] = _number(raw, key in _INTEGERS)
        else:
            doc[key] = raw
    return doc


def field_view(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A field document as the form's inputs."""
    view: dict[str, Any] = {k: ("" if v is None else v) for k, v in doc.items()
                            if not isinstance(v, dict | list)}
    view["label_en"], view["label_zh"] = label_parts(doc.get("label"))
    view["help_en"], view["help_zh"] = label_parts(doc.get("help"))
    view["values"] = [{"value": v.get("value", ""), "en": label_parts(v.get("label"))[0],
                       "zh": label_parts(v.get("label"))[1]}
                      for v in doc.get("values", []) if isinstance(v, dict)]
    view.setdefault("type", "text")
    return view


def errors_at(fields: Mapping[str, list[str]], prefix: str) -> tuple[dict[str, list[str]],
                                                                      list[str]]:
    """Problems under the JSON pointer `prefix` by the form control they belong to (the
    pointer's next key), and the rest (shown at the top of the form)."""
    by_control: dict[str, list[str]] = {}
    general: list[str] = []
    for pointer, messages in fields.items():
        if prefix and pointer.startswith(prefix + "/"):
            control = pointer[len(prefix) + 1:].split("/", 1)[0]
            by_control.setdefault(control, []).extend(messages)
        elif not prefix and pointer != "/":
            by_control.setdefault(pointer.split("/")[1], []).extend(messages)
        else:
            general.extend(messages)
    return by_control, general
