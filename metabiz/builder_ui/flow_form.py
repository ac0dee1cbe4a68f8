"""Approval flows and automation rules ↔ the builder's forms: steps with approvers of every
kind, any/all, conditions and locking; triggers, timing and conditions; the actions of every
kind (flow_actions.py); and the flow as a diagram.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from werkzeug.datastructures import MultiDict

from metabiz.builder_ui.field_form import label_from, label_parts, row_count
from metabiz.builder_ui.flow_actions import actions_from_form, actions_view, summary
from metabiz.platform.request_input import whole_number

APPROVER_KINDS = ("user", "role", "manager_of", "field")
TRIGGERS = ("created", "updated", "deleted", "field_changed", "before_date", "after_date")
#: blank rows offered beside the existing ones
SPARE_STEPS = 2
SPARE_APPROVERS = 2
#: an approval flow's action lists, in the order a request meets them
APPROVAL_ACTIONS = ("on_submit", "on_approve", "on_reject", "on_recall")
TIMINGS = ("after_save", "before_save")
SPARE_ENTRIES = 2


def _flow_head(form: MultiDict[str, str], kind: str) -> dict[str, Any]:
    """What every kind of flow's form starts with: its name, kind, object, label and whether
    it is active (the box unticked: `"active": false`)."""
    doc: dict[str, Any] = {"api_name": (form.get("api_name") or "").strip(),
                           "kind": kind, "object": form.get("object", "")}
    label = label_from(form, "label")
    if label is not None:
        doc["label"] = label
    if not form.get("active"):
        doc["active"] = False
    return doc


def approval_from_form(form: MultiDict[str, str], original: Mapping[str, Any]) -> dict[str, Any]:
    doc = _flow_head(form, "approval")
    condition = (form.get("entry_condition") or "").strip()
    if condition:
        doc["entry_condition"] = condition
    doc["lock_record"] = bool(form.get("lock_record"))
    if form.get("lock_after_approval"):
        doc["lock_after_approval"] = True
    steps = []
    for i in range(row_count(form, "step_count")):
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
    for key in APPROVAL_ACTIONS:
        actions = actions_from_form(form, key)
        if actions:
            doc[key] = actions
    resubmit = [f for f in form.getlist("resubmit_on_change") if f]
    if resubmit:
        doc["resubmit_on_change"] = resubmit
    if form.get("submitter_approver") == "manager":
        doc["submitter_approver"] = "manager"
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
    return {"steps": steps, **{key: actions_view(doc.get(key)) for key in APPROVAL_ACTIONS}}


def _days(raw: str) -> Any:
    """Days before or after a date: a whole number, a fraction of days as a decimal (0.0417:
    an hour), or the text as typed (the schema names it: "'two' is not of type 'number'")."""
    number = whole_number(raw)
    if number is not None:
        return number
    whole, point, fraction = raw.partition(".")
    if point and whole_number(whole or "0") is not None and whole_number(fraction) is not None:
        return float(raw)
    return raw


def _in_order_of(chosen: list[str], before: Any) -> list[str]:
    """`chosen` with the fields that `before` (the list as stored) had in its order, new ones
    after them: a multiple select posts in the options' order, which is not a change."""
    order = {name: index for index, name in enumerate(before if isinstance(before, list) else [])}
    return sorted(chosen, key=lambda name: order.get(name, len(order)))


def automation_from_form(form: MultiDict[str, str],
                         original: Mapping[str, Any]) -> dict[str, Any]:
    doc = _flow_head(form, "automation")
    trigger = form.get("trigger", "created")
    if trigger == "field_changed":
        stored = original.get("trigger")
        doc["trigger"] = {"field_changed": _in_order_of(
            [f for f in form.getlist("trigger_fields") if f],
            stored.get("field_changed") if isinstance(stored, dict) else None)}
    elif trigger in ("before_date", "after_date"):
        days = form.get("trigger_days", "0").strip()
        doc["trigger"] = {trigger: {"field": form.get("trigger_date_field", ""),
                                    "days": _days(days)}}
    else:
        doc["trigger"] = trigger
    condition = (form.get("condition") or "").strip()
    if condition:
        doc["condition"] = condition
    doc["actions"] = actions_from_form(form, "actions")
    if form.get("timing") == "before_save":
        doc["timing"] = "before_save"
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
    view["actions"] = actions_view(doc.get("actions"))
    view["timing"] = doc.get("timing", "after_save")
    return view


