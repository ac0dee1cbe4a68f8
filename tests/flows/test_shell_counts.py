"""The shell's counts on every page — pending approvals on the navigation's Approvals link,
unread notifications on the header's bell — read in one statement, and fresh on the next
page after an approval arrives or is acted on, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

from flow_api import call
from sqlalchemy import event

from metabiz.flows import notifications, shell_counts


def _badges(page: str) -> tuple[str | None, str]:
    link = re.search(r'<a href="/approvals"[^>]*>(.*?)</a>', page, re.S)
    assert link is not None, "the navigation links the approvals inbox"
    badge = re.search(r'<span class="count-badge">(\d+)</span>', link[1])
    bell = re.search(r'data-unread="(\d+)"', page)
    assert bell is not None
    return (badge[1] if badge else None), bell[1]


def _submit(client) -> int:
    opp = call(client, "POST", "/records/opportunity", "alice",
               {"name": "Deal", "amount": 5000, "discount": 15}).get_json()
    made = call(client, "POST", f"/records/opportunity/{opp['id']}/approvals", "alice", {})
    assert made.status_code == 201, made.get_json()
    return int(made.get_json()["id"])


def test_counts_show_on_the_next_page_and_follow_actions(client, browser_session, work, jobs):
    browser_session(client, "bob")
    assert _badges(client.get("/o/opportunity").get_data(as_text=True)) == (None, "0")
    first = _submit(client)
    _submit(client)
    jobs()
    with work("admin") as ctx:
        before = notifications.unread_count(ctx.conn, "bob")  # the approvals' notices
        notifications.send(ctx.conn, ["bob"], now=ctx.now, message="Look at this")
    jobs()
    unread = str(before + 1)
    assert _badges(client.get("/o/opportunity").get_data(as_text=True)) == ("2", unread)
    assert _badges(client.get("/?lang=zh").get_data(as_text=True)) == ("2", unread)
    assert call(client, "POST", f"/approvals/{first}/approve", "bob", {}).status_code == 200
    assert _badges(client.get("/o/opportunity").get_data(as_text=True)) == ("1", unread)
    assert _badges(client.get("/approvals").get_data(as_text=True)) == ("1", unread)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"',
                      client.get("/").get_data(as_text=True))[1]
    client.post("/notifications/read", data={"csrf_token": token})
    assert _badges(client.get("/notifications").get_data(as_text=True)) == ("1", "0")


def test_one_statement_counts_both(client, flowapp, work, jobs):
    _submit(client)
    with work("admin") as ctx:
        notifications.send(ctx.conn, ["bob", "carol"], now=ctx.now, message="Hi")
    jobs()
    with work("admin") as ctx:
        seen: list[str] = []
        listen = event.listen
        listen(ctx.conn, "before_cursor_execute",
               lambda conn, cursor, statement, *rest: seen.append(statement))
        counts = shell_counts.read(ctx.conn, "bob")
        assert len(seen) == 1
        assert counts.pending_approvals == 1
        assert counts.unread_notifications == notifications.unread_count(ctx.conn, "bob") >= 1
        assert shell_counts.read(ctx.conn, "alice") == shell_counts.ShellCounts(0, 0)
