"""Defaults that follow lookups in forms (a day-one bug): choosing a product on a new quote
line gives the unit price default from the product, as the API does, on SQLite and
PostgreSQL."""

from __future__ import annotations

import json

import pytest

from metabiz.app import create_app
from metabiz.platform.config import Config
from tests.objects.people_app import csrf, make

PRODUCT = {"api_name": "product", "label": "Product", "name_field": "name", "fields": [
    {"api_name": "name", "type": "text", "required": True},
    {"api_name": "list_price", "type": "currency", "scale": 2}]}
QUOTE_LINE = {"api_name": "quote_line", "label": "Quote line", "fields": [
    {"api_name": "product", "type": "lookup", "target": "product"},
    {"api_name": "quantity", "type": "number", "default": "1"},
    {"api_name": "unit_price", "type": "currency", "scale": 2,
     "default": "product.list_price"},
    {"api_name": "note", "type": "text", "default": "\"Quoted \" & product.name"}]}


@pytest.fixture
def app(sales_dir, request, db_url, tmp_path):
    for doc in (PRODUCT, QUOTE_LINE):
        (sales_dir / "objects" / f"{doc['api_name']}.json").write_text(json.dumps(doc))
    request.getfixturevalue("sales")
    application = create_app(Config(database_url=db_url, secret_key="test",
                                    instance_path=tmp_path, testing=True))
    yield application
    application.extensions["metabiz"].engine.dispose()


@pytest.fixture
def client(app, browser_session):
    client = app.test_client()
    browser_session(client, "admin")
    return client


def test_a_new_form_refreshes_the_defaults_that_follow_a_lookup(app, client):
    widget = make(app, "product", name="Widget", list_price="12.50")
    form = client.get("/o/quote_line/new").get_data(as_text=True)
    assert 'data-defaults-url="/o/quote_line/defaults"' in form
    assert '<script src="/static/form_defaults.js" defer></script>' in form
    assert "form_defaults" not in form.split("</title>")[0]
    token = csrf(client, "/o/quote_line/new")
    answer = client.post("/o/quote_line/defaults",
                         data={"product": str(widget["id"]), "quantity": "3",
                               "csrf_token": token},
                         headers={"Accept": "application/json"})
    assert answer.status_code == 200
    # only the defaults that read through a lookup, as the inputs show them
    assert answer.get_json() == {"unit_price": "12.50", "note": "Quoted Widget"}
    cleared = client.post("/o/quote_line/defaults", data={"product": "", "csrf_token": token})
    assert cleared.get_json() == {"unit_price": "", "note": "Quoted "}
    # saved without a unit price, the line gets the product's (as the API does)
    saved = client.post("/o/quote_line/new", data={"product": str(widget["id"]),
                                                   "csrf_token": token})
    assert saved.status_code == 302
    line = client.get(f"/api/v1/records/quote_line/{saved.headers['Location'].rsplit('/', 1)[1]}")
    assert line.get_json()["unit_price"] == 12.5


def test_defaults_follow_only_records_the_user_may_read(app, browser_session):
    client = app.test_client()
    browser_session(client, "alice")
    assert client.get("/o/quote_line/new").status_code == 403
    token = csrf(client)
    refused = client.post("/o/quote_line/defaults", data={"csrf_token": token},
                          headers={"Accept": "application/json"})
    assert refused.status_code == 403
    assert client.post("/o/quote_line/defaults").status_code == 403  # no CSRF token
