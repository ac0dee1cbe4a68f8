"""Flow actions ↔ the builder's forms: every action kind the flows package runs (update,
create, assign, notify, webhook, return_to_pool) with its keys as form fields, and each
action as one line of the flow's diagram.

An action list (an automation rule's `actions`, an approval flow's `on_submit`, `on_approve`,
`on_reject`, `on_recall`) posts as numbered slots `<list><i>_…`; a slot whose kind is blank
is dropped. Pure functions over posted form data; no database, no Flask.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from werkzeug.datastructures import MultiDict

from metabiz.builder_ui.field_form import label_parts, row_count

#: the action kinds, in the order the kind picker shows them (the flows package's `ACTIONS`)
ACTION_KINDS = ("update", "create", "assign", "notify", "webhook", "return_to_pool")
RECIPIENT_KINDS = ("user", "role", "field", "manager_of")
ASSIGN_BY = ("user", "role", "rules")
STRATEGIES = ("round_robin", "least_loaded")
#: blank rows offered beside the existing ones in an action's own lists
SPARE_ROWS = 2


def _text(form: Mapping[str, Any], key: str) -> str:
    return (form.get(key) or "").strip()


def _pairs(form: MultiDict[str, str], left: str, right: str) -> dict[str, str]:
    """{left: right} from two parallel lists of inputs, rows with a blank side dropped."""
    return {a.strip(): b.strip() for a, b in zip(form.getlist(left), form.getlist(right),
                                                  strict=False) if a.strip() and b.strip()}


def _localized_pairs(form: MultiDict[str, str], left: str, right: str
                     ) -> dict[str, str | dict[str, str]]:
    """`_pairs` whose right side may be typed per language too (`<right>_zh` beside each
    row): {left: formula} or {left: {"en": formula, "zh": formula}}."""
    out: dict[str, str | dict[str, str]] = {}
    for key, en, zh in zip(form.getlist(left), form.getlist(right),
                           form.getlist(f"{right}_zh"), strict=False):
        key, en, zh = key.strip(), en.strip(), zh.strip()
        if key and (en or zh):
            out[key] = {"en": en, "zh": zh} if en and zh else en or zh
    return out


def _localized(form: Mapping[str, Any], prefix: str) -> str | dict[str, str] | None:
    """A text formula typed once or per language (`<prefix>_en`, `<prefix>_zh`)."""
    en, zh = _text(form, f"{prefix}_en"), _text(form, f"{prefix}_zh")
    if en and zh:
        return {"en": en, "zh": zh}
    return en or zh or None


def _action(form: MultiDict[str, str], slot: str) -> dict[str, Any] | None:
    """The action of one slot (`actions0`), or None when its kind is blank."""
    kind = _text(form, f"{slot}_kind")
    if kind == "update":
        return {"update": _pairs(form, f"{slot}_update_field", f"{slot}_update_value")}
    if kind == "create":
        create: dict[str, Any] = {"object": _text(form, f"{slot}_create_object"),
                                  "values": _localized_pairs(form, f"{slot}_create_field",
                                                             f"{slot}_create_value")}
        if _text(form, f"{slot}_create_count"):
            create["count"] = _text(form, f"{slot}_create_count")
        return {"create": create}
    if kind == "assign":
        by = _text(form, f"{slot}_assign_by") or "user"
        assign: dict[str, Any] = {by: _text(form, f"{slot}_assign_value")}
        if by == "role":
            assign["strategy"] = _text(form, f"{slot}_assign_strategy") or "round_robin"
        return {"assign": assign}
    if kind == "notify":
        notify: dict[str, Any] = {"to": [
            {k: v.strip()} for k, v in zip(form.getlist(f"{slot}_notify_to_kind"),
                                           form.getlist(f"{slot}_notify_to_value"), strict=False)
            if k in RECIPIENT_KINDS and v.strip()]}
        subject = _localized(form, f"{slot}_notify_subject")
        if subject is not None:
            notify["subject"] = subject
        notify["message"] = _localized(form, f"{slot}_notify_message") or ""
        if _text(form, f"{slot}_notify_email_to"):
            notify["email_to"] = _text(form, f"{slot}_notify_email_to")
        return {"notify": notify}
    if kind == "webhook":
        hook: dict[str, Any] = {"url": _text(form, f"{slot}_webhook_url")}
        payload = _pairs(form, f"{slot}_webhook_key", f"{slot}_webhook_value")
        if payload:
            hook["payload"] = payload
        if _text(form, f"{slot}_webhook_secret"):
            hook["secret"] = _text(form, f"{slot}_webhook_secret")
        fields = [f for f in form.getlist(f"{slot}_webhook_fields") if f]
        if fields:
            hook["fields"] = fields
        return {"webhook": hook}
    if kind == "return_to_pool":
        pool, reason = _text(form, f"{slot}_pool"), _text(form, f"{slot}_pool_reason")
        return {"return_to_pool": {"pool": pool, "reason": reason} if reason else pool}
    return None


def actions_from_form(form: MultiDict[str, str], key: str) -> list[dict[str, Any]]:
    """The actions of the list `key` in the order of their slots."""
    return [a for a in (_action(form, f"{key}{i}") for i in range(row_count(form, f"{key}_count")))
            if a is not None]


def _rows(mapping: Any) -> list[tuple[str, str]]:
    rows = [(str(k), str(v)) for k, v in mapping.items()] if isinstance(mapping, dict) else []
    return rows + [("", "")] * SPARE_ROWS


def _localized_rows(mapping: Any) -> list[tuple[str, str, str]]:
    """(key, English or only formula, Chinese formula) rows of `_localized_pairs`' mapping."""
    rows = [(str(k), *label_parts(v)) for k, v in mapping.items()] \
        if isinstance(mapping, dict) else []
    return rows + [("", "", "")] * SPARE_ROWS


