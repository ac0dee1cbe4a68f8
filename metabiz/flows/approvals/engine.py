"""The approval state machine: submit, approve, reject, recall, reassign.

Each call is one unit of work: the request, its history, work items, the record's
approval status and lock, and the flow's actions commit together or not at all.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Connection, insert, select, update

from metabiz.errors import (
    BadRequest,
    ConflictError,
    NotFound,
    PermissionDenied,
    RecordLocked,
    ValidationError,
)
from metabiz.flows import directory, notifications
from metabiz.flows.actions import run_actions
from metabiz.flows.actions.base import system_context
from metabiz.flows.approvals.flow import ApprovalFlow
from metabiz.flows.compiled import flows_of
from metabiz.flows.formula import Subject, load_record
from metabiz.flows.store import approval_history, approval_requests, work_items
from metabiz.objects import records
from metabiz.objects.context import Context, WriteEvent
from metabiz.objects.record_input import record_key
from metabiz.objects.schema import CompiledObject
from metabiz.platform.access import SYSTEM

log = logging.getLogger(__name__)

ACTIONS = ("approve", "reject", "recall", "reassign")
FINISHED = {"approved": "on_approve", "rejected": "on_reject", "recalled": "on_recall"}
MAX_COMMENT = 4000


def submit(ctx: Context, object_name: str, record_id: Any, flow: str | None = None,
           comment: str | None = None) -> int:
    """Submit a record for approval; returns the new request's id."""
    obj = ctx.schema.object(object_name)
    ctx.schema.access.require(ctx.actor, obj.name, "edit")
    comment = _comment(comment)
    values = records.load(ctx, obj, record_id, for_update=True)
    pending = _pending_request(ctx.conn, obj.name, values["id"])
    if pending is not None or values.get("approval_status") == "pending":
        raise ConflictError(f"{obj.name} {values['id']} is already pending approval"
                            + (f" (request {pending})" if pending is not None else ""),
                            details={"request": pending})
    if values.get("locked"):
        raise RecordLocked(f"{obj.name} {values['id']} is locked")
    system = system_context(ctx)
    subject = Subject(system, obj, load_record(system, obj, values["id"]))
    chosen = _choose_flow(ctx, obj, subject, flow)
    now = ctx.naive_now()
    request_id = int(ctx.conn.execute(insert(approval_requests).values(
        object=obj.name, record_id=values["id"], flow=chosen.name, status="pending",
        locks_record=chosen.lock_record, submitted_by=ctx.actor.name, submitted_at=now,
        comment=comment).returning(approval_requests.c.id)).scalar_one())
    _history(ctx, request_id, None, ctx.actor.name, "submitted", comment)
    status: dict[str, Any] = {"approval_status": "pending"}
    if chosen.lock_record:
        status["locked"] = True
    records.set_system(ctx, obj.name, values["id"], **status)
    subject.reload()
    run_actions(chosen.actions["on_submit"], subject, source=chosen.source, event="submitted")
    _start_step(ctx, request_id, chosen, subject, 0)
    return request_id


