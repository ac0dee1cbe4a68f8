"""A list's search box (`q=` on /api/v1/records/<object> and the list page) goes through the
search index: the same records as a substring scan finds, Chinese and phone numbers
included, the user's access applied (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from metabiz.app import create_app
from metabiz.objects import search_index
from metabiz.platform.config import Config
from metabiz.platform.db import writer
from tests.objects.people_app import make

RECORDS = [
    {"name": "Acme Robotics", "notes": "Met the CTO at the Hannover fair"},
    {"name": "上海客户公司", "notes": "华东区重点客户"},
    {"name": "北京供应商", "phone": "+86 (21) 6888-1234"},
    {"name": "Mail Co", "email": "buyer@mail-co.example"},
    {"name": "100%_off Sale"},
    {"name": "acme trading", "phone": "138 0000 1111"},
]
#: queries and what a substring scan of the text finds (by record name)
QUERIES = {
    "acme": {"Acme Robotics", "acme trading"},
    "ACME ROB": {"Acme Robotics"},
    "hannover fair": {"Acme Robotics"},
    "客": {"上海客户公司"},
    "客户": {"上海客户公司"},
    "上海客户公司": {"上海客户公司"},
    "华东区": {"上海客户公司"},
    "6888-1234": {"北京供应商"},
    "+86 (21)": {"北京供应商"},
    "138 0000": {"acme trading"},
    "mail-co": {"Mail Co"},
    "BUYER@": {"Mail Co"},
    "ac": {"Acme Robotics", "acme trading"},
    "%_": {"100%_off Sale"},
    "0%_off": {"100%_off Sale"},
    "广州客户": set(),
    "robotics acme": set(),  # the text as a whole, as the list always searched
}


@pytest.fixture
def app(sales_dir, request, db_url, tmp_path):
    path = sales_dir / "objects" / "account.json"
    doc = json.loads(path.read_text())
    doc["fields"] += [{"api_name": "phone", "type": "phone", "label": "Phone"},
                      {"api_name": "email", "type": "email", "label": "Email"},
                      {"api_name": "notes", "type": "long_text",
                       "label": {"en": "Notes", "zh": "备注"}}]
    path.write_text(json.dumps(doc))
    request.getfixturevalue("sales")
    application = create_app(Config(database_url=db_url, secret_key="test",
                                    instance_path=tmp_path, testing=True))
    for values in RECORDS:
        make(application, "account", owner="alice", **values)
    make(application, "account", owner="eve", name="Acme Eve 上海客户", phone="6888-1234")
    yield application
    application.extensions["metabiz"].engine.dispose()


def listed(client, q: str) -> set[str]:
    response = client.get("/api/v1/records/account", query_string={"q": q, "limit": 100})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["total"] == len(body["records"])
    return {r["name"] for r in body["records"]}


def test_the_list_search_finds_what_a_scan_finds(client) -> None:
    for q, names in QUERIES.items():
        assert listed(client, q) == names, q


def test_a_phone_number_is_also_found_by_its_digits(client) -> None:
    assert listed(client, "68881234") == {"北京供应商"}
    assert listed(client, "13800001111") == {"acme trading"}


def test_the_list_page_search_box_uses_the_same_search(client) -> None:
    page = client.get("/o/account", query_string={"q": "客户"}).get_data(as_text=True)
    assert "上海客户公司" in page
    assert "Acme" not in page and "北京供应商" not in page
    assert "Acme Eve" not in client.get("/o/account", query_string={"q": "acme"}) \
        .get_data(as_text=True)  # eve's record stays hers


def test_long_words_go_through_the_index_short_ones_scan(app, client) -> None:
    engine = app.extensions["metabiz"].engine
    if engine.dialect.name != "sqlite":
        pytest.skip("the FTS5 table is SQLite's; PostgreSQL's trigram indexes serve ILIKE")
    [trading] = client.get("/api/v1/records/account", query_string={"q": "trading"}) \
        .get_json()["records"]
    with writer(engine).begin() as conn:  # the index loses one record's row
        conn.execute(text(f'DELETE FROM "{search_index.fts_table("account")}" '
                          "WHERE rowid = :id"), {"id": trading["id"]})
    assert listed(client, "acme") == {"Acme Robotics"}
    assert listed(client, "ac") == {"Acme Robotics", "acme trading"}
    with writer(engine).begin() as conn:  # without an index the list scans
        search_index.drop(conn, "account")
    for q, names in QUERIES.items():
        assert listed(client, q) == names, q
