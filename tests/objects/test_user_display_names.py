"""People are shown by the name people know them by: a user field and the owner show the
user's display name in lists and on the record's page (the user name where there is none),
on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any

import pytest

from metabiz.app import build_runtime, create_app
from metabiz.objects import records
from metabiz.objects.evolution import apply_path
from metabiz.platform.access import SYSTEM
from metabiz.platform.auth import create_user
from metabiz.platform.config import Config
from metabiz.platform.db import writer

TASK = {
    "api_name": "task", "label": "Task", "name_field": "name",
    "fields": [
        {"api_name": "name", "type": "text", "max_length": 40},
        {"api_name": "assignee", "type": "user", "label": "Assignee"},
    ],
    "list_views": [{"api_name": "all", "label": "All tasks",
                    "columns": ["name", "assignee", "owner"]}],
}


@pytest.fixture
def app(engine, tmp_path, extensions, db_url) -> Any:
    folder = tmp_path / "todo"
    (folder / "objects").mkdir(parents=True)
    (folder / "app.json").write_text(json.dumps({"name": "todo", "version": "1.0.0",
                                                 "label": "To do"}))
    (folder / "objects" / "task.json").write_text(json.dumps(TASK))
    apply_path(engine, folder, extensions=extensions)
    with writer(engine).begin() as conn:
        create_user(conn, "admin", "admin-pw", roles=["admin"])
        create_user(conn, "alice", "alice-pw", display_name="Alice Chen")
        create_user(conn, "kai", "kai-pw")  # no display name
        ctx = build_runtime(engine).context(conn, SYSTEM)
        made = records.create_many(ctx, "task", [
            {"name": "Call Acme <back>", "assignee": "alice", "owner": "kai"},
            {"name": "Send the quote", "assignee": "kai", "owner": "alice"},
            {"name": "Nobody's yet"}])
    application = create_app(Config(database_url=db_url, secret_key="t",
                                    instance_path=tmp_path, testing=True))
    application.config["made"] = made
    yield application
    application.extensions["metabiz"].engine.dispose()


def cells(html: str) -> list[list[str]]:
    """The list table's rows as the texts of their cells."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [[unescape(re.sub(r"<[^>]+>", "", cell)).strip()
             for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def test_lists_show_users_by_their_display_names(app, browser_session):
    client = app.test_client()
    browser_session(client, "admin")
    response = client.get("/o/task?sort=name")
    assert response.status_code == 200
    rows = [row[-3:] for row in cells(response.get_data(as_text=True))]
    assert rows == [["Call Acme <back>", "Alice Chen", "kai"],
                    ["Nobody's yet", "—", "System"],
                    ["Send the quote", "kai", "Alice Chen"]]


def test_the_record_page_shows_a_user_field_by_its_display_name(app, browser_session):
    client = app.test_client()
    browser_session(client, "admin")
    made = app.config["made"]
    page = unescape(client.get(f"/o/task/{made[0]['id']}").get_data(as_text=True))
    assignee = re.search(r"<dt[^>]*>Assignee</dt>\s*<dd[^>]*>(.*?)</dd>", page, re.S)
    assert assignee is not None and re.sub(r"<[^>]+>", "", assignee[1]).strip() == "Alice Chen"
