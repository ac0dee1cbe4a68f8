"""Bad input is a 400/404/422 in the contract's error format, never a 500 nor a database
error, on SQLite and PostgreSQL (issue 17's list: text no database stores, numbers no column
holds, ids and page numbers written in Unicode digits or past 2^63)."""

from __future__ import annotations

import re

import pytest

BIG = str(2**63)
HUGE = str(10**20)
ARABIC_ONE = "\u0661"  # '١': Python's int() reads it as 1
SUPERSCRIPT_TWO = "\u00b2"  # '²': isdigit() says yes, int() raises


@pytest.fixture
def api(api_client):
    """The API as admin, with one account: Acme."""
    created = api_client.post("/api/v1/records/account", json={"name": "Acme"})
    assert created.status_code == 201
    return api_client


def error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()["error"]
    assert body["code"] == code
    return body


def raw_json(client, method: str, path: str, text: str):
    return client.open(path, method=method, data=text, content_type="application/json")


def test_lone_surrogates_in_json_are_refused_naming_where(api):
    # valid JSON escapes, but no database stores them and no UTF-8 encoder writes them
    body = error(raw_json(api, "POST", "/api/v1/records/account", '{"name": "a\\ud800b"}'),
                 400, "bad_request")
    assert body["fields"] == {"/name": ["contains a lone surrogate (not valid Unicode)"]}
    error(raw_json(api, "PATCH", "/api/v1/records/account/1", '{"name": "\\udfff"}'),
          400, "bad_request")
    error(raw_json(api, "POST", "/api/v1/records/account", '{"\\udc00": 1, "name": "x"}'),
          400, "bad_request")
    error(raw_json(api, "POST", "/api/v1/formulas/evaluate",
                   '{"object": "account", "formula": "\\"\\ud800\\""}'), 400, "bad_request")
    # a proper pair (an emoji) is text like any other
    saved = raw_json(api, "POST", "/api/v1/records/account", '{"name": "Acme \\ud83d\\ude00"}')
    assert saved.status_code == 201 and saved.get_json()["name"] == "Acme \U0001f600"
    assert api.get("/api/v1/records/account/1").get_json()["name"] == "Acme"


def test_nul_characters_in_text_and_parameters_are_refused(api):
    body = error(api.post("/api/v1/records/account", json={"name": "a\x00b"}), 400, "bad_request")
    assert body["fields"] == {"/name": ["contains a NUL character"]}
    error(api.patch("/api/v1/records/account/1", json={"name": "\x00"}), 400, "bad_request")
    for param in ("q", "filter", "sort"):
        body = error(api.get("/api/v1/records/account", query_string={param: "a\x00"}),
                     400, "bad_request")
        assert body["fields"] == {param: ["contains a NUL character"]}
    assert api.get("/api/v1/records/account/1").get_json()["name"] == "Acme"
    assert api.get("/api/v1/records/account", query_string={"q": "acm"}).get_json()["total"] == 1


@pytest.mark.parametrize(("params", "message"), [
    ({"limit": "-1"}, "limit must be between 1 and 1000"),
    ({"limit": "0"}, "limit must be between 1 and 1000"),
    ({"limit": ARABIC_ONE}, "limit must be a whole number"),
    ({"limit": " 5"}, "limit must be a whole number"),
    ({"offset": BIG}, "offset must be between 0 and"),
    ({"offset": HUGE}, "offset must be between 0 and"),
    ({"offset": "-3"}, "offset must be between 0 and"),
    ({"offset": SUPERSCRIPT_TWO}, "offset must be a whole number"),
])
def test_paging_parameters_out_of_range(api, params, message):
    assert message in error(api.get("/api/v1/records/account", query_string=params),
                            400, "bad_request")["message"]


def test_notification_paging_out_of_range(api):
    for params in ({"limit": "-1"}, {"offset": BIG}, {"offset": HUGE}, {"limit": ARABIC_ONE}):
        error(api.get("/api/v1/notifications", query_string=params), 400, "bad_request")
    assert api.get("/api/v1/notifications?limit=1&offset=0").status_code == 200


