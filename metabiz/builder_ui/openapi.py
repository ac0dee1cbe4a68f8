"""The Metadata API and the formula check in the OpenAPI document: apps, documents by kind,
calendars, versions and revert (administrators only), and the builder's live formula check.

Registered with `Extensions.add_openapi` (a closure over the extensions, so the document
kinds are those registered when the document is built). The Metadata API answers 404 to
everyone but administrators, so only an administrator's document lists it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from metabiz.builder_ui.calendars import DATE_KEYS
from metabiz.builder_ui.documents import kinds
from metabiz.builder_ui.formula_check import EXPECTED
from metabiz.formulas.checker import CONTEXTS
from metabiz.objects.openapi import ok, responses
from metabiz.objects.schema import RuntimeSchema
from metabiz.platform.access import Actor
from metabiz.platform.extensions import Extensions

OBJECT = {"type": "object"}
TAGS = ["metadata"]
#: a metadata name (an api_name), as the documents' schemas define it
NAME = {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,62}$"}
DRY_RUN = {"name": "dry_run", "in": "query", "schema": {"type": "string"},
           "description": "1, true or yes: plan the change, apply nothing"}
DOCUMENT = [{"name": "name", "in": "path", "required": True, "schema": NAME,
             "description": "the document's api_name"}]
BASE = [{"name": "If-Match", "in": "header", "schema": {"type": "string"},
         "description": "the metadata version the client's copy comes from, `7` or `\"7\"` "
                        "(409 when the document changed since; anything but a version "
                        "number or `*` is a 400)"},
        {"name": "base_version", "in": "query", "schema": {"type": "integer", "minimum": 0},
         "description": "the same as If-Match (0: a database no metadata was applied to)"}]
PLAN = {"type": "object", "required": ["plan", "changes", "dry_run"], "properties": {
    "plan": {"type": "array", "items": {"type": "string"},
             "description": "the plan's lines: `+ add field lead.score`"},
    "changes": {"type": "array", "items": {"type": "object", "properties": {
        "sign": {"type": "string"}, "text": {"type": "string"}, "details": {}}}},
    "dry_run": {"type": "boolean"}, "base": {"type": ["integer", "null"]},
    "version": {"type": "integer", "description": "the new metadata version (not on a dry "
                                                  "run, nor when nothing changed)"}}}
VERSION: dict[str, Any] = {"type": "object", "properties": {
    "version": {"type": "integer"}, "at": {"type": "string"}, "by": {"type": "string"},
    "summary": {"type": ["string", "null"]}}}
NUMBER = [{"name": "number", "in": "path", "required": True,
           "schema": {"type": "integer", "minimum": 1}, "description": "a metadata version"}]
CALENDAR = {"type": "object", "description": "a business calendar as in app.json",
            "properties": {key: {"type": "array", "items": {"type": "string",
                                                            "format": "date"}}
                           for key in DATE_KEYS}}


def paths_for(extensions: Extensions) -> Callable[[RuntimeSchema, Actor | None],
                                                   dict[str, Any]]:
    """The builder's `openapi_paths`, the document kinds read from `extensions` each time."""

    def openapi_paths(schema: RuntimeSchema, actor: Actor | None) -> dict[str, Any]:
        if actor is None:
            return {}
        paths: dict[str, Any] = {"/formulas/check": _formula_check(),
                                 "/meta/objects/{name}": {"parameters": DOCUMENT,
                                                          "get": _object_metadata()}}
        if actor.is_admin:
            for kind in kinds(extensions):
                paths.setdefault(f"/meta/{kind}/{{name}}", {"parameters": DOCUMENT}).update(
                    _document(kind))
            paths.update(_metadata())
        return paths

    return openapi_paths


def _object_metadata() -> dict[str, Any]:
    """`GET /meta/objects/<object>` (the objects package's): listed here, where the same
    path's PUT and DELETE are, an OpenAPI path being one item."""
    return {"summary": "One object's metadata as the current user may see it",
            "tags": ["metadata"], "responses": responses(ok(OBJECT), 401, 403, 404)}


