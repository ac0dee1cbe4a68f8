"""The flows' pages: the approvals inbox, submitting and acting on requests, and the panels
flows add to home (pending approvals) and to record pages (the record's approvals).

Actions redirect back with a flash message worded for people; nothing here writes records
directly, everything goes through flows.approvals.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from metabiz.errors import (
    BadRequest,
    ConflictError,
    MetabizError,
    NotFound,
    PermissionDenied,
    RecordLocked,
    ValidationError,
)
from metabiz.flows import approvals, notifications, shell_counts
from metabiz.flows.compiled import flows_of
from metabiz.objects import forms
from metabiz.objects.context import Context
from metabiz.objects.records import RECORD_KEY
from metabiz.objects.schema import CompiledObject
from metabiz.objects.work import unit_of_work
from metabiz.platform.access import Actor
from metabiz.platform.auth import display_names
from metabiz.platform.extensions import NavLink
from metabiz.platform.request_input import MAX_PAGE, int_param
from metabiz.platform.web import i18n
from metabiz.platform.web.page_urls import url_for as page_url
from metabiz.platform.web.session import login_required, safe_next
from metabiz.platform.web.shell import render_kept

APPROVAL_ACTIONS = ("approve", "reject", "recall", "reassign")
#: the approvals inbox's tabs (statuses of the user's work items)
INBOX_TABS = ("pending", "approved", "rejected", "all")
#: how many pending approvals the home panel lists
HOME_ITEMS = 10
#: how many of the record's fields an inbox row shows (the layout's first ones)
INBOX_FACTS = 4
#: notifications listed per page, and the notifications page's tabs
NOTIFICATIONS_PAGE = 25
NOTIFICATION_TABS = ("all", "unread")

web = Blueprint("flows_web", __name__, template_folder="templates")


def inbox_items(ctx: Context, status: str) -> list[dict[str, Any]]:
    lang = ctx.language
    out = []
    found = approvals.inbox(ctx, status=status)
    people: dict[Any, str] = display_names(
        ctx.conn, [item.get("submitted_by") for item in found])
    for item in found:
        out.append({**item, "href": f"/o/{item['object']}/{item['record_id']}",
                    "submitted_by": people.get(item.get("submitted_by"),
                                               item.get("submitted_by")),
                    "name": item.get("record_name") or f"#{item['record_id']}",
                    "step": item.get("step_label") or item.get("step"),
                    "state": forms.display(None, item.get("status"), lang=lang,
                                           widget="approval_status"),
                    "when": forms.display(None, item.get("submitted_at"), lang=lang,
                                          widget="datetime", zone=ctx.zone),
                    "facts": _facts(ctx, item)})
    return out


def _facts(ctx: Context, item: dict[str, Any]) -> list[tuple[str, Any]]:
    """The first filled-in fields of the record a pending item is about, as the approver's
    role shows them: what she decides on, in the inbox itself. The fields the flow's
    conditions read come first (a discount approval shows the discount), then the layout's."""
    record, obj = item.get("record"), ctx.schema.objects.get(item["object"])
    if not record or obj is None:
        return []
    lang = ctx.language
    defined = obj.odef.layout("default")
    order = [n for s in defined.sections for n in s.fields] if defined else list(obj.fields)
    decisive = _decisive_fields(ctx, item.get("flow"))
    order = [n for n in order if n in decisive] + [n for n in order if n not in decisive]
    names = forms.lookup_names(ctx, forms.wanted_lookups(obj, [record], order))
    facts = []
    for name in order:
        value = record.get(name)
        if name == obj.odef.name_field or name not in obj.fields or value in (None, "", []):
            continue
        facts.append((forms.field_label(obj, name, lang),
                      forms.display(obj.fields[name], value, lang=lang, names=names,
                                    zone=ctx.zone)))
        if len(facts) == INBOX_FACTS:
            break
    return facts


def _decisive_fields(ctx: Context, flow_name: str | None) -> frozenset[str]:
    """The fields an approval flow's entry and step conditions read."""
    flow = flows_of(ctx.schema).approval_flow(flow_name) if flow_name else None
    if flow is None:
        return frozenset()
    conditions = [flow.entry] + [step.condition for step in flow.steps]
    return frozenset().union(*(c.fields for c in conditions if c is not None))


# -- what flows add to the shell ---------------------------------------------------------


