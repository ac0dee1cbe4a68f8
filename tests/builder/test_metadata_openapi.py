"""The Metadata API and the formula check in the OpenAPI document (registered through the
kernel's `add_openapi`): an administrator's document lists every metadata path, anyone
else's only the formula check and one object's metadata; a document path never swallows a
version's (SQLite and PostgreSQL)."""

from __future__ import annotations

from builder_client import call

KINDS = ("objects", "roles", "flows", "reports", "dashboards")


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
