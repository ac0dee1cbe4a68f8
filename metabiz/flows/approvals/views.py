"""Approval requests and work items as JSON: what the API returns and the UI renders.

A request carries its full history and the actions the current user may take on it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from metabiz.errors import BadRequest, NotFound
from metabiz.flows.actions.base import system_context
from metabiz.flows.compiled import flows_of
from metabiz.flows.formula import load_record, record_name
from metabiz.flows.store import approval_history, approval_requests, work_items
from metabiz.objects import records
from metabiz.objects.context import Context
from metabiz.objects.fields import json_value
from metabiz.objects.record_input import record_key

INBOX_STATUSES = ("pending", "approved", "rejected", "reassigned", "cancelled", "all")


def _time(value: dt.datetime | None) -> Any:
    return json_value(None if value is None else value.replace(tzinfo=dt.UTC))


class _Names:
    """Labels of flows, steps, objects and records, looked up once per call."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.flows = flows_of(ctx.schema)
        self.system = system_context(ctx)
        self._records: dict[tuple[str, int], str] = {}

    def object_label(self, name: str) -> str:
        obj = self.ctx.schema.objects.get(name)
        return obj.odef.label.get(self.ctx.language) if obj else name

    def record(self, object_name: str, record_id: int) -> str:
        key = (object_name, record_id)
        if key not in self._records:
            obj = self.ctx.schema.objects.get(object_name)
            try:
                values = load_record(self.system, obj, record_id) if obj else None
            except NotFound:
                values = None
            self._records[key] = record_name(obj, values) if obj and values else \
                f"{object_name} #{record_id}"
        return self._records[key]

    def flow_label(self, name: str) -> str:
        flow = self.flows.approval_flow(name)
        return flow.label.get(self.ctx.language) if flow else name

    def step_label(self, flow_name: str, step: str | None) -> str | None:
        flow = self.flows.approval_flow(flow_name)
        found = next((s for s in flow.steps if s.name == step), None) if flow else None
        return found.label.get(self.ctx.language) if found else step

    def mode(self, flow_name: str, step_index: int | None) -> str | None:
        flow = self.flows.approval_flow(flow_name)
        step = flow.step(step_index) if flow else None
        return step.mode.name if step else None

    def of(self, row: Any) -> dict[str, Any]:
        """What a request or a work item says of its record, flow and step, named."""
        return {
            "object": row["object"],
            "object_label": self.object_label(row["object"]),
            "record_id": row["record_id"],
            "record_name": self.record(row["object"], row["record_id"]),
            "flow": row["flow"],
            "flow_label": self.flow_label(row["flow"]),
            "step": row["step"],
            "step_label": self.step_label(row["flow"], row["step"]),
            "mode": self.mode(row["flow"], row["step_index"]),
        }


def request_json(ctx: Context, request: Any,
                 names: _Names | None = None) -> dict[str, Any]:
    """One request with its current approvers, full history and the actor's actions."""
    names = names or _Names(ctx)
    conn = ctx.conn
    items = conn.execute(select(work_items).where(work_items.c.request_id == request["id"])
                         .order_by(work_items.c.id)).mappings().all()
    history = conn.execute(select(approval_history)
                           .where(approval_history.c.request_id == request["id"])
                           .order_by(approval_history.c.id)).mappings().all()
    current = [i for i in items if i["step_index"] == request["step_index"]]
    pending = [i["assignee"] for i in current if i["status"] == "pending"]
    return {
        "id": request["id"],
        **names.of(request),
        "status": request["status"],
        "submitted_by": request["submitted_by"],
        "submitted_at": _time(request["submitted_at"]),
        "finished_at": _time(request["finished_at"]),
        "comment": request["comment"],
        "locks_record": bool(request["locks_record"]),
        "pending_approvers": pending,
        "approvers": [{"user": i["assignee"], "step": i["step"], "status": i["status"],
                       "comment": i["comment"], "acted_at": _time(i["acted_at"]),
                       "reassigned_from": i["reassigned_from"]} for i in items],
        "history": [{"step": h["step"],
                     "step_label": names.step_label(request["flow"], h["step"])
                     if h["step"] else None,
                     "actor": h["actor"], "action": h["action"],
                     "comment": h["comment"], "at": _time(h["at"]), "details": h["details"]}
                    for h in history],
        "actions": _allowed(ctx, request, pending),
    }