def _pending(actor: Actor) -> list[dict[str, Any]]:
    """The actor's pending work items, read once per request (the navigation badge and the
    home panel both show them)."""
    if "pending_approvals" not in g:
        with unit_of_work(actor) as ctx:
            g.pending_approvals = inbox_items(ctx, "pending")
    return g.pending_approvals  # type: ignore[no-any-return]


def nav_links(actor: Actor) -> list[NavLink]:
    pending = shell_counts.for_request(actor).pending_approvals
    return [NavLink(href=page_url("flows_web.inbox"), label=i18n.text("approvals"),
                    badge=pending or None, icon="check")]


def home_panel(actor: Actor) -> str:
    items = _pending(actor)
    return render_template("approvals_home.html", inbox=items[:HOME_ITEMS],
                           inbox_total=len(items))


def record_panel(ctx: Context, obj: CompiledObject, record: dict[str, Any]) -> str | None:
    """The record's approval requests with the actions the actor may take on each."""
    lang = ctx.language
    requests = []
    found = approvals.requests_for_record(ctx, obj.name, record["id"])
    people: dict[Any, str] = display_names(ctx.conn, [n for item in found for n in (
        item.get("submitted_by"), *(item.get("pending_approvers") or []),
        *(h.get("actor") for h in item.get("history", [])))])
    for item in found:
        history = []
        for h in item.get("history", []):
            key = f"action_{h.get('action')}"
            history.append({"actor": people.get(h.get("actor"), h.get("actor")),
                            "step": h.get("step_label") or h.get("step"),
                            "action": i18n.text(key, lang) if key in i18n.TEXTS
                            else h.get("action"),
                            "comment": h.get("comment"),
                            "at": forms.display(None, h.get("at"), lang=lang,
                                                widget="datetime", zone=ctx.zone)})
        requests.append({
            "id": item["id"], "flow": item.get("flow_label") or item.get("flow"),
            "status": forms.display(None, item.get("status"), lang=lang,
                                    widget="approval_status"),
            "pending": item.get("status") == "pending",
            "step": item.get("step_label") or item.get("step"),
            "submitted_by": people.get(item.get("submitted_by"), item.get("submitted_by")),
            "submitted_at": forms.display(None, item.get("submitted_at"), lang=lang,
                                          widget="datetime", zone=ctx.zone),
            "approvers": [people.get(a, a) for a in item.get("pending_approvers") or []],
            "history": history, "actions": item.get("actions") or []})
    has_flow = bool(flows_of(ctx.schema).approval_flows(obj.name))
    # offered only when a flow would take the record now (its entry condition holds)
    can_submit = has_flow and record.get("approval_status") != "pending" and \
        ctx.schema.access.allowed(ctx.actor, obj.name, "edit") and \
        bool(approvals.admitting_flows(ctx, obj, record["id"]))
    if not requests and not has_flow:
        return None
    return render_template("approval_panel.html", obj=obj, record=record,
                           approval={"requests": requests, "can_submit": can_submit})


# -- pages -------------------------------------------------------------------------------


@web.post("/o/<object_name>/<record_id>/approvals")
@login_required
def submit(actor: Actor, object_name: str, record_id: str) -> Any:
    back = url_for("objects_web.detail", object_name=object_name, record_id=record_id)
    try:
        with unit_of_work(actor, write=True) as ctx:
            approvals.submit(ctx, object_name, record_id,
                             flow=request.form.get("flow") or None,
                             comment=request.form.get("comment", "").strip() or None)
    except RecordLocked:
        flash(i18n.text("locked_body"), "error")
    except ConflictError:
        flash(i18n.text("submit_already_pending"), "error")
    except ValidationError as err:
        # no flow takes the record: say so in words, not the entry conditions' formulas
        flash(i18n.text("submit_not_eligible") if "flow" in err.fields
              else _flat_message(err), "error")
    except (BadRequest, PermissionDenied) as err:
        flash(_flat_message(err), "error")
    else:
        flash(i18n.text("act_submitted"), "success")
    return redirect(back)


