"""Calling the REST API from flow tests: a bearer token per user, JSON in and out."""

from __future__ import annotations

import json
from typing import Any

#: the app secret the tests sign webhooks with
SECRET = "test-secret"


def call(client: Any, method: str, path: str, user: str = "admin", body: Any = None) -> Any:
    headers = {"Authorization": f"Bearer {client.tokens[user]}"}
    data = None
    if body is not None:
        data = json.dumps(body)
        headers["Content-Type"] = "application/json"
    return client.open(f"/api/v1{path}", method=method, headers=headers, data=data)
