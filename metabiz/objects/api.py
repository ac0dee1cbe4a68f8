"""The generated REST API: records, their history, object metadata and formula evaluation.

Views only parse the request, open a unit of work and call the record service.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.routing import BaseConverter

from metabiz.errors import BadRequest, FormulaError
from metabiz.formulas import EvalContext, check, compile_python, from_json_value, to_json_value
from metabiz.objects import query, records, search
from metabiz.objects.context import Context
from metabiz.objects.openapi import openapi_document
from metabiz.objects.schema import CompiledObject
from metabiz.objects.visible_metadata import describe
from metabiz.objects.work import unit_of_work
from metabiz.platform.api import (
    API_PREFIX,
    current_actor,
    json_body,
    require_actor,
    writing_actor,
)

api = Blueprint("objects_api", __name__, url_prefix=API_PREFIX)


# -- records ---------------------------------------------------------------------------


@api.get("/records/<object_name>")
def list_records(object_name: str) -> Any:
    args = request.args
    with unit_of_work(require_actor()) as ctx:
        page = query.list_records(ctx, object_name, filter=args.get("filter"),
                                  sort=args.get("sort"), limit=args.get("limit"),
                                  offset=args.get("offset"), fields=args.get("fields"),
                                  q=args.get("q"))
    return jsonify({"records": page.records, "total": page.total})


@api.post("/records/<object_name>")
def create_record(object_name: str) -> Any:
    # the caller found in the write's own transaction; the body read inside it (a bad one
    # rolls it back), after the caller as before: 401 comes before 400
    with unit_of_work(writing_actor(), write=True) as ctx:
        record = records.create(ctx, object_name, json_body())
    response = jsonify(record)
    response.status_code = 201
    response.headers["Location"] = f"{API_PREFIX}/records/{object_name}/{record['id']}"
    return response


#: actions on a whole object whose path is that of a record id (`POST …/transfer`, the
#: spreadsheets' `GET …/export`)
COLLECTION_ACTIONS = ("transfer", "export")


class RecordIdConverter(BaseConverter):
    """A record id in a path: any segment but the collection actions, so `PATCH …/transfer`
    is a 405 naming the methods `…/transfer` takes, not a search for a record "transfer"."""

    regex = "(?!(?:" + "|".join(COLLECTION_ACTIONS) + ")$)[^/]+"


@api.get("/records/<object_name>/<record_id:record_id>")
def get_record(object_name: str, record_id: str) -> Any:
    with unit_of_work(require_actor()) as ctx:
        return jsonify(records.get(ctx, object_name, record_id))


@api.patch("/records/<object_name>/<record_id:record_id>")
def update_record(object_name: str, record_id: str) -> Any:
    with unit_of_work(writing_actor(), write=True) as ctx:  # as create_record
        return jsonify(records.update(ctx, object_name, record_id, json_body()))


@api.delete("/records/<object_name>/<record_id:record_id>")
def delete_record(object_name: str, record_id: str) -> Any:
    with unit_of_work(writing_actor(), write=True) as ctx:
        records.delete(ctx, object_name, record_id)
    return Response(status=204)


@api.get("/records/<object_name>/<record_id>/history")
def record_history(object_name: str, record_id: str) -> Any:
    with unit_of_work(require_actor()) as ctx:
        return jsonify({"history": records.history(ctx, object_name, record_id)})


@api.get("/search")
def search_records() -> Any:
    limit = search.limit_of(request.args.get("limit"))
    with unit_of_work(require_actor()) as ctx:
        hits = search.search(ctx, request.args.get("q"), limit=limit)
    return jsonify({"results": [hit.to_json() for hit in hits]})


# -- metadata --------------------------------------------------------------------------


@api.get("/meta/objects")
def meta_objects() -> Any:
    with unit_of_work(require_actor()) as ctx:
        visible = [o for o in ctx.schema.objects.values()
                   if ctx.schema.access.allowed(ctx.actor, o.name, "read")]
        return jsonify({"objects": [describe(ctx, o, brief=True) for o in visible]})


@api.get("/meta/objects/<object_name>")
def meta_object(object_name: str) -> Any:
    with unit_of_work(require_actor()) as ctx:
        obj = ctx.schema.object(object_name)
        ctx.schema.access.require(ctx.actor, obj.name, "read")
        return jsonify(describe(ctx, obj))


# -- formulas --------------------------------------------------------------------------


@api.post("/formulas/evaluate")
def evaluate_formula() -> Any:
    body = json_body()
    if not isinstance(body, dict) or not isinstance(body.get("formula"), str):
        raise BadRequest("send {\"object\", \"formula\", \"record\"}",
                         fields={"formula": ["a formula text is required"]})
    if not isinstance(body.get("object"), str | None):
        raise BadRequest("object must be an object's name",
                         fields={"object": ["not a string"]})
    record = body.get("record") or {}
    if not isinstance(record, dict):
        raise BadRequest("record must be a JSON object", fields={"record": ["not an object"]})
    with unit_of_work(require_actor()) as ctx:
        object_name = body.get("object")
        obj = ctx.schema.object(object_name) if object_name else None
        if obj is not None:
            ctx.schema.access.require(ctx.actor, obj.name, "read")
        result = evaluate(ctx, obj, body["formula"], record)
    return jsonify(result)


def evaluate(ctx: Context, obj: CompiledObject | None, source: str,
             record: dict[str, Any]) -> dict[str, Any]:
    """Check and run a formula on a record given as JSON: `{"type", "value"}`."""
    object_name = obj.name if obj else ""
    try:
        checked = check(source, ctx.schema.catalog, object_name, context="condition")
        if obj is not None:
            ctx.schema.access.refuse_hidden(ctx.actor, obj.name,
                                            ctx.schema._dependencies(obj.name, checked))
        resolver = records.Resolver(ctx, scoped=True)
        values: dict[str, Any] = {}
        for key, raw in record.items():
            spec = ctx.schema.catalog.field(object_name, key) if obj else None
            if spec is None:
                raise BadRequest(f"record: unknown field {key!r}",
                                 fields={"record": [f"unknown field {key!r}"]})
            values[key] = from_json_value(raw, spec.type)
        if obj is not None:
            values = records.compute(ctx, obj, {**{n: None for n in obj.fields}, **values},
                                     resolver)
        run = compile_python(checked)
        value = run(resolver.context(obj, values) if obj is not None else
                    EvalContext(record=values, now=ctx.now, vlookup=resolver.vlookup))
    except FormulaError as err:
        raise BadRequest.from_formula("formula", err) from None
    except ValueError as err:
        raise BadRequest(f"record: {err}", fields={"record": [str(err)]}) from None
    return {"type": checked.type.value, "value": to_json_value(value, checked.type)}


@api.get("/openapi.json")
def openapi() -> Any:
    actor = current_actor(optional=True)
    services = current_app.extensions["metabiz"]
    with services.engine.connect() as conn:
        schema = services.runtime.schema(conn)
    # made once per metadata version and set of roles, kept as the JSON it is served as
    served: dict[Any, bytes] = schema.compiled.setdefault("openapi", {})
    key = None if actor is None else (actor.roles, actor.is_system)
    if key not in served:
        served[key] = jsonify(openapi_document(
            schema, actor, services.runtime.extensions.openapi_paths)).get_data()
    return current_app.response_class(served[key], mimetype="application/json")