@web.post("/approvals/<request_id>/<action>")
@login_required
def act(actor: Actor, request_id: str, action: str) -> Any:
    if action not in APPROVAL_ACTIONS:
        raise NotFound(f"no approval action {action!r}")
    back = safe_next(request.form.get("next")) or url_for("flows_web.inbox")
    try:
        with unit_of_work(actor, write=True) as ctx:
            approvals.act(ctx, request_id, action,
                          comment=request.form.get("comment", "").strip() or None,
                          to=request.form.get("to", "").strip() or None)
    except (ValidationError, ConflictError, BadRequest, PermissionDenied) as err:
        flash(_flat_message(err), "error")
    else:
        flash(i18n.text(f"act_{action}"), "success")
    return redirect(back)


def _flat_message(err: MetabizError) -> str:
    parts = [err.message]
    for name, messages in err.fields.items():
        if not err.message.endswith(tuple(messages)):
            parts.extend(f"{name}: {i18n.message(m)}" if name != RECORD_KEY else
                         i18n.message(m) for m in messages)
    return " — ".join(parts)


@web.get("/approvals")
@login_required
def inbox(actor: Actor) -> Any:
    status = request.args.get("status", "pending")
    if status not in INBOX_TABS:
        status = "pending"
    with unit_of_work(actor) as ctx:
        items = inbox_items(ctx, status)
    return render_template("approvals.html", items=items, status=status, tabs=INBOX_TABS)


# -- notifications -----------------------------------------------------------------------


def notifications_bell(actor: Actor) -> str:
    """The header's bell (a header panel): a link to /notifications with the unread count."""
    return render_kept("notifications_bell.html",
                       unread=shell_counts.for_request(actor).unread_notifications)


def notification_items(ctx: Context, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Notifications as the page shows them: the record they are about linked (by name)
    when the user may read it, the time in the user's time zone."""
    wanted: dict[str, set[Any]] = {}
    for item in items:
        if item.get("object") in ctx.schema.objects and item.get("record_id"):
            wanted.setdefault(item["object"], set()).add(item["record_id"])
    names = forms.lookup_names(ctx, wanted, scoped=True)
    out = []
    for item in items:
        key = (str(item.get("object") or ""), item.get("record_id"))
        name = names.get(key)
        obj = ctx.schema.objects.get(item.get("object") or "")
        out.append({**item, "record_name": name,
                    "object_label": obj.odef.label.get(ctx.language) if obj else None,
                    "href": f"/o/{key[0]}/{key[1]}" if name is not None else None,
                    "when": forms.display(None, item.get("created_at"), lang=ctx.language,
                                          widget="datetime", zone=ctx.zone)})
    return out


@web.get("/notifications")
@login_required
def notifications_page(actor: Actor) -> Any:
    tab = request.args.get("show", "all")
    tab = tab if tab in NOTIFICATION_TABS else "all"
    page = int_param("page", request.args.get("page"), 1, 1, MAX_PAGE)
    with unit_of_work(actor) as ctx:
        found = notifications.for_user(ctx.conn, actor.name, unread_only=tab == "unread",
                                       limit=NOTIFICATIONS_PAGE + 1,
                                       offset=(page - 1) * NOTIFICATIONS_PAGE)
        items = notification_items(ctx, found[:NOTIFICATIONS_PAGE])
        counts = g.flows_shell_counts = shell_counts.read(ctx.conn, actor.name)
    unread = counts.unread_notifications
    return render_template("notifications.html", items=items, tab=tab, tabs=NOTIFICATION_TABS,
                           unread=unread, page=page, more=len(found) > NOTIFICATIONS_PAGE)


@web.post("/notifications/<notification_id>/read")
@login_required
def read_notification(actor: Actor, notification_id: str) -> Any:
    """Mark one read; `open=1` then goes to the record it is about (if any)."""
    with unit_of_work(actor, write=True) as ctx:
        item = notifications.mark_read(ctx.conn, actor.name, notification_id, ctx.now)
        shown = notification_items(ctx, [item])[0]
    if request.form.get("open") and shown["href"]:
        return redirect(shown["href"])
    return redirect(safe_next(request.form.get("next")) or url_for("flows_web.notifications_page"))


@web.post("/notifications/read")
@login_required
def read_all_notifications(actor: Actor) -> Any:
    with unit_of_work(actor, write=True) as ctx:
        count = notifications.mark_all_read(ctx.conn, actor.name, ctx.now)
    flash(i18n.text("notifications_marked", count=count), "success")
    return redirect(url_for("flows_web.notifications_page"))