def _allowed(ctx: Context, request: Any, pending: list[str]) -> list[str]:
    if request["status"] != "pending":
        return []
    allowed = []
    if ctx.actor.name in pending:
        allowed += ["approve", "reject", "reassign"]
    if ctx.actor.name == request["submitted_by"] or ctx.actor.is_admin:
        allowed.append("recall")
    return allowed


def get_request(ctx: Context, request_id: Any) -> dict[str, Any]:
    """A request, for its submitter, anyone who approves or approved it, an administrator
    or anyone who may read the record; otherwise 404."""
    wanted = record_key(request_id)
    if wanted is None:
        raise NotFound(f"no approval request {request_id!r}")
    row = ctx.conn.execute(select(approval_requests)
                           .where(approval_requests.c.id == wanted)).mappings().first()
    if row is None or not _may_see(ctx, row):
        raise NotFound(f"no approval request {wanted}")
    return {**request_json(ctx, row), "record": record_fields(ctx, row["object"],
                                                              row["record_id"])}


def record_fields(ctx: Context, object_name: str, record_id: int) -> dict[str, Any] | None:
    """The record as the actor may read it (an approver while it waits on them: their
    role's hidden fields left out), or None when they may not read it (any more)."""
    obj = ctx.schema.objects.get(object_name)
    if obj is None:
        return None
    try:
        return records.serialise(ctx, obj, records.load(ctx, obj, record_id))
    except NotFound:
        return None


def _may_see(ctx: Context, row: Any) -> bool:
    actor = ctx.actor
    if actor.is_admin or actor.name == row["submitted_by"]:
        return True
    involved = ctx.conn.execute(select(work_items.c.id).where(
        work_items.c.request_id == row["id"], work_items.c.assignee == actor.name)).first()
    if involved is not None:
        return True
    obj = ctx.schema.objects.get(row["object"])
    if obj is None or not ctx.schema.access.allowed(actor, obj.name, "read"):
        return False
    try:
        records.load(ctx, obj, row["record_id"])
    except NotFound:
        return False
    return True


def requests_for_record(ctx: Context, object_name: str, record_id: Any) -> list[dict[str, Any]]:
    """Every approval request of a record the actor may read, newest first."""
    obj = ctx.schema.object(object_name)
    ctx.schema.access.require(ctx.actor, obj.name, "read")
    values = records.load(ctx, obj, record_id)
    rows = ctx.conn.execute(select(approval_requests).where(
        approval_requests.c.object == obj.name, approval_requests.c.record_id == values["id"])
        .order_by(approval_requests.c.id.desc())).mappings().all()
    names = _Names(ctx)
    return [request_json(ctx, row, names) for row in rows]


def inbox(ctx: Context, status: str = "pending") -> list[dict[str, Any]]:
    """The actor's work items (`pending` by default, or what they approved, rejected,
    passed on, or `all`), newest first."""
    if status not in INBOX_STATUSES:
        raise BadRequest(f"status must be one of {', '.join(INBOX_STATUSES)}",
                         fields={"status": [f"unknown status {status!r}"]})
    query = (select(work_items, approval_requests.c.object, approval_requests.c.record_id,
                    approval_requests.c.flow, approval_requests.c.submitted_by,
                    approval_requests.c.submitted_at, approval_requests.c.comment.label("note"),
                    approval_requests.c.status.label("request_status"))
             .join(approval_requests, approval_requests.c.id == work_items.c.request_id)
             .where(work_items.c.assignee == ctx.actor.name)
             .order_by(work_items.c.id.desc()))
    if status != "all":
        query = query.where(work_items.c.status == status)
    names = _Names(ctx)
    items = []
    for row in ctx.conn.execute(query).mappings():
        items.append({
            "request": row["request_id"],
            "work_item": row["id"],
            **names.of(row),
            "status": row["status"],
            "request_status": row["request_status"],
            "submitted_by": row["submitted_by"],
            "submitted_at": _time(row["submitted_at"]),
            "comment": row["note"],
            "assigned_at": _time(row["created_at"]),
            "acted_at": _time(row["acted_at"]),
            "reassigned_from": row["reassigned_from"],
            # what the approver decides on, while the item waits on them
            "record": record_fields(ctx, row["object"], row["record_id"])
            if row["status"] == "pending" else None,
        })
    return items