def act(ctx: Context, request_id: Any, action: str, comment: str | None = None,
        to: str | None = None) -> int:
    """Approve, reject, recall or reassign a pending request as the context's actor."""
    if action not in ACTIONS:
        raise BadRequest(f"unknown approval action {action!r} (use one of {', '.join(ACTIONS)})")
    comment = _comment(comment)
    request = lock_request(ctx.conn, request_id)
    if request["status"] != "pending":
        raise ConflictError(f"approval request {request['id']} is {request['status']}, "
                            "not pending")
    obj = ctx.schema.object(request["object"])
    flow = flows_of(ctx.schema).approval_flow(request["flow"])
    system = system_context(ctx)
    subject = Subject(system, obj, load_record(system, obj, request["record_id"]))
    if action == "recall":
        if ctx.actor.name != request["submitted_by"] and not ctx.actor.is_admin:
            raise PermissionDenied("only the submitter (or an administrator) may recall "
                                   f"approval request {request['id']}")
        _history(ctx, request["id"], request["step"], ctx.actor.name, "recalled", comment)
        _finish(ctx, request, flow, subject, "recalled")
        return int(request["id"])
    item = _my_item(ctx, request)
    if action == "reassign":
        _reassign(ctx, request, item, to, comment, subject)
        return int(request["id"])
    if flow is None or flow.step(request["step_index"]) is None:
        raise ConflictError(f"approval flow {request['flow']!r} or its step "
                            f"{request['step']!r} no longer exists; recall the request")
    step = flow.steps[request["step_index"]]
    new_status = "approved" if action == "approve" else "rejected"
    ctx.conn.execute(update(work_items).where(work_items.c.id == item["id"]).values(
        status=new_status, acted_at=ctx.naive_now(), comment=comment))
    _history(ctx, request["id"], step.name, ctx.actor.name, new_status, comment)
    if action == "reject":
        _finish(ctx, request, flow, subject, "rejected")
        return int(request["id"])
    counts = _step_counts(ctx.conn, request["id"], step.index)
    if step.mode.decided(counts.get("approved", 0), counts.get("pending", 0)):
        _cancel_items(ctx.conn, request["id"], ctx.naive_now())
        _start_step(ctx, request["id"], flow, subject, step.index + 1)
    return int(request["id"])


def on_record_deleted(ctx: Context, event: WriteEvent) -> None:
    """A deleted record's pending requests end as `cancelled`."""
    rows = ctx.conn.execute(select(approval_requests.c.id, approval_requests.c.step).where(
        approval_requests.c.object == event.object,
        approval_requests.c.record_id == event.record_id,
        approval_requests.c.status == "pending")).all()
    for row in rows:
        ctx.conn.execute(update(approval_requests).where(approval_requests.c.id == row.id)
                         .values(status="cancelled", finished_at=ctx.naive_now()))
        _cancel_items(ctx.conn, row.id, ctx.naive_now())
        _history(ctx, row.id, row.step, ctx.actor.name, "cancelled", "the record was deleted")


# -- the steps -------------------------------------------------------------------------------


def on_record_updated(ctx: Context, event: WriteEvent) -> None:
    """A person changed an approved record: when a field of its flow's `resubmit_on_change`
    changed, the approval no longer holds and `approval_status` goes back to `none`.
    The flows' own updates (approval actions, automation) do not count."""
    after = event.after or {}
    if after.get("approval_status") != "approved" or event.actor.is_system:
        return
    row = ctx.conn.execute(select(approval_requests.c.flow).where(
        approval_requests.c.object == event.object,
        approval_requests.c.record_id == event.record_id,
        approval_requests.c.status == "approved")
        .order_by(approval_requests.c.id.desc()).limit(1)).first()
    flow = flows_of(ctx.schema).approval_flow(row[0]) if row is not None else None
    changed = sorted(event.changed() & flow.resubmit_on_change) if flow is not None else []
    if changed:
        records.set_system(ctx, event.object, event.record_id, approval_status="none")
        log.info("%s %s: %s changed after approval by %s; approval_status back to none",
                 event.object, event.record_id, ", ".join(changed), event.actor.name)


def admitting_flows(ctx: Context, obj: CompiledObject, record_id: Any) -> list[ApprovalFlow]:
    """The active approval flows whose entry condition the record meets now (what a
    "Submit for approval" button may offer)."""
    flows = flows_of(ctx.schema).approval_flows(obj.name)
    if not flows:
        return []
    system = system_context(ctx)
    subject = Subject(system, obj, load_record(system, obj, record_id))
    return [f for f in flows if f.admits(subject)]


def _choose_flow(ctx: Context, obj: CompiledObject, subject: Subject,
                 name: str | None) -> ApprovalFlow:
    flows = flows_of(ctx.schema).approval_flows(obj.name)
    if name is not None:
        if not isinstance(name, str):
            raise ValidationError("flow must be the api_name of an approval flow",
                                  fields={"flow": ["not a text"]})
        chosen = next((f for f in flows if f.name == name), None)
        if chosen is None:
            raise ValidationError(f"{obj.name} has no active approval flow named {name!r}",
                                  fields={"flow": [f"unknown approval flow {name!r}"]})
        if not chosen.admits(subject):
            raise ValidationError(
                f"{obj.name} {subject.record_id} does not meet the entry condition of "
                f"{chosen.name}: {chosen.entry_source}",
                fields={"flow": [f"entry condition not met: {chosen.entry_source}"]})
        return chosen
    if not flows:
        raise ValidationError(f"{obj.name} has no active approval flow",
                              fields={"flow": ["no approval flow for this object"]})
    for flow in flows:
        if flow.admits(subject):
            return flow
    conditions = "; ".join(f"{f.name}: {f.entry_source}" for f in flows)
    raise ValidationError(f"{obj.name} {subject.record_id} meets the entry condition of no "
                          f"approval flow ({conditions})",
                          fields={"flow": [f"no entry condition is met ({conditions})"]})


