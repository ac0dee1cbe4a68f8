"""The REST API as a client sees it, on SQLite and PostgreSQL: shapes, status codes, errors."""

from __future__ import annotations

import json
import threading

import pytest

from metabiz.app import create_app
from metabiz.objects.evolution import apply_path
from metabiz.platform.auth import create_token
from metabiz.platform.config import Config
from metabiz.platform.db import writer


@pytest.fixture
def client(sales, db_url, tmp_path):
    app = create_app(Config(database_url=db_url, secret_key="test", instance_path=tmp_path,
                            testing=True))
    with writer(sales).begin() as conn:
        tokens = {name: create_token(conn, name) for name in ("admin", "alice", "eve")}
    test_client = app.test_client()
    test_client.tokens = tokens  # type: ignore[attr-defined]
    yield test_client
    app.extensions["metabiz"].engine.dispose()


def call(client, method, path, user="admin", body=None, raw=None):
    headers = {"Authorization": f"Bearer {client.tokens[user]}"}
    data = raw if raw is not None else (json.dumps(body) if body is not None else None)
    if data is not None:
        headers["Content-Type"] = "application/json"
    return client.open(f"/api/v1{path}", method=method, headers=headers, data=data)


def test_crud_round_trip(client):
    created = call(client, "POST", "/records/account", body={"name": "Acme", "industry": "tech"})
    assert created.status_code == 201
    account = created.get_json()
    assert created.headers["Location"].endswith(f"/records/account/{account['id']}")
    opp = call(client, "POST", "/records/opportunity", body={
        "name": "Deal", "account": account["id"], "amount": 1200.5, "probability": 50}).get_json()
    assert opp["weighted_amount"] == 600.25 and opp["account_industry"] == "tech"
    got = call(client, "GET", f"/records/opportunity/{opp['id']}").get_json()
    assert got == opp
    patched = call(client, "PATCH", f"/records/opportunity/{opp['id']}",
                   body={"amount": 10, "version": 1})
    assert patched.status_code == 200 and patched.get_json()["version"] == 2
    stale = call(client, "PATCH", f"/records/opportunity/{opp['id']}",
                 body={"amount": 11, "version": 1})
    assert stale.status_code == 409 and stale.get_json()["error"]["code"] == "conflict"
    history = call(client, "GET", f"/records/opportunity/{opp['id']}/history").get_json()
    assert [(h["field"], h["old"], h["new"]) for h in history["history"]] == [
        ("amount", 1200.5, 10)]
    assert call(client, "DELETE", f"/records/opportunity/{opp['id']}").status_code == 204
    gone = call(client, "GET", f"/records/opportunity/{opp['id']}")
    assert gone.status_code == 404 and gone.get_json()["error"]["code"] == "not_found"


def test_errors_have_the_contract_shape(client):
    assert client.get("/api/v1/me").status_code == 401
    bad_token = client.get("/api/v1/me", headers={"Authorization": "Bearer nope"})
    assert bad_token.status_code == 401 and bad_token.get_json()["error"]["code"] == "unauthorized"
    assert call(client, "GET", "/records/nothing").status_code == 404
    malformed = call(client, "POST", "/records/account", raw="{not json")
    assert malformed.status_code == 400 and malformed.get_json()["error"]["code"] == "bad_request"
    invalid = call(client, "POST", "/records/opportunity",
                   body={"amount": "x", "stage": "nope", "contact_email": "bad"})
    body = invalid.get_json()["error"]
    assert invalid.status_code == 422 and body["code"] == "validation_failed"
    assert {"name", "amount", "stage", "contact_email"} <= set(body["fields"])
    call(client, "POST", "/records/opportunity", body={"name": "A", "code": "C1"})
    taken = call(client, "POST", "/records/opportunity", body={"name": "B", "code": "C1"})
    assert taken.status_code == 409 and "code" in taken.get_json()["error"]["fields"]
    forbidden = call(client, "POST", "/records/account", user="alice", body={"name": "X"})
    assert forbidden.status_code == 403 and forbidden.get_json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize("ref", ["9223372036854775808", "99999999999999999999", "0", "-3",
                                 "\uff11\uff12", "1e3", "7.0", "abc"])
def test_ids_no_record_can_have_are_404s_not_database_errors(client, ref):
    made = call(client, "POST", "/records/account", body={"name": "Acme"}).get_json()
    assert made["id"] == 1  # so that "１２" would have found record 12 only by accident
    for path in (f"/records/account/{ref}", f"/records/account/{ref}/history"):
        response = call(client, "GET", path)
        assert response.status_code == 404, (path, response.get_json())
        assert response.get_json()["error"]["code"] == "not_found"
    for method in ("PATCH", "DELETE"):
        response = call(client, method, f"/records/account/{ref}", body={"name": "x"})
        assert response.status_code == 404, (method, ref)


