"""The OpenAPI 3.1 document of the generated API, built with apispec from the live schema.

Each object gets a record schema (what GET returns) and an input schema (what POST and
PATCH accept), derived from its field types, so the document follows every apply.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from apispec import APISpec

from metabiz.objects.schema import CompiledObject, RuntimeSchema
from metabiz.platform.access import Actor
from metabiz.platform.extensions import OpenApiPaths

ERROR = {"$ref": "#/components/schemas/Error"}
SYSTEM_PROPERTIES: dict[str, Any] = {
    "id": {"type": "integer", "readOnly": True},
    "version": {"type": "integer", "description": "send it back on PATCH to detect conflicts"},
    "owner": {"type": ["string", "null"],
              "description": "user name (none for a record in a public pool)"},
    "created_at": {"type": "string", "format": "date-time", "readOnly": True},
    "created_by": {"type": "string", "readOnly": True},
    "updated_at": {"type": "string", "format": "date-time", "readOnly": True},
    "updated_by": {"type": "string", "readOnly": True},
    "approval_status": {"type": "string", "readOnly": True,
                        "enum": ["none", "pending", "approved", "rejected", "recalled"]},
}


def nullable(prop: dict[str, Any]) -> dict[str, Any]:
    """`prop` allowing null as well (a blank value), in OpenAPI 3.1's JSON Schema."""
    out = dict(prop)
    kind = out.get("type")
    if isinstance(kind, str):
        out["type"] = [kind, "null"]
    if "enum" in out and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    return out


def _required_value(prop: dict[str, Any]) -> dict[str, Any]:
    """A required field's input: present and not blank (blank text is 'required' too)."""
    return {**prop, "minLength": max(1, prop.get("minLength", 1))} \
        if prop.get("type") == "string" else prop


def _responses(ok: dict[str, Any], *codes: int) -> dict[str, Any]:
    texts = {400: "bad request", 401: "no or bad credentials", 403: "forbidden",
             404: "not found", 405: "method not allowed", 409: "conflict", 413: "too large",
             422: "validation failed"}
    out = dict(ok)
    for code in codes:
        out[str(code)] = {"description": texts[code],
                          "content": {"application/json": {"schema": ERROR}}}
    return out


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def openapi_document(schema: RuntimeSchema, actor: Actor | None,
                     packages: Sequence[OpenApiPaths] = ()) -> dict[str, Any]:
    """The document as `actor` may see it: the objects they may read, without the fields
    hidden from them (no object at all for an anonymous caller), and the paths the other
    packages registered (`Extensions.add_openapi`: flows, reports, spreadsheets)."""
    app = schema.bundle.app
    spec = APISpec(title="metabiz API", version=str(schema.version), openapi_version="3.1.0",
                   info={"description": "Generated from the applied metadata"
                         + (f" ({app.name} {app.version})" if app else "")},
                   servers=[{"url": "/api/v1"}])
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.schema("Error", {"type": "object", "properties": {"error": {
        "type": "object", "required": ["code", "message"], "properties": {
            "code": {"type": "string"}, "message": {"type": "string"},
            "fields": {"type": "object",
                       "additionalProperties": {"type": "array", "items": {"type": "string"}}},
            "line": {"type": "integer"}, "column": {"type": "integer"}}}}})
    spec.path(path="/me", operations={"get": {
        "summary": "The current user", "responses": _responses(
            {"200": _json({"type": "object"})}, 401)}})
    spec.path(path="/meta/objects", operations={"get": {
        "summary": "The objects the current user may read",
        "responses": _responses({"200": _json({"type": "object"})}, 401)}})
    spec.path(path="/formulas/evaluate", operations={"post": {
        "summary": "Check and evaluate a formula on a record",
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["formula"], "properties": {
                "object": {"type": "string"}, "formula": {"type": "string"},
                "record": {"type": "object"}}}}}},
        "responses": _responses({"200": _json({"type": "object", "properties": {
            "type": {"type": "string"}, "value": {}}})}, 400, 401, 404)}})
    for obj in schema.objects.values():
        if actor is not None and schema.access.allowed(actor, obj.name, "read"):
            _object_paths(spec, obj, schema.access.hidden_fields(actor, obj.name, obj.fields))
    for package_paths in packages:
        for path, item in package_paths(schema, actor).items():
            spec.path(path=path, parameters=item.get("parameters"), operations={
                method: operation for method, operation in item.items()
                if method != "parameters"})
    return spec.to_dict()