def action_view(action: Any) -> dict[str, Any]:
    """One action as its slot's inputs (every kind's inputs, the chosen kind's filled in)."""
    kind, value = next(iter(action.items())) if isinstance(action, dict) and action else ("", {})
    view: dict[str, Any] = {"kind": kind, "update": _rows(value if kind == "update" else {})}
    create = value if kind == "create" and isinstance(value, dict) else {}
    view["create"] = {"object": create.get("object", ""), "count": create.get("count", ""),
                      "values": _localized_rows(create.get("values"))}
    assign = value if kind == "assign" and isinstance(value, dict) else {}
    by = next((k for k in ASSIGN_BY if k in assign), "user")
    view["assign"] = {"by": by, "value": assign.get(by, ""),
                      "strategy": assign.get("strategy", "round_robin")}
    notify = value if kind == "notify" and isinstance(value, dict) else {}
    recipients = [next(iter(r.items())) for r in notify.get("to", [])
                  if isinstance(r, dict) and r]
    view["notify"] = {"to": recipients + [("user", "")] * SPARE_ROWS,
                      "subject": label_parts(notify.get("subject")),
                      "message": label_parts(notify.get("message")),
                      "email_to": notify.get("email_to", "")}
    hook = value if kind == "webhook" and isinstance(value, dict) else {}
    view["webhook"] = {"url": hook.get("url", ""), "secret": hook.get("secret", ""),
                       "payload": _rows(hook.get("payload")),
                       "fields": list(hook.get("fields") or [])}
    pool = value if kind == "return_to_pool" else ""
    view["pool"] = {"pool": pool.get("pool", "") if isinstance(pool, dict) else pool,
                    "reason": pool.get("reason", "") if isinstance(pool, dict) else ""}
    return view


def actions_view(actions: Any) -> list[dict[str, Any]]:
    """The slots of an action list: each action, and one blank slot to add another."""
    listed = [a for a in actions or [] if isinstance(a, dict)]
    return [action_view(a) for a in listed] + [action_view({})]


def summary(action: Any) -> tuple[str, str]:
    """(kind, what it does in a few words) for the diagram."""
    if not isinstance(action, dict) or not action:
        return "", ""
    kind, value = next(iter(action.items()))
    if kind == "update" and isinstance(value, dict):
        return kind, ", ".join(f"{k} = {v}" for k, v in value.items())
    if kind == "create" and isinstance(value, dict):
        count = f" × {value['count']}" if value.get("count") else ""
        return kind, f"{value.get('object', '')}{count}: " + ", ".join(
            f"{k} = {label_parts(v)[0] or label_parts(v)[1]}"
            for k, v in (value.get("values") or {}).items())
    if kind == "assign" and isinstance(value, dict):
        return kind, ", ".join(f"{k}: {v}" for k, v in value.items())
    if kind == "notify" and isinstance(value, dict):
        to = ", ".join(f"{k}: {v}" for r in value.get("to", []) if isinstance(r, dict)
                       for k, v in r.items())
        message = value.get("message")
        text = message.get("en") or message.get("zh") if isinstance(message, dict) else message
        mail = f" ✉ {value['email_to']}" if value.get("email_to") else ""
        return kind, f"{to or '—'}{mail}: {text or ''}"
    if kind == "webhook" and isinstance(value, dict):
        return kind, str(value.get("url", ""))
    if kind == "return_to_pool":
        return kind, str(value.get("pool", "")) if isinstance(value, dict) else str(value)
    return str(kind), ""
