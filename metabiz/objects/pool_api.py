"""The REST API of public pools and owner transfers: claim, return, assign, transfer.

Views parse the request, open a unit of work and call `objects.pools`; errors map to
HTTP in the web kernel (409 `claim_limit`, 403, 422).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from metabiz.errors import BadRequest
from metabiz.objects import pools, query
from metabiz.objects.work import unit_of_work
from metabiz.platform.api import API_PREFIX, json_body, require_actor

api = Blueprint("objects_pool_api", __name__, url_prefix=API_PREFIX)


def _body() -> dict[str, Any]:
    data = json_body() if request.get_data() else {}
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object")
    return data


@api.post("/records/<object_name>/<record_id>/claim")
def claim(object_name: str, record_id: str) -> Any:
    with unit_of_work(require_actor(), write=True) as ctx:
        return jsonify(pools.claim(ctx, object_name, record_id))


@api.post("/records/<object_name>/<record_id>/return")
def return_record(object_name: str, record_id: str) -> Any:
    data = _body()
    with unit_of_work(require_actor(), write=True) as ctx:
        return jsonify(pools.return_to_pool(ctx, object_name, record_id,
                                            reason=data.get("reason"), pool=data.get("pool")))


@api.post("/records/<object_name>/<record_id>/assign")
def assign(object_name: str, record_id: str) -> Any:
    """The assigned record; `_warnings` when the assignee now holds more from the pool than
    its claim limit (an admin may assign past it; members' claims stop there)."""
    data = _body()
    with unit_of_work(require_actor(), write=True) as ctx:
        done = pools.assign_many(ctx, object_name, [record_id], data.get("owner"))
    [record] = done.records
    if done.above_limit:
        record = {**record, "_warnings": [a.to_json() for a in done.above_limit]}
    return jsonify(record)


@api.post("/records/<object_name>/<record_id>/transfer")
def transfer_one(object_name: str, record_id: str) -> Any:
    data = _body()
    with unit_of_work(require_actor(), write=True) as ctx:
        return jsonify(pools.transfer(ctx, object_name, [record_id], data.get("owner"))[0])


@api.post("/records/<object_name>/transfer")
def transfer_many(object_name: str) -> Any:
    data = _body()
    with unit_of_work(require_actor(), write=True) as ctx:
        done = pools.transfer(ctx, object_name, data.get("ids"), data.get("owner"))
    return jsonify({"records": done})


@api.get("/pools")
def my_pools() -> Any:
    with unit_of_work(require_actor()) as ctx:
        return jsonify({"pools": [
            {"object": ref.object_name, "pool": ref.pool.api_name,
             "label": ref.pool.label.get(ctx.language),
             "admin": ctx.schema.access.pool_admin(ctx.actor, ref.object_name,
                                                   ref.pool.api_name)}
            for ref in pools.my_pools(ctx)]})


@api.get("/pools/<object_name>/<pool_name>")
def pool_records(object_name: str, pool_name: str) -> Any:
    args = request.args
    with unit_of_work(require_actor()) as ctx:
        obj, pool = pools.pool_of(ctx, object_name, pool_name)
        page = query.list_records(ctx, obj.name, filter=pools.pool_filter(pool, args.get("filter")),
                                  sort=args.get("sort"), limit=args.get("limit"),
                                  offset=args.get("offset"), q=args.get("q"))
    return jsonify({"records": page.records, "total": page.total})
