"""The flows' endpoints in the OpenAPI document: approvals (submit, a record's requests, the
inbox, acting on a request), assignment on demand and notifications.

Registered with `Extensions.add_openapi`; a record's approval and assignment paths are listed
for the objects the caller may read that have approval flows or assignment rules.
"""

from __future__ import annotations

from typing import Any

from metabiz.flows.approvals.engine import ACTIONS
from metabiz.flows.approvals.views import INBOX_STATUSES
from metabiz.flows.compiled import flows_of
from metabiz.objects.openapi import ok, responses
from metabiz.objects.schema import RuntimeSchema
from metabiz.platform.access import Actor

OBJECT = {"type": "object"}
TEXT = {"type": ["string", "null"]}
ITEMS = {"type": "array", "items": OBJECT}


def body(**properties: Any) -> dict[str, Any]:
    """An optional JSON object body with these properties."""
    return {"required": False, "content": {"application/json": {"schema": {
        "type": "object", "properties": properties}}}}


def openapi_paths(schema: RuntimeSchema, actor: Actor | None) -> dict[str, Any]:
    """The flows' paths; the per-record ones for the objects `actor` may read."""
    paths: dict[str, Any] = {
        "/approvals": {"get": {
            "summary": "The current user's approval work items, newest first", "tags":
                ["approvals"],
            "parameters": [{"name": "status", "in": "query", "schema": {
                "enum": list(INBOX_STATUSES), "default": "pending"}}],
            "responses": responses(ok({"type": "object", "properties": {
                "items": ITEMS}}), 400, 401)}},
        "/approvals/{request}": {"parameters": [_id("request")], "get": {
            "summary": "An approval request with its full history", "tags": ["approvals"],
            "responses": responses(ok(OBJECT), 401, 404)}},
        "/approvals/{request}/{action}": {"parameters": [
            _id("request"), {"name": "action", "in": "path", "required": True,
                             "schema": {"enum": list(ACTIONS)}}], "post": {
            "summary": "Approve, reject, recall or reassign a request as the current user",
            "tags": ["approvals"],
            "requestBody": body(comment=TEXT, to={**TEXT, "description": "the user to "
                                                              "reassign to"}),
            "responses": responses(ok(OBJECT), 400, 401, 403, 404, 409, 422)}},
        "/notifications": {"get": {
            "summary": "The current user's notifications, newest first",
            "tags": ["notifications"], "parameters": [
                {"name": "unread", "in": "query", "schema": {"type": "string"},
                 "description": "1, true or yes: only the unread ones"},
                {"name": "limit", "in": "query", "schema": {
                    "type": "integer", "minimum": 1, "maximum": 200, "default": 50}},
                {"name": "offset", "in": "query",
                 "schema": {"type": "integer", "minimum": 0}}],
            "responses": responses(ok({"type": "object", "properties": {
                "items": ITEMS, "unread": {"type": "integer"}}}), 400, 401)}},
        "/notifications/{notification}/read": {"parameters": [_id("notification")], "post": {
            "summary": "Mark a notification read", "tags": ["notifications"],
            "responses": responses(ok(OBJECT), 401, 404)}},
        "/notifications/read": {"post": {
            "summary": "Mark every notification of the current user read",
            "tags": ["notifications"], "responses": responses(ok({
                "type": "object", "properties": {"marked": {"type": "integer"}}}), 401)}},
    }
    if actor is None:
        return paths
    flows = flows_of(schema)
    for obj in schema.objects.values():
        if not schema.access.allowed(actor, obj.name, "read"):
            continue
        record = [_id("id")]
        if obj.name in flows.approvals:
            paths[f"/records/{obj.name}/{{id}}/approvals"] = {"parameters": record, "get": {
                "summary": "The record's approval requests with their full history",
                "tags": [obj.name], "responses": responses(ok({
                    "type": "object", "properties": {"requests": ITEMS}}), 401, 403, 404)},
                "post": {
                "summary": "Submit the record for approval", "tags": [obj.name],
                "requestBody": body(flow={**TEXT, "description": "the flow's api_name "
                                          "(default: the first whose entry condition the "
                                          "record meets)"}, comment=TEXT),
                "responses": responses(ok(OBJECT, "201", "Created"),
                                       400, 401, 403, 404, 409, 422)}}
        if obj.name in flows.assignments:
            paths[f"/records/{obj.name}/{{id}}/assignment"] = {"parameters": record, "post": {
                "summary": "Run an assignment rule on the record", "tags": [obj.name],
                "requestBody": body(rule={**TEXT, "description": "the rule's api_name "
                                          "(default: the object's first)"}),
                "responses": responses(ok(OBJECT), 400, 401, 403, 404, 409, 422)}}
    return paths


def _id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}

