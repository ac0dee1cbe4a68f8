"""The REST API of a record's activity: its timeline, and logging a follow-up on it.

`GET …/timeline` lists the events newest first; `POST …/follow-ups {"text"}` creates the
object's follow-up record (201) or keeps a note.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify

from metabiz.errors import BadRequest
from metabiz.objects import activity
from metabiz.objects.work import unit_of_work
from metabiz.platform.api import API_PREFIX, json_body, require_actor

api = Blueprint("objects_activity_api", __name__, url_prefix=API_PREFIX)


@api.get("/records/<object_name>/<record_id>/timeline")
def timeline(object_name: str, record_id: str) -> Any:
    sources = current_app.extensions["metabiz"].runtime.extensions.timeline_sources
    with unit_of_work(require_actor()) as ctx:
        entries = activity.timeline(ctx, object_name, record_id, sources)
    return jsonify({"entries": [activity.to_json(e) for e in entries]})


@api.post("/records/<object_name>/<record_id>/follow-ups")
def follow_up(object_name: str, record_id: str) -> Any:
    data = json_body()
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object")
    with unit_of_work(require_actor(), write=True) as ctx:
        done = activity.log_follow_up(ctx, object_name, record_id, data.get("text"))
    response = jsonify(done)
    response.status_code = 201
    return response