def _start_step(ctx: Context, request_id: int, flow: ApprovalFlow, subject: Subject,
                start: int) -> None:
    """Open the first applicable step from `start`, or finish the request as approved."""
    request = _request(ctx.conn, request_id)
    for step in flow.steps[start:]:
        subject.reload()
        if not step.applies(subject):
            _history(ctx, request_id, step.name, SYSTEM.name, "skipped",
                     details={"condition": step.condition.source if step.condition else None})
            continue
        approvers = step.resolve(subject, request["submitted_by"], flow.submitter_approver)
        if not approvers:
            raise ValidationError(
                f"step {step.name!r} of approval flow {flow.name!r} has no active approver "
                f"for {subject.obj.name} {subject.record_id} ({step.describe_approvers()})",
                fields={records.RECORD_KEY: [f"step {step.name} has no approver"]})
        now = ctx.naive_now()
        ctx.conn.execute(update(approval_requests).where(approval_requests.c.id == request_id)
                         .values(step_index=step.index, step=step.name))
        ctx.conn.execute(insert(work_items), [
            {"request_id": request_id, "step_index": step.index, "step": step.name,
             "assignee": user, "status": "pending", "created_at": now} for user in approvers])
        _history(ctx, request_id, step.name, SYSTEM.name, "started",
                 details={"approvers": approvers, "mode": step.mode.name})
        _tell(ctx, approvers, subject, flow, request_id,
              f"{request['submitted_by']} asks for your approval of {_what(subject)} "
              f"({flow.label.get()}: {step.label.get()})", "Approval requested")
        return
    _finish(ctx, request, flow, subject, "approved")


def _finish(ctx: Context, request: Any, flow: ApprovalFlow | None, subject: Subject,
            status: str) -> None:
    now = ctx.naive_now()
    ctx.conn.execute(update(approval_requests).where(approval_requests.c.id == request["id"])
                     .values(status=status, finished_at=now))
    _cancel_items(ctx.conn, request["id"], now)
    values: dict[str, Any] = {"approval_status": status}
    if request["locks_record"]:
        values["locked"] = False
    if status == "approved" and flow is not None and flow.lock_after_approval:
        values["locked"] = True  # stays locked: only administrators may change it now
    records.set_system(ctx, subject.obj.name, subject.record_id, **values)
    subject.reload()
    if flow is not None:
        run_actions(flow.actions[FINISHED[status]], subject, source=flow.source, event=status)
    if request["submitted_by"] != ctx.actor.name:
        label = flow.label.get() if flow is not None else request["flow"]
        _tell(ctx, [request["submitted_by"]], subject, flow, request["id"],
              f"Your approval request for {_what(subject)} ({label}) was {status}",
              f"Approval {status}")


