"""Approval processes: submit a record, approve / reject / recall / reassign, read requests.

The functions the web layer and the UI call; each takes an objects.context.Context (one unit of
work acting as the current user) and returns JSON-ready dicts.
"""

from __future__ import annotations

from typing import Any

from metabiz.flows.approvals import engine
from metabiz.flows.approvals.engine import (
    ACTIONS,
    admitting_flows,
    on_record_deleted,
    on_record_updated,
)
from metabiz.flows.approvals.views import (
    INBOX_STATUSES,
    get_request,
    inbox,
    request_json,
    requests_for_record,
)
from metabiz.objects.context import Context


def submit(ctx: Context, object_name: str, record_id: Any, flow: str | None = None,
           comment: str | None = None) -> dict[str, Any]:
    """Submit a record for approval (the named flow, or the first whose entry condition
    holds); returns the new request with its history."""
    request_id = engine.submit(ctx, object_name, record_id, flow=flow, comment=comment)
    return request_json(ctx, engine.lock_request(ctx.conn, request_id))


def act(ctx: Context, request_id: Any, action: str, comment: str | None = None,
        to: str | None = None) -> dict[str, Any]:
    """`approve`, `reject`, `recall` or `reassign` (to another active user); returns the
    request as it is afterwards."""
    done = engine.act(ctx, request_id, action, comment=comment, to=to)
    return request_json(ctx, engine.lock_request(ctx.conn, done))


__all__ = ["ACTIONS", "INBOX_STATUSES", "act", "admitting_flows", "get_request", "inbox", "on_record_deleted",
           "on_record_updated",
           "requests_for_record", "submit"]
