"""The Metadata API and the formula check in the OpenAPI document (registered through the
kernel's `add_openapi`): an administrator's document lists every metadata path, anyone
else's only the formula check and one object's metadata; a document path never swallows a
version's (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

import pytest

from metabiz.app import create_app
from metabiz.platform.auth import create_token
from metabiz.platform.config import Config
from metabiz.platform.db import writer

KINDS = ("objects", "roles", "flows", "reports", "dashboards")


@pytest.fixture
def client(sales, db_url, tmp_path):
    app = create_app(Config(database_url=db_url, secret_key="test", instance_path=tmp_path,
                            testing=True))
    with writer(sales).begin() as conn:
        tokens = {name: create_token(conn, name) for name in ("admin", "alice")}
    test_client = app.test_client()
    test_client.tokens = tokens  # type: ignore[attr-defined]
    yield test_client
    app.extensions["metabiz"].engine.dispose()


def call(client, method, path, user="admin", body=None):
    headers = {"Authorization": f"Bearer {client.tokens[user]}"}
    data = None
    if body is not None:
        data = json.dumps(body)
        headers["Content-Type"] = "application/json"
    return client.open(f"/api/v1{path}", method=method, headers=headers, data=data)


def paths(client, user: str) -> dict:
    response = call(client, "GET", "/openapi.json", user)
    assert response.status_code == 200
    return response.get_json()["paths"]


def test_an_administrators_document_lists_the_metadata_api(client):
    listed = paths(client, "admin")
    assert {"/meta/apps", "/meta/versions", "/meta/versions/{number}",
            "/meta/versions/{number}/revert", "/meta/apps/{app}/calendars/{name}",
            "/formulas/check"} <= set(listed)
    for kind in KINDS:
        assert {"put", "delete"} <= set(listed[f"/meta/{kind}/{{name}}"]), kind
    assert "get" in listed["/meta/objects/{name}"]  # one object's metadata, same path
    put = listed["/meta/objects/{name}"]["put"]
    assert [p["name"] for p in put["parameters"]] == ["dry_run", "If-Match", "base_version",
                                                      "app"]
    assert {"200", "400", "404", "409", "422"} <= set(put["responses"])
    check = listed["/formulas/check"]["post"]
    assert check["requestBody"]["content"]["application/json"]["schema"]["required"] == \
        ["formula"]
    assert {"200", "400"} <= set(check["responses"])


def test_anyone_else_sees_only_the_formula_check_and_object_metadata(client):
    listed = paths(client, "alice")
    assert not [p for p in listed if p.startswith("/meta/") and p != "/meta/objects"
                and p != "/meta/objects/{name}"]
    assert set(listed["/meta/objects/{name}"]) == {"parameters", "get"}
    assert "/formulas/check" in listed
    # as the API itself: the Metadata API is not there for her
    assert call(client, "GET", "/meta/apps", "alice").status_code == 404
    assert call(client, "POST", "/formulas/check", "alice",
                {"object": "account", "formula": "LEN(name)"}).get_json()["type"] == "number"


def test_a_version_path_is_not_taken_for_a_document(client):
    assert call(client, "GET", "/meta/versions/1").status_code == 200
    wrong = call(client, "PUT", "/meta/versions/1", body={"api_name": "x"})
    assert wrong.status_code == 405
    assert set(wrong.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    assert call(client, "DELETE", "/meta/objects/nothing_here").status_code == 404