def _object_paths(spec: APISpec, obj: CompiledObject, hidden: set[str]) -> None:
    name = obj.name
    record_props = dict(SYSTEM_PROPERTIES)
    input_props: dict[str, Any] = {"owner": {"type": ["string", "null"], "minLength": 1,
                                             "description": "user name (null: yours)"}}
    required = []
    for cf in obj.fields.values():
        if cf.name in hidden:
            continue
        prop = dict(cf.ftype.openapi(cf.fdef))
        label = cf.fdef.label.get("en")
        if label:
            prop.setdefault("title", label)
        record_props[cf.name] = nullable(prop)  # any field may be blank on a stored record
        if cf.ftype.writable:
            written = {k: v for k, v in prop.items() if k != "readOnly"}
            if cf.fdef.required:
                required.append(cf.name)
                input_props[cf.name] = _required_value(written)
            else:
                input_props[cf.name] = nullable(written)
    if obj.odef.pools:
        record_props["pool"] = {"type": ["string", "null"], "readOnly": True,
                                "description": "the public pool it is in (no owner then)"}
    spec.components.schema(f"{name}", {"type": "object", "properties": record_props})
    input_schema: dict[str, Any] = {"type": "object", "properties": input_props,
                                    "additionalProperties": False}
    if required:
        input_schema["required"] = required
    spec.components.schema(f"{name}_input", input_schema)
    ref = {"$ref": f"#/components/schemas/{name}"}
    body = {"required": True, "content": {"application/json": {
        "schema": {"$ref": f"#/components/schemas/{name}_input"}}}}
    patch_body = {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "properties": {**input_props, "version": {"type": "integer"}},
        "additionalProperties": False}}}}
    label = obj.odef.label.get("en")
    shown = [*SYSTEM_PROPERTIES, *(n for n in obj.fields if n not in hidden)]
    sortable = [f"{sign}{n}" for n in [*SYSTEM_PROPERTIES, *(
        cf.name for cf in obj.fields.values() if cf.name not in hidden and
        (cf.formula is not None or cf.ftype.stored))] for sign in ("", "-")]
    params = [
        {"name": "filter", "in": "query", "schema": {"type": "string"},
         "description": "a formula, e.g. amount > 1000"},
        {"name": "sort", "in": "query", "style": "form", "explode": False,
         "schema": {"type": "array", "items": {"enum": sortable}},
         "description": "fields, - for descending: -amount,name"},
        {"name": "limit", "in": "query",
         "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 50}},
        {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
        {"name": "fields", "in": "query", "style": "form", "explode": False,
         "schema": {"type": "array", "items": {"enum": shown}},
         "description": "the fields to return: name,amount"},
        {"name": "q", "in": "query", "schema": {"type": "string"},
         "description": "search text fields"},
    ]
    spec.path(path=f"/records/{name}", operations={
        "get": {"summary": f"List {label} records", "tags": [name], "parameters": params,
                "responses": _responses({"200": _json({"type": "object", "properties": {
                    "records": {"type": "array", "items": ref},
                    "total": {"type": "integer"}}})}, 400, 401, 403, 404)},
        "post": {"summary": f"Create a {label} record", "tags": [name], "requestBody": body,
                 "responses": _responses({"201": _json(ref, "Created")},
                                         400, 401, 403, 404, 409, 422)}})
    id_param = [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}]
    spec.path(path=f"/records/{name}/{{id}}", parameters=id_param, operations={
        "get": {"summary": f"Get a {label} record", "tags": [name],
                "responses": _responses({"200": _json(ref)}, 401, 403, 404)},
        "patch": {"summary": f"Update a {label} record", "tags": [name],
                  "requestBody": patch_body,
                  "responses": _responses({"200": _json(ref)}, 400, 401, 403, 404, 409, 422)},
        "delete": {"summary": f"Delete a {label} record", "tags": [name],
                   "responses": _responses({"204": {"description": "Deleted"}},
                                           401, 403, 404, 409)}})
    spec.path(path=f"/records/{name}/{{id}}/history", parameters=id_param, operations={
        "get": {"summary": f"Field history of a {label} record", "tags": [name],
                "responses": _responses({"200": _json({"type": "object"})}, 401, 403, 404)}})
    _owner_paths(spec, obj, id_param)


#: what an assign answers beside the record: the assignee now above the pool's claim limit
ABOVE_LIMIT = {"type": "object", "properties": {"_warnings": {
    "type": "array", "description": "present when the assignee now holds more records from "
    "the pool than its claim limit lets members claim (admins may assign past it)",
    "items": {"type": "object", "properties": {
        "code": {"const": "above_claim_limit"}, "owner": {"type": "string"},
        "pool": {"type": "string"}, "held": {"type": "integer"}, "limit": {"type": "integer"},
        "message": {"type": "string"}}}}}}


def _owner_paths(spec: APISpec, obj: CompiledObject, id_param: list[dict[str, Any]]) -> None:
    """Transfer, the activity timeline and follow-ups; claim, return and assign with pools."""
    name, label = obj.name, obj.odef.label.get("en")
    ref = {"$ref": f"#/components/schemas/{name}"}

    def body(**properties: Any) -> dict[str, Any]:
        return {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "properties": properties}}}}

    owner = {"type": "string", "description": "an active user's name"}
    spec.path(path=f"/records/{name}/transfer", operations={"post": {
        "summary": f"Transfer {label} records to another owner (all or nothing)",
        "tags": [name], "requestBody": body(ids={"type": "array", "items": {"type": "integer"}},
                                            owner=owner),
        "responses": _responses({"200": _json({"type": "object"})}, 400, 401, 403, 404, 409,
                                422)}})
    spec.path(path=f"/records/{name}/{{id}}/transfer", parameters=id_param, operations={
        "post": {"summary": f"Transfer a {label} record to another owner", "tags": [name],
                 "requestBody": body(owner=owner),
                 "responses": _responses({"200": _json(ref)}, 400, 401, 403, 404, 409, 422)}})
    spec.path(path=f"/records/{name}/{{id}}/timeline", parameters=id_param, operations={
        "get": {"summary": f"The activity timeline of a {label} record, newest first",
                "tags": [name],
                "responses": _responses({"200": _json({"type": "object"})}, 401, 403, 404)}})
    spec.path(path=f"/records/{name}/{{id}}/follow-ups", parameters=id_param, operations={
        "post": {"summary": f"Log a follow-up on a {label} record", "tags": [name],
                 "requestBody": body(text={"type": "string"}),
                 "responses": _responses({"201": _json({"type": "object"}, "Created")},
                                         400, 401, 403, 404, 422)}})
    if not obj.odef.pools:
        return
    for action, summary, props, codes in (
            ("claim", "Claim a pooled {} record", {}, (403, 404, 409)),
            ("return", "Return a {} record to a pool",
             {"reason": {"type": "string"}, "pool": {"type": "string"}}, (403, 404, 409, 422)),
            ("assign", "Assign a pooled {} record (pool admins)", {"owner": owner},
             (403, 404, 409, 422))):
        answer = ref if action != "assign" else {"allOf": [ref, ABOVE_LIMIT]}
        operation: dict[str, Any] = {"summary": summary.format(label), "tags": [name],
                                     "responses": _responses({"200": _json(answer)}, 400, 401,
                                                             *codes)}
        if props:
            operation["requestBody"] = body(**props)
        spec.path(path=f"/records/{name}/{{id}}/{action}", parameters=id_param,
                  operations={"post": operation})


# -- for the paths other packages add (Extensions.add_openapi) ----------------------------

#: an operation's responses: `ok` (`{"200": …}`) and the error responses of `codes`
responses = _responses


def ok(schema: dict[str, Any], status: str = "200", description: str = "OK") -> dict[str, Any]:
    """An operation's success response, for `responses`: a JSON body `schema` describes."""
    return {status: _json(schema, description)}
