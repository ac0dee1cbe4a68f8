"""The Metadata API (admin only; 404 for everyone else) and the formula check the builder's
editor calls as the admin types.

Thin views: who is calling, the request's body and options, then documents.py / versions.py,
which apply through the same code as `metabiz apply`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from werkzeug.routing import BaseConverter

from metabiz.builder_ui import calendars, documents, versions
from metabiz.builder_ui.formula_check import check_formula
from metabiz.errors import BadRequest, NotFound
from metabiz.objects.evolution import Plan
from metabiz.objects.work import unit_of_work
from metabiz.platform.access import Actor
from metabiz.platform.api import API_PREFIX, json_body, require_actor
from metabiz.platform.extensions import Extensions
from metabiz.platform.metadata.store import current_version, split_apps
from metabiz.platform.metadata.store import load_documents as stored_documents
from metabiz.platform.request_input import whole_number

api = Blueprint("builder_api", __name__, url_prefix=API_PREFIX)


class KindConverter(BaseConverter):
    """A document kind in `/meta/<kind>/<name>`: any folder name but `apps` and `versions`,
    whose own paths (`/meta/versions/<n>`) a PUT or DELETE must not fall into."""

    regex = r"(?!(?:apps|versions)(?![^/]))[^/]+"


def init_app(app: Flask) -> None:
    app.url_map.converters["document_kind"] = KindConverter
    app.register_blueprint(api)


def require_admin() -> Actor:
    """The caller, if an administrator; anyone else does not learn the API exists."""
    actor = require_actor()
    if not actor.is_admin:
        raise NotFound("not found")
    return actor


def _services() -> tuple[Any, Extensions]:
    services = current_app.extensions["metabiz"]
    return services.engine, services.runtime.extensions


def _flag(name: str) -> bool:
    return request.args.get(name, "").lower() in ("1", "true", "yes")


def base_version() -> int | None:
    """The metadata version the client's copy comes from: `If-Match` or `?base_version=`."""
    raw = request.headers.get("If-Match") or request.args.get("base_version")
    if raw is None or raw.strip() in ("", "*"):
        return None
    number = whole_number(raw.strip().removeprefix("W/").strip('"'))
    if number is None:
        raise BadRequest("If-Match / base_version must be a metadata version number",
                         fields={"base_version": ["not a version number"]})
    return number


def plan_json(plan: Plan) -> dict[str, Any]:
    out: dict[str, Any] = {"plan": [f"{c.sign} {c.text}" for c in plan.changes],
                           "changes": [{"sign": c.sign, "text": c.text, "details": c.details}
                                       for c in plan.changes],
                           "dry_run": plan.dry_run, "base": plan.base}
    if plan.version is not None:
        out["version"] = plan.version
    return out


@api.get("/meta/apps")
def apps() -> Any:
    require_admin()
    engine, extensions = _services()
    kinds = documents.kinds(extensions)
    with engine.connect() as conn:
        version = current_version(conn)
        stored = stored_documents(conn)
    out = []
    for name, docs in sorted(split_apps(stored).items()):
        manifest = docs.get("app.json") or {}
        listed: dict[str, list[str]] = {kind: [] for kind in kinds}
        for rel in sorted(docs):
            folder, _, file_name = rel.partition("/")
            if folder in listed and file_name.endswith(".json"):
                listed[folder].append(file_name.removesuffix(".json"))
        out.append({"name": name, "label": manifest.get("label", name),
                    "version": manifest.get("version"), "documents": listed,
                    "calendars": manifest.get("calendars") or {}})
    return jsonify({"apps": out, "metadata_version": version})


@api.put("/meta/<document_kind:kind>/<name>")
def put_document(kind: str, name: str) -> Any:
    actor = require_admin()
    engine, extensions = _services()
    documents.check_kind(extensions, kind)
    body = json_body()
    edit = documents.Edit(kind, name, base_version())
    plan = documents.put_document(engine, extensions, edit, body,
                                  app=request.args.get("app") or None, dry_run=_flag("dry_run"),
                                  applied_by=actor.name)
    return jsonify(plan_json(plan))


@api.delete("/meta/<document_kind:kind>/<name>")
def delete_document(kind: str, name: str) -> Any:
    actor = require_admin()
    engine, extensions = _services()
    edit = documents.Edit(kind, name, base_version())
    plan = documents.delete_document(engine, extensions, edit, dry_run=_flag("dry_run"),
                                     applied_by=actor.name)
    return jsonify(plan_json(plan))


@api.put("/meta/apps/<app>/calendars/<name>")
def put_calendar(app: str, name: str) -> Any:
    """One business calendar of an app's app.json: the body is the calendar as in the file."""
    actor = require_admin()
    engine, extensions = _services()
    body = json_body()
    if not isinstance(body, dict):
        raise BadRequest('send the calendar: {"holidays": [dates], "workdays": [dates]}')
    if not calendars.NAME.match(name):
        raise BadRequest(f"{name!r} is not a calendar name", fields={"name": [
            "lower-case letters, digits and _, starting with a letter"]})
    plan = calendars.put_calendar(engine, extensions, app, name, body,
                                  base_version=base_version(), dry_run=_flag("dry_run"),
                                  applied_by=actor.name)
    return jsonify(plan_json(plan))


@api.delete("/meta/apps/<app>/calendars/<name>")
def delete_calendar(app: str, name: str) -> Any:
    actor = require_admin()
    engine, extensions = _services()
    plan = calendars.put_calendar(engine, extensions, app, name, None,
                                  base_version=base_version(), dry_run=_flag("dry_run"),
                                  applied_by=actor.name)
    return jsonify(plan_json(plan))


@api.get("/meta/versions")
def list_versions() -> Any:
    require_admin()
    engine, _ = _services()
    with engine.connect() as conn:
        return jsonify({"versions": versions.versions(conn)})


@api.get("/meta/versions/<int:number>")
def one_version(number: int) -> Any:
    require_admin()
    engine, _ = _services()
    with engine.connect() as conn:
        return jsonify(versions.version(conn, number))


@api.post("/meta/versions/<int:number>/revert")
def revert(number: int) -> Any:
    actor = require_admin()
    engine, extensions = _services()
    plan = versions.revert(engine, extensions, number, dry_run=_flag("dry_run"),
                           applied_by=actor.name)
    return jsonify(plan_json(plan))


@api.post("/formulas/check")
def formula_check() -> Any:
    body = json_body()
    if not isinstance(body, dict):
        raise BadRequest("send {\"object\", \"formula\", \"return_type\"?}")
    with unit_of_work(require_actor()) as ctx:
        result = check_formula(ctx, body)
    if "errors" in result:
        first = result["errors"][0]
        response: Response = jsonify({"error": {
            "code": "bad_request", "message": first["message"],
            "fields": {"formula": [e["message"] for e in result["errors"]]},
            "line": first["line"], "column": first["column"], "errors": result["errors"]}})
        response.status_code = 400
        return response
    return jsonify(result)
