"""Metadata sent to a user leaves out the fields hidden from them: fields, layouts, list
views, validation rules and formula texts naming them (`GET /api/v1/meta/objects/<o>`),
on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest

from metabiz.app import create_app
from metabiz.objects.evolution import apply_path
from metabiz.platform.auth import create_token
from metabiz.platform.config import Config
from metabiz.platform.db import writer


@pytest.fixture
def client(sales, sales_dir, db_url, tmp_path, extensions):
    path = sales_dir / "objects" / "account.json"
    account = json.loads(path.read_text())
    account["fields"] += [
        {"api_name": "headroom", "type": "formula", "return_type": "currency",
         "formula": "credit_limit - open_amount", "label": "Headroom"},
        {"api_name": "tier", "type": "text", "label": "Tier",
         "default": "IF(credit_limit > 1000, \"gold\", \"std\")"},
        {"api_name": "note", "type": "text", "label": "Note", "default": "\"new\""}]
    account["validation_rules"] = [
        {"api_name": "limit_positive", "error_condition": "credit_limit < 0",
         "message": "no negative limit", "field": "credit_limit"},
        {"api_name": "named", "error_condition": "LEN(name) < 2", "message": "too short"}]
    account["layouts"] = {"default": {"sections": [
        {"label": "Main", "columns": 2, "fields": ["name", "industry"]},
        {"label": "Money", "columns": 1, "fields": ["credit_limit", "headroom"]}]}}
    account["list_views"] = [
        {"api_name": "big", "label": "Big", "columns": ["name", "credit_limit"],
         "filter": "credit_limit > 1000", "sort": "-credit_limit,name"},
        {"api_name": "tech", "label": "Tech", "filter": "ISPICKVAL(industry, \"tech\")"}]
    path.write_text(json.dumps(account))
    apply_path(sales, sales_dir, extensions=extensions)
    app = create_app(Config(database_url=db_url, secret_key="t", instance_path=tmp_path,
                            testing=True))
    yield app.test_client()
    app.extensions["metabiz"].engine.dispose()


def meta(client, sales, user: str) -> dict:
    with writer(sales).begin() as conn:
        token = create_token(conn, user)
    response = client.get("/api/v1/meta/objects/account",
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    return response.get_json()


def test_hidden_fields_leave_no_trace_in_the_metadata(client, sales):
    alice = meta(client, sales, "alice")  # a sales rep: account.credit_limit is hidden
    assert "credit_limit" not in json.dumps(alice).lower()
    names = [f["api_name"] for f in alice["fields"]]
    assert "credit_limit" not in names and "headroom" not in names  # computed from it
    tier = next(f for f in alice["fields"] if f["api_name"] == "tier")
    assert "default" not in tier  # its default formula reads the hidden field
    note = next(f for f in alice["fields"] if f["api_name"] == "note")
    assert note["default"] == "\"new\""
    assert [r["api_name"] for r in alice["validation_rules"]] == ["named"]
    assert alice["layouts"] == {"default": {"sections": [
        {"label": "Main", "columns": 2, "fields": ["name", "industry"]}]}}
    assert alice["list_views"] == [
        {"api_name": "big", "label": "Big", "columns": ["name"], "sort": "name"},
        {"api_name": "tech", "label": "Tech", "filter": "ISPICKVAL(industry, \"tech\")"}]


def test_an_administrator_sees_everything(client, sales):
    admin = meta(client, sales, "admin")
    assert {"credit_limit", "headroom"} <= {f["api_name"] for f in admin["fields"]}
    assert len(admin["validation_rules"]) == 2
    assert admin["layouts"]["default"]["sections"][1]["fields"] == ["credit_limit", "headroom"]
    assert admin["list_views"][0]["filter"] == "credit_limit > 1000"