def _document(kind: str) -> dict[str, Any]:
    applies = (400, 401, 404, 409, 422)
    return {
        "put": {
            "summary": f"Add or replace one document of {kind}/ (administrators): the same "
                       "validation, plan and apply as `metabiz apply`", "tags": TAGS,
            "parameters": [DRY_RUN, *BASE, {
                "name": "app", "in": "query", "schema": {"type": "string"},
                "description": "the app a new document goes into (default custom)"}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["api_name"], "description": "the document as "
                "in its file (its api_name the path's name); `renamed_from` renames it, data "
                "kept", "properties": {"api_name": NAME}}}}},
            "responses": responses(ok(PLAN), *applies)},
        "delete": {
            "summary": f"Remove one document of {kind}/ (administrators); objects and fields "
                       "keep their data, restorable", "tags": TAGS,
            "parameters": [DRY_RUN, *BASE],
            "responses": responses(ok(PLAN), *applies)}}


def _formula_check() -> dict[str, Any]:
    return {"post": {
        "summary": "Check a formula as the builder's editor does: its type and a preview on "
                   "a few records, or every error with line and column", "tags": ["formulas"],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["formula"], "properties": {
                "formula": {"type": "string"},
                "object": {"type": "string", "description": "the object the formula is on"},
                "context": {"enum": list(CONTEXTS), "default": "field"},
                "return_type": {"enum": sorted(EXPECTED)},
                "preview": {"type": "boolean", "default": True}}}}}},
        "responses": responses(ok({"type": "object", "properties": {
            "type": {"type": "string"},
            "preview": {"type": "array", "items": {"type": "object", "properties": {
                "id": {"type": "integer"}, "name": {"type": "string"}, "value": {},
                "error": {"type": "string"}}}},
            "errors": {"type": "array", "items": OBJECT}}}), 400, 401, 403, 404)}}


def _metadata() -> dict[str, Any]:
    calendar = [{"name": "app", "in": "path", "required": True, "schema": NAME,
                 "description": "the app whose app.json holds the calendar"},
                {"name": "name", "in": "path", "required": True, "schema": NAME,
                 "description": "the calendar's name"}]
    applies = (400, 401, 404, 409, 422)
    return {
        "/meta/apps": {"get": {
            "summary": "The installed apps, their documents by kind and calendars, and the "
                       "current metadata version (administrators)", "tags": TAGS,
            "responses": responses(ok({"type": "object", "properties": {
                "apps": {"type": "array", "items": {"type": "object", "properties": {
                    "name": {"type": "string"}, "label": {},
                    "version": {"type": ["string", "null"]},
                    "documents": {"type": "object", "additionalProperties": {
                        "type": "array", "items": {"type": "string"}}},
                    "calendars": OBJECT}}},
                "metadata_version": {"type": "integer"}}}), 401, 404)}},
        "/meta/apps/{app}/calendars/{name}": {"parameters": calendar, "put": {
            "summary": "Add or replace a business calendar in an app's app.json "
                       "(administrators)", "tags": TAGS, "parameters": [DRY_RUN, *BASE],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": CALENDAR}}},
            "responses": responses(ok(PLAN), *applies)},
            "delete": {
            "summary": "Remove a business calendar from an app's app.json (administrators)",
            "tags": TAGS, "parameters": [DRY_RUN, *BASE],
            "responses": responses(ok(PLAN), *applies)}},
        "/meta/versions": {"get": {
            "summary": "Every applied metadata version, newest first (administrators)",
            "tags": TAGS, "responses": responses(ok({"type": "object", "properties": {
                "versions": {"type": "array", "items": VERSION}}}), 401, 404)}},
        "/meta/versions/{number}": {"parameters": NUMBER, "get": {
            "summary": "One metadata version: its documents and its diff to the one before "
                       "(administrators)", "tags": TAGS,
            "responses": responses(ok({"type": "object", "properties": {
                **VERSION["properties"], "current": {"type": "boolean"},
                "documents": OBJECT, "diff": {"type": "array", "items": OBJECT}}}),
                401, 404)}},
        "/meta/versions/{number}/revert": {"parameters": NUMBER, "post": {
            "summary": "Make the metadata what it was at a version, as a new version "
                       "(administrators): renames reversed, removed fields back with their "
                       "data", "tags": TAGS, "parameters": [DRY_RUN],
            "responses": responses(ok(PLAN), 400, 401, 404, 409, 422)}},
    }