def _reassign(ctx: Context, request: Any, item: Any, to: Any, comment: str | None,
              subject: Subject) -> None:
    if not to or not isinstance(to, str):
        raise ValidationError("say who to reassign to", fields={"to": ["required"]})
    if to == ctx.actor.name:
        raise ValidationError("you cannot reassign to yourself", fields={"to": ["yourself"]})
    if not directory.is_active(ctx.conn, to):
        raise ValidationError(f"no active user named {to!r}",
                              fields={"to": [f"no active user named {to!r}"]})
    already = ctx.conn.execute(select(work_items.c.id).where(
        work_items.c.request_id == request["id"], work_items.c.step_index == item["step_index"],
        work_items.c.assignee == to, work_items.c.status == "pending")).first()
    if already is not None:
        raise ValidationError(f"{to} is already an approver of this step",
                              fields={"to": ["already an approver of this step"]})
    now = ctx.naive_now()
    ctx.conn.execute(update(work_items).where(work_items.c.id == item["id"]).values(
        status="reassigned", acted_at=now, comment=comment))
    ctx.conn.execute(insert(work_items).values(
        request_id=request["id"], step_index=item["step_index"], step=item["step"],
        assignee=to, status="pending", created_at=now, reassigned_from=ctx.actor.name))
    _history(ctx, request["id"], item["step"], ctx.actor.name, "reassigned", comment,
             details={"to": to})
    flow = flows_of(ctx.schema).approval_flow(request["flow"])
    label = flow.label.get() if flow is not None else request["flow"]
    _tell(ctx, [to], subject, flow, request["id"],
          f"{ctx.actor.name} passed you the approval of {_what(subject)} ({label})",
          "Approval reassigned to you")


# -- rows ------------------------------------------------------------------------------------


def lock_request(conn: Connection, request_id: Any) -> Any:
    """The request row, locked until commit (so two approvers act one after the other)."""
    wanted = record_key(request_id)
    if wanted is None:
        raise NotFound(f"no approval request {request_id!r}")
    query = select(approval_requests).where(approval_requests.c.id == wanted)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).mappings().first()
    if row is None:
        raise NotFound(f"no approval request {wanted}")
    return row


def _request(conn: Connection, request_id: int) -> Any:
    return conn.execute(select(approval_requests).where(approval_requests.c.id == request_id)
                        ).mappings().one()


def _pending_request(conn: Connection, object_name: str, record_id: int) -> int | None:
    return conn.execute(select(approval_requests.c.id).where(  # type: ignore[no-any-return]
        approval_requests.c.object == object_name, approval_requests.c.record_id == record_id,
        approval_requests.c.status == "pending")).scalar()


def _my_item(ctx: Context, request: Any) -> Any:
    item = ctx.conn.execute(select(work_items).where(
        work_items.c.request_id == request["id"],
        work_items.c.step_index == request["step_index"],
        work_items.c.assignee == ctx.actor.name,
        work_items.c.status == "pending")).mappings().first()
    if item is None:
        raise PermissionDenied(f"you are not an approver of the current step of approval "
                               f"request {request['id']}")
    return item


def _step_counts(conn: Connection, request_id: int, step_index: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    for (status,) in conn.execute(select(work_items.c.status).where(
            work_items.c.request_id == request_id, work_items.c.step_index == step_index)):
        counts[status] = counts.get(status, 0) + 1
    return counts


def _cancel_items(conn: Connection, request_id: int, now: Any) -> None:
    conn.execute(update(work_items).where(work_items.c.request_id == request_id,
                                          work_items.c.status == "pending")
                 .values(status="cancelled", acted_at=now))


def _history(ctx: Context, request_id: int, step: str | None, actor: str, action: str,
             comment: str | None = None, details: Any = None) -> None:
    ctx.conn.execute(insert(approval_history).values(
        request_id=request_id, step=step, actor=actor, action=action, comment=comment,
        details=details, at=ctx.naive_now()))


def _comment(comment: Any) -> str | None:
    if comment is None or comment == "":
        return None
    if not isinstance(comment, str):
        raise ValidationError("comment must be text", fields={"comment": ["not a text"]})
    if len(comment) > MAX_COMMENT:
        raise ValidationError("comment too long",
                              fields={"comment": [f"at most {MAX_COMMENT} characters"]})
    return comment


def _what(subject: Subject) -> str:
    return f"{subject.obj.odef.label.get()} {subject.name()}"


def _tell(ctx: Context, users: list[str], subject: Subject, flow: ApprovalFlow | None,
          request_id: int, message: str, title: str) -> None:
    users = [u for u in users if u != SYSTEM.name]
    if users:
        notifications.send(ctx.conn, users, now=ctx.now, subject=title, message=message,
                           object_name=subject.obj.name, record_id=subject.record_id,
                           source=f"approval request {request_id}")


__all__ = ["ACTIONS", "act", "lock_request", "on_record_deleted", "on_record_updated",
           "submit"]
