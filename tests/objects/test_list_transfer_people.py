"""A list's bulk transfer loads its users on demand: the list page names no user (it reads
none), GET /o/<object>/transfer gives the select's options to whoever may edit the
object and refuses anyone else, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest

from metabiz.app import create_app
from metabiz.platform.config import Config
from tests.objects.people_app import make


@pytest.fixture
def app(request, db_url, tmp_path):
    request.getfixturevalue("sales")
    application = create_app(Config(database_url=db_url, secret_key="test",
                                    instance_path=tmp_path, testing=True))
    yield application
    application.extensions["metabiz"].engine.dispose()


def test_the_list_asks_for_its_users_when_the_transfer_is_used(app, browser_session):
    make(app, "opportunity", "alice", name="Alpha")
    client = app.test_client()
    browser_session(client, "alice")
    listing = client.get("/o/opportunity").get_data(as_text=True)
    select = re.search(r'<select id="bulk-owner"[^>]*>(.*?)</select>', listing, re.S)
    assert select is not None
    assert 'hx-get="/o/opportunity/transfer"' in select[0] and "data-load-people" in select[0]
    assert re.findall(r'<option value="([^"]*)"', select[1]) == [""]  # "Choose a user"
    options = client.get("/o/opportunity/transfer")
    assert options.status_code == 200
    names = re.findall(r'<option value="([^"]+)">', options.get_data(as_text=True))
    assert {"alice", "bob", "eve"} <= set(names) and names == sorted(names)


def test_only_who_may_edit_the_object_gets_the_users(app, browser_session):
    client = app.test_client()
    browser_session(client, "alice")  # a sales rep: accounts are read-only to her
    assert client.get("/o/account").status_code == 200
    refused = client.get("/o/account/transfer")
    assert refused.status_code == 403 and "<option" not in refused.get_data(as_text=True)
    assert client.get("/o/nothing_here/transfer").status_code == 404
