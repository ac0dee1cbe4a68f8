"""CSRF on every unsafe route of the whole app, found from its URL map, not listed by hand.

A view added later without thinking of CSRF is covered the day it is registered: the check
runs before any view, for every session-authenticated POST, PUT, PATCH and DELETE.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select

from metabiz.objects.runtime import Runtime
from metabiz.platform.auth import create_token
from metabiz.platform.db import writer

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


def unsafe_routes(app, record_id: int) -> list[tuple[str, str]]:
    """(method, url) for every unsafe route, its arguments filled with real values."""
    values = {"object_name": "opportunity", "record_id": str(record_id), "request_id": "1",
              "action": "approve", "notification_id": "1", "job_id": "1"}
    out = []
    for rule in app.url_map.iter_rules():
        url = rule.rule
        for arg in rule.arguments:
            url = re.sub(rf"<(?:\w+:)?{arg}>", values.get(arg, "1"), url)
        out.extend((method, url) for method in sorted(rule.methods & set(UNSAFE)))
    return out


def counts(app) -> tuple[int, int]:
    services = app.extensions["metabiz"]
    runtime: Runtime = services.runtime
    with services.engine.connect() as conn:
        table = runtime.schema(conn).object("opportunity").table
        return (conn.execute(select(func.count()).select_from(table)).scalar_one(),
                conn.execute(select(func.max(table.c.version)).select_from(table)).scalar_one())


def test_every_unsafe_route_refuses_a_session_request_without_the_token(app, browser_session):
    client = app.test_client()
    browser_session(client, "admin")
    page = client.get("/").get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)[1]
    made = client.post("/api/v1/records/opportunity", json={"name": "Deal", "amount": 5},
                       headers={"X-CSRF-Token": token})
    assert made.status_code == 201
    routes = unsafe_routes(app, made.get_json()["id"])
    assert len(routes) >= 15  # the API's writes and every form of the pages
    before = counts(app)
    for method, url in routes:
        for headers in ({}, {"X-CSRF-Token": "forged"}):
            response = client.open(url, method=method, json={"name": "x"}, headers=headers)
            assert response.status_code == 403, (method, url, response.status_code)
            if url.startswith("/api/"):
                assert response.get_json()["error"]["code"] == "forbidden", (method, url)
                assert "CSRF" in response.get_json()["error"]["message"]
            else:  # a page: the friendly one, not a raw message
                assert "This form has expired" in response.get_data(as_text=True), url
    assert counts(app) == before  # nothing was written by any of them
    with client.session_transaction() as session:
        assert session.get("user") == "admin"  # and the session survived (no logout)


def test_bearer_requests_are_not_asked_for_a_csrf_token(app):
    with writer(app.extensions["metabiz"].engine).begin() as conn:
        bearer = create_token(conn, "alice")
    client = app.test_client()
    made = client.post("/api/v1/records/opportunity", json={"name": "Deal", "amount": 5},
                       headers={"Authorization": f"Bearer {bearer}"})
    assert made.status_code == 201
    for method, url in unsafe_routes(app, made.get_json()["id"]):
        if url.startswith("/api/"):
            response = client.open(url, method=method, json={},
                                   headers={"Authorization": f"Bearer {bearer}"})
            assert response.status_code != 403 or "CSRF" not in \
                response.get_json()["error"]["message"], (method, url)
