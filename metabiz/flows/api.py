"""The flows' REST endpoints: approvals, the approvals inbox, notifications, assignment.

Thin views: parse the request, open a unit of work, call flows.approvals /
flows.notifications / flows.assignment, serialise.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from metabiz.errors import BadRequest, NotFound
from metabiz.flows import approvals, assignment, notifications
from metabiz.objects.work import unit_of_work
from metabiz.platform.api import API_PREFIX, json_body, require_actor

api = Blueprint("flows_api", __name__, url_prefix=API_PREFIX)


def _optional_body() -> dict[str, Any]:
    """The JSON object body, or {} when the request has none."""
    if not request.get_data(cache=True).strip():
        return {}
    body = json_body()
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body


def _text(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise BadRequest(f"{key} must be a string", fields={key: ["not a string"]})
    return value


# -- approvals ---------------------------------------------------------------------------


@api.post("/records/<object_name>/<record_id>/approvals")
def submit(object_name: str, record_id: str) -> Any:
    actor = require_actor()
    body = _optional_body()
    with unit_of_work(actor, write=True) as ctx:
        result = approvals.submit(ctx, object_name, record_id, flow=_text(body, "flow"),
                                  comment=_text(body, "comment"))
    response = jsonify(result)
    response.status_code = 201
    response.headers["Location"] = f"{API_PREFIX}/approvals/{result['id']}"
    return response


@api.get("/records/<object_name>/<record_id>/approvals")
def record_requests(object_name: str, record_id: str) -> Any:
    with unit_of_work(require_actor()) as ctx:
        return jsonify({"requests": approvals.requests_for_record(ctx, object_name, record_id)})


@api.get("/approvals")
def inbox() -> Any:
    status = request.args.get("status", "pending")
    with unit_of_work(require_actor()) as ctx:
        return jsonify({"items": approvals.inbox(ctx, status)})


@api.get("/approvals/<request_id>")
def get_request(request_id: str) -> Any:
    with unit_of_work(require_actor()) as ctx:
        return jsonify(approvals.get_request(ctx, request_id))


@api.post("/approvals/<request_id>/<action>")
def act(request_id: str, action: str) -> Any:
    if action not in approvals.ACTIONS:
        raise NotFound(f"unknown approval action {action!r}")
    actor = require_actor()
    body = _optional_body()
    with unit_of_work(actor, write=True) as ctx:
        return jsonify(approvals.act(ctx, request_id, action, comment=_text(body, "comment"),
                                     to=_text(body, "to")))


# -- assignment on demand ----------------------------------------------------------------


@api.post("/records/<object_name>/<record_id>/assignment")
def assign(object_name: str, record_id: str) -> Any:
    actor = require_actor()
    body = _optional_body()
    with unit_of_work(actor, write=True) as ctx:
        return jsonify(assignment.run_rule(ctx, _text(body, "rule"), object_name, record_id))


# -- notifications -----------------------------------------------------------------------


@api.get("/notifications")
def list_notifications() -> Any:
    args = request.args
    try:
        limit = min(max(int(args.get("limit", 50)), 1), 200)
        offset = max(int(args.get("offset", 0)), 0)
    except ValueError:
        raise BadRequest("limit and offset are whole numbers") from None
    unread_only = args.get("unread") in ("1", "true", "yes")
    with unit_of_work(require_actor()) as ctx:
        items = notifications.for_user(ctx.conn, ctx.actor.name, unread_only=unread_only,
                                       limit=limit, offset=offset)
        unread = notifications.unread_count(ctx.conn, ctx.actor.name)
    return jsonify({"items": items, "unread": unread})


@api.post("/notifications/<notification_id>/read")
def read_notification(notification_id: str) -> Any:
    with unit_of_work(require_actor(), write=True) as ctx:
        return jsonify(notifications.mark_read(ctx.conn, ctx.actor.name, notification_id,
                                               ctx.now))


@api.post("/notifications/read")
def read_all_notifications() -> Any:
    with unit_of_work(require_actor(), write=True) as ctx:
        count = notifications.mark_all_read(ctx.conn, ctx.actor.name, ctx.now)
    return jsonify({"marked": count})
