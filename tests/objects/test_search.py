"""Search across objects: `GET /api/v1/search`, the `/search` page and the header box, on
SQLite and PostgreSQL — access applied in the query, Chinese, ranking, bad input."""

from __future__ import annotations

import json
from html import unescape

import pytest

from metabiz.app import create_app
from metabiz.platform.config import Config
from tests.objects.people_app import make


@pytest.fixture
def app(sales_dir, request, db_url, tmp_path):
    # reps may not see the deal code: a search must not find a deal by it either
    role = sales_dir / "roles" / "sales_rep.json"
    doc = json.loads(role.read_text())
    doc["fields"]["opportunity.code"] = "hidden"
    role.write_text(json.dumps(doc))
    request.getfixturevalue("sales")
    application = create_app(Config(database_url=db_url, secret_key="test",
                                    instance_path=tmp_path, testing=True))
    yield application
    application.extensions["metabiz"].engine.dispose()


def results(client, q: str, **args) -> list[dict]:
    response = client.get("/api/v1/search", query_string={"q": q, **args})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["results"]


def test_search_finds_records_of_every_object_by_text_email_and_phone(app, client):
    account = make(app, "account", name="Northwind Traders", owner="alice")
    deal = make(app, "opportunity", "alice", name="Northwind renewal",
                contact_email="buyer@northwind.example", account=account["id"])
    found = results(client, "northwind")
    assert {(r["object"], r["id"]) for r in found} == {("account", account["id"]),
                                                        ("opportunity", deal["id"])}
    assert set(found[0]) == {"object", "id", "name", "snippet"}
    by_email = results(client, "buyer@northwind.example")
    assert [(r["object"], r["name"]) for r in by_email] == [("opportunity", "Northwind renewal")]
    assert by_email[0]["snippet"] == "Contact email: buyer@northwind.example"


def test_a_rep_never_finds_another_reps_record(app, client):
    make(app, "opportunity", "eve", name="Zephyr expansion")
    mine = make(app, "opportunity", "alice", name="Zephyr pilot")
    assert [r["id"] for r in results(client, "zephyr")] == [mine["id"]]


def test_hidden_fields_are_not_searched(app, client):
    deal = make(app, "opportunity", name="Quiet deal", code="SECRET-42", owner="alice")
    assert results(client, "SECRET-42") == []
    assert [r["id"] for r in results(client, "quiet")] == [deal["id"]]


def test_chinese_text_matches_inside_words(app, client):
    deal = make(app, "opportunity", "alice", name="华东区年度采购项目")
    assert [r["id"] for r in results(client, "采购")] == [deal["id"]]
    assert [r["id"] for r in results(client, "华东 项目")] == [deal["id"]]


def test_every_word_must_match_and_better_matches_rank_first(app, client):
    make(app, "opportunity", "alice", name="Big order", contact_email="acme@example.com")
    exact = make(app, "opportunity", "alice", name="Acme")
    prefix = make(app, "opportunity", "alice", name="Acme Robotics")
    found = results(client, "acme")
    assert [r["id"] for r in found][:2] == [exact["id"], prefix["id"]]
    assert len(found) == 3
    assert [r["id"] for r in results(client, "acme robotics")] == [prefix["id"]]
    assert results(client, "acme nothing-like-this") == []


def test_limit_and_bad_input(app, client):
    for n in range(4):
        make(app, "opportunity", "alice", name=f"Widget {n}")
    assert len(results(client, "widget", limit=2)) == 2
    assert results(client, "?!,.;") == []
    assert results(client, "") == []
    assert results(client, "%") == []
    bad = client.get("/api/v1/search?q=widget&limit=abc")
    assert bad.status_code == 400
    assert bad.get_json()["error"]["code"] == "bad_request"
    assert client.get("/api/v1/search?q=widget&limit=0").status_code == 400


def test_wildcards_are_taken_literally(app, client):
    make(app, "opportunity", "alice", name="100% growth")
    make(app, "opportunity", "alice", name="1000 units")
    assert [r["name"] for r in results(client, "100%")] == ["100% growth"]


def test_search_needs_a_signed_in_user_or_token(app):
    response = app.test_client().get("/api/v1/search?q=x")
    assert response.status_code == 401


def test_search_page_groups_results_and_links_records(app, client):
    account = make(app, "account", name="Globex 中国", owner="alice")
    deal = make(app, "opportunity", "alice", name="Globex upgrade")
    make(app, "opportunity", "eve", name="Globex secret")
    page = unescape(client.get("/search?q=globex").get_data(as_text=True))
    assert 'data-search-object="account"' in page and 'data-search-object="opportunity"' in page
    assert f'href="/o/account/{account["id"]}"' in page
    assert f'href="/o/opportunity/{deal["id"]}"' in page
    assert "Globex secret" not in page
    assert "2 records found" in page
    zh = unescape(client.get("/search?q=中国&lang=zh").get_data(as_text=True))
    assert "“中国”的搜索结果" in zh and "Globex 中国" in zh
    assert "Type at least one letter" in unescape(
        client.get("/search?q=...&lang=en").get_data(as_text=True))
    assert "Nothing matches “nope”." in unescape(client.get("/search?q=nope").get_data(as_text=True))


def test_every_page_header_has_the_search_box(app, client):
    page = client.get("/").get_data(as_text=True)
    assert 'class="header-search"' in page and 'action="/search"' in page
    assert 'value="acme"' in client.get("/search?q=acme").get_data(as_text=True)


def test_the_header_box_suggests_records_as_you_type(app, client):
    deal = make(app, "opportunity", "alice", name="Hooli merger")
    make(app, "opportunity", "eve", name="Hooli secret")
    fragment = unescape(client.get("/search/suggest?q=hooli").get_data(as_text=True))
    assert f'href="/o/opportunity/{deal["id"]}"' in fragment and "Hooli merger" in fragment
    assert "Hooli secret" not in fragment
    assert 'href="/search?q=hooli"' in fragment
    assert client.get("/search/suggest?q=...").get_data(as_text=True).strip() == ""
    assert "Nothing matches “zz”." in unescape(
        client.get("/search/suggest?q=zz").get_data(as_text=True))