def test_paging_at_the_largest_offset_is_an_empty_page(api):
    found = api.get("/api/v1/records/account", query_string={"offset": str(2**63 - 1)})
    assert found.status_code == 200 and found.get_json() == {"records": [], "total": 1}


@pytest.mark.parametrize("bad_id", [BIG, HUGE, ARABIC_ONE, SUPERSCRIPT_TWO, "-1", "1.0"])
def test_ids_no_record_can_have_are_404(api, bad_id):
    for method, path in (("GET", f"/api/v1/records/account/{bad_id}"),
                         ("PATCH", f"/api/v1/records/account/{bad_id}"),
                         ("DELETE", f"/api/v1/records/account/{bad_id}"),
                         ("GET", f"/api/v1/records/account/{bad_id}/history"),
                         ("GET", f"/api/v1/records/account/{bad_id}/approvals"),
                         ("POST", f"/api/v1/records/account/{bad_id}/approvals"),
                         ("GET", f"/api/v1/approvals/{bad_id}"),
                         ("POST", f"/api/v1/approvals/{bad_id}/approve"),
                         ("POST", f"/api/v1/notifications/{bad_id}/read")):
        kwargs = {"json": {"name": "x"}} if method == "PATCH" else {}
        error(api.open(path, method=method, **kwargs), 404, "not_found")
    assert api.get("/api/v1/records/account/1").get_json()["name"] == "Acme"


def test_lookup_values_no_record_can_have_are_422(api):
    for value in (2**63, 2**70, 0, -5, ARABIC_ONE):
        body = error(api.post("/api/v1/records/opportunity", json={"name": "x", "account": value}),
                     422, "validation_failed")
        assert list(body["fields"]) == ["account"]


def test_versions_in_unicode_digits_or_out_of_range(api):
    error(api.patch("/api/v1/records/account/1", json={"name": "B", "version": ARABIC_ONE}),
          422, "validation_failed")
    error(api.patch("/api/v1/records/account/1", json={"name": "B", "version": 2**70}),
          409, "conflict")
    assert api.get("/api/v1/records/account/1").get_json()["name"] == "Acme"


def test_numbers_past_the_column_are_422_naming_the_field(api):
    for value in (10**26, "1e26", 10**16, "-10000000000000000"):
        body = error(api.post("/api/v1/records/account", json={"name": "x", "credit_limit": value}),
                     422, "validation_failed")
        assert body["fields"] == {
            "credit_limit": ["too large: at most 16 digits before the decimal point"]}
    big = api.post("/api/v1/records/account", json={"name": "x", "credit_limit": 10**15})
    assert big.status_code == 201 and big.get_json()["credit_limit"] == 10**15


def test_pages_answer_400_or_ignore_what_no_id_can_be(app, sales, browser_session):
    client = app.test_client()
    browser_session(client, "admin")
    for page in (HUGE, BIG, "-1", ARABIC_ONE, SUPERSCRIPT_TWO):
        response = client.get(f"/o/account?page={page}")
        assert response.status_code == 400, page
        assert "page must be" in response.get_data(as_text=True)
    past = client.get("/o/account?page=1000000000")  # past the end: the last page
    assert past.status_code == 302 and past.headers["Location"] == "/o/account"
    assert client.get("/o/account?q=a%00").status_code == 400
    for account in (BIG, SUPERSCRIPT_TWO, ARABIC_ONE):  # not an id: no filter chip, no 500
        listed = client.get(f"/o/opportunity?account={account}")
        assert listed.status_code == 200
        assert f"#{account}" not in listed.get_data(as_text=True)
        assert client.get(f"/o/opportunity/new?account={account}").status_code == 200
    form = client.get("/o/account/new").get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', form)[1]
    created = client.post("/o/account/new", data={"csrf_token": token, "name": "Beta"})
    assert created.status_code == 302
    record = created.headers["Location"].rstrip("/").split("/")[-1]
    edited = client.post(f"/o/account/{record}/edit", data={
        "csrf_token": token, "name": "Gamma", "version": SUPERSCRIPT_TWO})
    assert edited.status_code == 302  # a version no form sends is ignored, not a 500
