"""A list page past the last one (an old link, a list that shrank) goes to the last page
instead of showing an empty table that counts "2,476–2,500 of 3", on SQLite and PostgreSQL."""

from __future__ import annotations

from html import unescape

from metabiz.objects import records


def test_a_page_past_the_end_goes_to_the_last_page(app, work, browser_session):
    with work("admin") as ctx:
        records.create_many(ctx, "account", [{"name": f"Account {i:02}"} for i in range(30)])
    client = app.test_client()
    browser_session(client, "admin")
    response = client.get("/o/account?page=99&sort=name")
    assert response.status_code == 302
    assert response.headers["Location"] == "/o/account?sort=name&page=2"
    last = unescape(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "26–30 of 30" in last and "Account 29" in last
    # a list of one page: the page number goes
    only = client.get("/o/account?page=3&q=Account 0")
    assert only.status_code == 302 and only.headers["Location"] == "/o/account?q=Account+0"
    assert client.get("/o/account?page=1&sort=name").status_code == 200