def test_list_filters_sorts_and_pages_in_the_database(client):
    for i, (stage, amount) in enumerate([("prospecting", 100), ("closed_won", 5000),
                                         ("negotiation", 2500), ("closed_won", 800)]):
        call(client, "POST", "/records/opportunity", body={
            "name": f"Deal {i}", "stage": stage, "amount": amount, "probability": 10 * i,
            "close_date": f"2026-01-0{i + 1}"})
    listed = call(client, "GET", "/records/opportunity?filter="
                  + "amount%20%3E%20500%20%26%26%20ISPICKVAL(stage,%20%22closed_won%22)"
                  + "&sort=-amount").get_json()
    assert [r["name"] for r in listed["records"]] == ["Deal 1", "Deal 3"]
    assert listed["total"] == 2
    by_formula = call(client, "GET", "/records/opportunity?sort=-weighted_amount&limit=2"
                      "&fields=name,weighted_amount").get_json()
    assert by_formula["total"] == 4
    # equal weighted amounts: the id breaks the tie
    assert by_formula["records"] == [{"id": 2, "name": "Deal 1", "weighted_amount": 500},
                                     {"id": 3, "name": "Deal 2", "weighted_amount": 500}]
    page2 = call(client, "GET", "/records/opportunity?sort=name&limit=2&offset=2").get_json()
    assert [r["name"] for r in page2["records"]] == ["Deal 2", "Deal 3"]
    searched = call(client, "GET", "/records/opportunity?q=deal%203").get_json()
    assert searched["total"] == 1


@pytest.mark.parametrize(("query", "fragment"), [
    ("filter=amount%20%3E", "line"),
    ("filter=amout%20%3E%201", "amout"),
    ("filter=amount", "boolean"),
    ("sort=nope", "nope"),
    ("limit=5000", "limit"),
    ("limit=abc", "limit"),
    ("offset=-1", "offset"),
    ("fields=nope", "nope"),
])
def test_bad_query_parameters_are_400s(client, query, fragment):
    response = call(client, "GET", f"/records/opportunity?{query}")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "bad_request"
    assert fragment in json.dumps(error)


def test_filter_error_names_line_and_column(client):
    response = call(client, "GET", "/records/opportunity?filter=amount%20%3E%3E%201")
    error = response.get_json()["error"]
    assert (error["line"], error["column"]) == (1, 9)


def test_evaluate_endpoint(client):
    ok = call(client, "POST", "/formulas/evaluate", body={
        "object": "opportunity", "formula": "amount * probability / 100",
        "record": {"amount": 200, "probability": 15}})
    assert ok.status_code == 200 and ok.get_json() == {"type": "number", "value": 30}
    bad = call(client, "POST", "/formulas/evaluate", body={
        "object": "opportunity", "formula": "IF(amount > 1, 2)", "record": {}})
    assert bad.status_code == 400
    assert (bad.get_json()["error"]["line"], bad.get_json()["error"]["column"]) == (1, 1)
    division = call(client, "POST", "/formulas/evaluate", body={"formula": "1 / 0"})
    assert division.status_code == 400 and "division by zero" in division.get_json()["error"][
        "message"]


def test_meta_and_openapi(client):
    objects = call(client, "GET", "/meta/objects", user="alice").get_json()["objects"]
    assert {o["api_name"] for o in objects} == {"account", "opportunity", "line_item"}
    account = call(client, "GET", "/meta/objects/account", user="alice").get_json()
    assert "credit_limit" not in [f["api_name"] for f in account["fields"]]
    assert account["permissions"] == ["read"]
    spec = call(client, "GET", "/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1")
    assert "/records/opportunity/{id}" in spec["paths"]
    props = spec["components"]["schemas"]["opportunity"]["properties"]
    # a stored record may have the picklist blank; what is sent may blank it (not required)
    assert props["stage"]["enum"] == ["prospecting", "negotiation", "closed_won", None]
    assert props["stage"]["type"] == ["string", "null"]
    sent = spec["components"]["schemas"]["opportunity_input"]["properties"]
    assert sent["name"]["type"] == "string" and sent["name"]["minLength"] == 1  # required


def test_concurrent_updates_with_the_same_version_lose_nothing(client):
    opp = call(client, "POST", "/records/opportunity", body={"name": "Race"}).get_json()
    results = []

    def writer_thread(amount):
        app = client.application
        with app.test_client() as own:
            own.tokens = client.tokens
            results.append(call(own, "PATCH", f"/records/opportunity/{opp['id']}",
                                body={"amount": amount, "version": 1}).status_code)

    threads = [threading.Thread(target=writer_thread, args=(a,)) for a in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 409]
    assert call(client, "GET", f"/records/opportunity/{opp['id']}").get_json()["version"] == 2


def test_a_running_server_picks_up_newly_applied_metadata(client, sales, sales_dir, extensions):
    assert call(client, "GET", "/meta/objects/account").status_code == 200
    doc = json.loads((sales_dir / "objects" / "account.json").read_text())
    doc["fields"].append({"api_name": "region", "type": "text"})
    (sales_dir / "objects" / "account.json").write_text(json.dumps(doc))
    apply_path(sales, sales_dir, extensions=extensions)  # as another process would
    created = call(client, "POST", "/records/account", body={"name": "N", "region": "EMEA"})
    assert created.status_code == 201 and created.get_json()["region"] == "EMEA"
