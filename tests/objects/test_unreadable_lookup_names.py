"""A lookup to a record of an object the user may not read shows the record's name (never
another of its fields), as Salesforce does; following it leads to a 403 page that says so,
in the user's language, with a way back."""

from __future__ import annotations

import json
from html import unescape

import pytest

from metabiz.app import create_app
from metabiz.platform.auth import create_user
from metabiz.platform.config import Config
from metabiz.platform.db import writer
from tests.objects.people_app import make


@pytest.fixture
def app(request, db_url, tmp_path, sales_dir):
    (sales_dir / "roles" / "deal_viewer.json").write_text(json.dumps({
        "api_name": "deal_viewer", "label": "Deal viewer",
        "objects": {"opportunity": ["read"]}, "record_access": "all"}), encoding="utf-8")
    engine = request.getfixturevalue("sales")
    with writer(engine).begin() as conn:
        create_user(conn, "vera", "vera-pw-1", roles=["deal_viewer"])
    application = create_app(Config(database_url=db_url, secret_key="test",
                                    instance_path=tmp_path, testing=True))
    yield application
    application.extensions["metabiz"].engine.dispose()


def test_the_name_of_an_unreadable_record_shows_and_its_link_says_no_access(
        app, browser_session):
    account = make(app, "account", "admin", name="Initech", industry="retail",
                   credit_limit=70000)
    deal = make(app, "opportunity", "admin", name="Initech renewal", account=account["id"])
    client = app.test_client()
    browser_session(client, "vera")
    shown = unescape(client.get(f"/o/opportunity/{deal['id']}?lang=en").get_data(as_text=True))
    assert f'<a href="/o/account/{account["id"]}">Initech</a>' in shown
    assert f"#{account['id']}" not in shown
    assert "Retail" not in shown and "70,000" not in shown  # the name only
    denied = client.get(f"/o/account/{account['id']}")
    page = unescape(denied.get_data(as_text=True))
    assert denied.status_code == 403 and "You don't have access to this" in page
    assert "Your role does not allow you to open these records." in page
    assert "Initech" not in page and "account records" not in page
    assert 'data-back' in page and "Go to the home page" in page
    chinese = unescape(client.get(f"/o/account/{account['id']}?lang=zh").get_data(as_text=True))
    assert "您的角色无权查看该对象的记录。" in chinese and "返回" in chinese
