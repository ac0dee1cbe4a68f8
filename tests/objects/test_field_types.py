"""Every field type of the contract through the REST API, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from metabiz.app import create_app
from metabiz.objects.evolution import apply_path
from metabiz.platform.auth import create_token, create_user
from metabiz.platform.config import Config
from metabiz.platform.db import writer

EVERY_TYPE = Path(__file__).resolve().parents[1] / "fixtures" / "every_type"

GOOD = {
    "title": "Widget 好", "notes": "line one\nline two", "count": 7, "ratio": "0.1235",
    "money": 19.999, "share": 12.5, "flag": True, "day": "2024-02-29",
    "moment": "2026-11-23T08:00:00+02:00", "mail": "a@example.com", "tel": "+86 10 1234 5678",
    "site": "https://example.com/x", "colour": "red", "tags": ["c", "a", "a"],
    "assignee": "alice",
}


@pytest.fixture
def api(engine, tmp_path, db_url, extensions):
    apply_path(engine, EVERY_TYPE, extensions=extensions)
    with writer(engine).begin() as conn:
        create_user(conn, "admin", "admin-pw", roles=["admin"])
        create_user(conn, "alice", "alice-pw")
        token = create_token(conn, "admin")
    app = create_app(Config(database_url=db_url, secret_key="t", instance_path=tmp_path,
                            testing=True))
    client = app.test_client()

    def call(method, path, body=None):
        return client.open(f"/api/v1{path}", method=method, data=json.dumps(body),
                           headers={"Authorization": f"Bearer {token}",
                                    "Content-Type": "application/json"})

    yield call
    app.extensions["metabiz"].engine.dispose()


def test_every_type_round_trips_exactly(api):
    parent = api("POST", "/records/parent", {"title": "P"}).get_json()
    made = api("POST", "/records/thing", {**GOOD, "master": parent["id"],
                                          "other": parent["id"]})
    assert made.status_code == 201, made.get_json()
    got = api("GET", f"/records/thing/{made.get_json()['id']}").get_json()
    assert got["ratio"] == 0.124 and got["money"] == 20 and got["share"] == 12.5
    assert got["day"] == "2024-02-29" and got["moment"] == "2026-11-23T06:00:00Z"
    assert got["tags"] == ["a", "c"] and got["flag"] is True and got["title"] == "Widget 好"
    assert got["ref"] == "T-001" and got["summary"] == "Widget 好 (red)"
    assert got["score"] == 7.124 and got["assignee"] == "alice"
    assert got["notes"] == "line one\nline two"
    totals = api("GET", f"/records/parent/{parent['id']}").get_json()
    assert (totals["child_count"], totals["money_total"], totals["first_day"]) == (
        1, 20, "2024-02-29")
    blanks = api("POST", "/records/thing", {"title": "Blank", "master": parent["id"]}).get_json()
    assert blanks["score"] == 0  # treat_blanks_as zero
    assert blanks["summary"] == "Blank ()" and blanks["tags"] is None


@pytest.mark.parametrize(("field", "value", "message"), [
    ("title", "x" * 21, "Longer than maximum length 20."),
    ("count", -1, "greater than or equal to 0"),
    ("count", "many", "Not a valid number."),
    ("flag", "perhaps", "Not a valid boolean."),
    ("day", "2023-02-29", "Not a valid date."),
    ("moment", "yesterday", "Not a valid datetime."),
    ("mail", "not-an-email", "Not a valid email address."),
    ("site", "ftp//x", "Not a valid URL."),
    ("colour", "green", "Must be one of: red, blue."),
    ("tags", ["a", "z"], "Must be one of: a, b, c."),
    ("assignee", "ghost", "no active user named 'ghost'"),
    ("other", 99, "no parent record with id 99"),
    ("ref", "T-9", "read-only"),
])
def test_bad_values_are_422_naming_the_field(api, field, value, message):
    parent = api("POST", "/records/parent", {"title": "P"}).get_json()
    response = api("POST", "/records/thing", {"title": "T", "master": parent["id"],
                                              field: value})
    assert response.status_code == 422
    errors = response.get_json()["error"]["fields"]
    assert list(errors) == [field]
    assert message in " ".join(errors[field])


def test_set_null_and_cascade(api):
    keep = api("POST", "/records/parent", {"title": "Keep"}).get_json()
    gone = api("POST", "/records/parent", {"title": "Gone"}).get_json()
    thing = api("POST", "/records/thing", {"title": "T", "master": keep["id"],
                                           "other": gone["id"]}).get_json()
    assert api("DELETE", f"/records/parent/{gone['id']}").status_code == 204
    assert api("GET", f"/records/thing/{thing['id']}").get_json()["other"] is None
    assert api("DELETE", f"/records/parent/{keep['id']}").status_code == 204
    assert api("GET", f"/records/thing/{thing['id']}").status_code == 404


@pytest.mark.parametrize("value", [
    None, "", "Widget 好", "x" * 20, "x" * 21, 7, -1, 1000, 1001, 0.1, "0.1235", "1e3", "NaN",
    "many", True, False, "2024-02-29", "2023-02-29", "20240229", "red", "green", [1], {"a": 1},
])
def test_the_quick_path_agrees_with_marshmallow(value):
    """Bulk writes skip marshmallow for plain values: they must load exactly the same."""
    from metabiz.objects.fields import field_type
    from metabiz.objects.fields.base import NOT_PLAIN
    from metabiz.platform.metadata.loader import load_path

    thing = next(o for o in load_path(EVERY_TYPE).objects if o.api_name == "thing")
    for fdef in thing.fields:
        ftype = field_type(fdef.type)
        quick = ftype.quick_load(fdef, value)
        if quick is NOT_PLAIN:
            continue
        assert quick == ftype.marshmallow_field(fdef).deserialize(value), (fdef.api_name, value)
