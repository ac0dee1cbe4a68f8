"""The REST endpoints of file and image fields: upload (multipart `file`), download (the
value's `url`, `?thumbnail=1` for an image's thumbnail) and delete."""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, Response, jsonify, request, send_file

from metabiz.errors import BadRequest
from metabiz.objects import files
from metabiz.objects.work import app_storage, unit_of_work
from metabiz.platform.api import API_PREFIX, require_actor

files_api = Blueprint("objects_files_api", __name__, url_prefix=API_PREFIX)

_PATH = "/records/<object_name>/<record_id>/files/<field>"


@files_api.post(_PATH)
def upload(object_name: str, record_id: str, field: str) -> Any:
    actor = require_actor()
    sent = request.files.get("file")
    if sent is None:
        raise BadRequest("send the file as multipart/form-data under the name 'file'")
    data = sent.read()
    with unit_of_work(actor, write=True) as ctx:
        record = files.attach(ctx, app_storage(), object_name, record_id, field,
                              sent.filename or "", data, sent.mimetype)
    response = jsonify(record)
    response.status_code = 201
    return response


@files_api.delete(_PATH)
def delete(object_name: str, record_id: str, field: str) -> Any:
    with unit_of_work(require_actor(), write=True) as ctx:
        return jsonify(files.remove(ctx, object_name, record_id, field))


@files_api.get(_PATH)
def download(object_name: str, record_id: str, field: str) -> Response:
    with unit_of_work(require_actor()) as ctx:
        found = files.download(ctx, app_storage(), object_name, record_id, field,
                               thumbnail=request.args.get("thumbnail") == "1")
    response = send_file(io.BytesIO(found.data), mimetype=found.content_type,
                         as_attachment=not found.inline, download_name=found.name,
                         max_age=0)
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