def diagram(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The flow as boxes in order: its start, each step (or action), its end; an approval's
    boxes carry the actions run on submit, approval and rejection."""
    if doc.get("kind") == "assignment":
        return assignment_diagram(doc)
    if doc.get("kind") == "automation":
        trigger = doc.get("trigger")
        boxes: list[dict[str, Any]] = [{"kind": "start", "title": "trigger",
                  "text": trigger if isinstance(trigger, str) else
                  ", ".join(f"{k}: {v}" for k, v in (trigger or {}).items())}]
        if doc.get("condition"):
            boxes.append({"kind": "condition", "title": "condition", "text": doc["condition"]})
        for action in doc.get("actions", []):
            kind, text = summary(action)
            if kind:
                boxes.append({"kind": "action", "title": kind, "text": text})
        return boxes
    boxes = [{"kind": "start", "title": "entry_condition",
              "text": doc.get("entry_condition") or "—",
              "actions": [summary(a) for a in doc.get("on_submit") or []]}]
    for step in doc.get("steps", []):
        approvers = ", ".join(f"{k}: {v}" for a in step.get("approvers", [])
                              if isinstance(a, dict) for k, v in a.items())
        boxes.append({"kind": "step", "title": step.get("label") or step.get("api_name"),
                      "text": approvers, "mode": step.get("mode", "any"),
                      "condition": step.get("condition")})
    boxes.append({"kind": "end", "title": "approved", "text": "",
                  "actions": [summary(a) for a in doc.get("on_approve") or []]})
    if doc.get("on_reject"):
        boxes.append({"kind": "rejected", "title": "rejected", "text": "",
                      "actions": [summary(a) for a in doc["on_reject"]]})
    return boxes


def assignment_from_form(form: MultiDict[str, str],
                         original: Mapping[str, Any]) -> dict[str, Any]:
    """An assignment rule: ordered entries, the first whose condition holds (or that has
    none) gives the owner — a user, or someone with a role in turn or by load."""
    doc = _flow_head(form, "assignment")
    if form.get("on_create"):
        doc["on_create"] = True
    entries = []
    for i in range(row_count(form, "entry_count")):
        value = (form.get(f"entry{i}_value") or "").strip()
        if not value:
            continue
        by = "role" if form.get(f"entry{i}_by") == "role" else "user"
        assignee: dict[str, Any] = {by: value}
        if by == "role":
            assignee["strategy"] = "least_loaded" \
                if form.get(f"entry{i}_strategy") == "least_loaded" else "round_robin"
        entry: dict[str, Any] = {}
        condition = (form.get(f"entry{i}_condition") or "").strip()
        if condition:
            entry["condition"] = condition
        entry["assignee"] = assignee
        entries.append(entry)
    doc["entries"] = entries
    return doc


def assignment_view(doc: Mapping[str, Any]) -> dict[str, Any]:
    entries = []
    for entry in [*doc.get("entries", []), *({} for _ in range(SPARE_ENTRIES))]:
        assignee = entry.get("assignee") if isinstance(entry.get("assignee"), dict) else {}
        by = "role" if "role" in assignee else "user"
        entries.append({"condition": entry.get("condition", ""), "by": by,
                        "value": assignee.get(by, ""),
                        "strategy": assignee.get("strategy", "round_robin")})
    return {"entries": entries}


def assignment_diagram(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """An assignment rule as boxes: its start, then each entry in the order tried."""
    boxes: list[dict[str, Any]] = [{"kind": "start", "title": "assignment_start",
                                    "text": ""}]
    for entry in doc.get("entries", []):
        assignee = entry.get("assignee") or {}
        boxes.append({"kind": "step", "title": entry.get("condition") or "",
                      "text": ", ".join(f"{k}: {v}" for k, v in assignee.items()),
                      "entry": True})
    return boxes
