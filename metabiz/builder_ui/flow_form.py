"""Approval flows and automation rules ↔ the builder's forms: steps with approvers of every
kind, any/all, conditions and locking; triggers, conditions and field updates; and the
steps as a diagram.

Actions the forms do not edit (create, assign, notify, webhook) are kept as they were.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from werkzeug.datastructures import MultiDict

from metabiz.builder_ui.field_form import label_from, label_parts

APPROVER_KINDS = ("user", "role", "manager_of", "field")
TRIGGERS = ("created", "updated", "deleted", "field_changed", "before_date", "after_date")
#: blank rows offered beside the existing ones
SPARE_STEPS = 2
SPARE_APPROVERS = 2
SPARE_UPDATES = 2


def _updates(form: MultiDict[str, str], prefix: str) -> list[dict[str, Any]]:
    """`update` actions from the field/formula rows `<prefix>_field` / `<prefix>_value`."""
    values = {field: formula.strip() for field, formula in
              zip(form.getlist(f"{prefix}_field"), form.getlist(f"{prefix}_value"), strict=False)
              if field and formula.strip()}
    return [{"update": values}] if values else []


def _kept(actions: Any) -> list[Any]:
    """The actions the form does not edit, kept as they were."""
    return [a for a in actions or [] if not (isinstance(a, dict) and "update" in a)]


def update_rows(actions: Any) -> list[dict[str, str]]:
    """The field/formula rows of a list of actions' `update`s, plus blank ones."""
    rows = [{"field": field, "value": formula} for action in actions or []
            if isinstance(action, dict) and isinstance(action.get("update"), dict)
            for field, formula in action["update"].items()]
    return rows + [{"field": "", "value": ""}] * SPARE_UPDATES


def approval_from_form(form: MultiDict[str, str], original: Mapping[str, Any]) -> dict[str, Any]:
    doc: dict[str, Any] = {"api_name": (form.get("api_name") or "").strip(),
                           "kind": "approval", "object": form.get("object", "")}
    label = label_from(form, "label")
    if label is not None:
        doc["label"] = label
    if not form.get("active"):
        doc["active"] = False
    condition = (form.get("entry_condition") or "").strip()
    if condition:
        doc["entry_condition"] = condition
    doc["lock_record"] = bool(form.get("lock_record"))
    steps = []
    for i in range(int(form.get("step_count") or 0)):
        name = (form.get(f"step{i}_api_name") or "").strip()
        if not name:
            continue
        step: dict[str, Any] = {"api_name": name}
        step_label = label_from(form, f"step{i}_label")
        if step_label is not None:
            step["label"] = step_label
        step_condition = (form.get(f"step{i}_condition") or "").strip()
        if step_condition:
            step["condition"] = step_condition
        step["approvers"] = [{kind: value.strip()} for kind, value in
                             zip(form.getlist(f"step{i}_approver_kind"),
                                 form.getlist(f"step{i}_approver_value"), strict=False)
                             if kind in APPROVER_KINDS and value.strip()]
        step["mode"] = "all" if form.get(f"step{i}_mode") == "all" else "any"
        steps.append(step)
    doc["steps"] = steps
    for key in ("on_approve", "on_reject"):
        actions = _updates(form, key) + _kept(original.get(key))
        if actions:
            doc[key] = actions
    for key in ("on_submit", "on_recall", "submitter_approver"):
        if key in original:
            doc[key] = original[key]
    return doc


def approval_view(doc: Mapping[str, Any]) -> dict[str, Any]:
    steps = []
    for step in [*doc.get("steps", []), *({} for _ in range(SPARE_STEPS))]:
        approvers = [next(iter(a.items())) for a in step.get("approvers", [])
                     if isinstance(a, dict) and a]
        steps.append({"api_name": step.get("api_name", ""),
                      "label": label_parts(step.get("label")),
                      "condition": step.get("condition", ""), "mode": step.get("mode", "any"),
                      "approvers": approvers + [("user", "")] * SPARE_APPROVERS})
    return {"steps": steps, "on_approve": update_rows(doc.get("on_approve")),
            "on_reject": update_rows(doc.get("on_reject")),
            "kept": {k: _kept(doc.get(k)) for k in ("on_approve", "on_reject")}}


def automation_from_form(form: MultiDict[str, str],
                         original: Mapping[str, Any]) -> dict[str, Any]:
    doc: dict[str, Any] = {"api_name": (form.get("api_name") or "").strip(),
                           "kind": "automation", "object": form.get("object", "")}
    label = label_from(form, "label")
    if label is not None:
        doc["label"] = label
    if not form.get("active"):
        doc["active"] = False
    trigger = form.get("trigger", "created")
    if trigger == "field_changed":
        doc["trigger"] = {"field_changed": [f for f in form.getlist("trigger_fields") if f]}
    elif trigger in ("before_date", "after_date"):
        days = form.get("trigger_days", "0").strip()
        doc["trigger"] = {trigger: {"field": form.get("trigger_date_field", ""),
                                    "days": int(days) if days.isdigit() else days}}
    else:
        doc["trigger"] = trigger
    condition = (form.get("condition") or "").strip()
    if condition:
        doc["condition"] = condition
    doc["actions"] = _updates(form, "actions") + _kept(original.get("actions"))
    if original.get("timing"):
        doc["timing"] = original["timing"]
    return doc


def automation_view(doc: Mapping[str, Any]) -> dict[str, Any]:
    trigger = doc.get("trigger", "created")
    view: dict[str, Any] = {"trigger": trigger, "fields": [], "date_field": "", "days": ""}
    if isinstance(trigger, dict) and trigger:
        kind, value = next(iter(trigger.items()))
        view["trigger"] = kind
        if kind == "field_changed":
            view["fields"] = list(value)
        elif isinstance(value, dict):
            view["date_field"], view["days"] = value.get("field", ""), value.get("days", "")
    view["actions"] = update_rows(doc.get("actions"))
    view["kept"] = _kept(doc.get("actions"))
    return view


def diagram(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The flow as boxes in order: its start, each step (or action), its end."""
    if doc.get("kind") == "automation":
        trigger = doc.get("trigger")
        boxes = [{"kind": "start", "title": "trigger",
                  "text": trigger if isinstance(trigger, str) else
                  ", ".join(f"{k}: {v}" for k, v in (trigger or {}).items())}]
        if doc.get("condition"):
            boxes.append({"kind": "condition", "title": "condition", "text": doc["condition"]})
        for action in doc.get("actions", []):
            if isinstance(action, dict) and action:
                kind, value = next(iter(action.items()))
                text = ", ".join(f"{k} = {v}" for k, v in value.items()) \
                    if kind == "update" and isinstance(value, dict) else kind
                boxes.append({"kind": "action", "title": kind, "text": text})
        return boxes
    boxes = [{"kind": "start", "title": "entry_condition",
              "text": doc.get("entry_condition") or "—"}]
    for step in doc.get("steps", []):
        approvers = ", ".join(f"{k}: {v}" for a in step.get("approvers", [])
                              if isinstance(a, dict) for k, v in a.items())
        boxes.append({"kind": "step", "title": step.get("label") or step.get("api_name"),
                      "text": approvers, "mode": step.get("mode", "any"),
                      "condition": step.get("condition")})
    boxes.append({"kind": "end", "title": "approved", "text": ""})
    return boxes
