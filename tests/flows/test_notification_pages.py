"""The notifications page and the unread count in the page header, on SQLite and PostgreSQL:
reading one (and opening its record), marking all read, other users' notifications."""

from __future__ import annotations

import re
from html import unescape

from metabiz.flows import notifications
from metabiz.objects import records


def signed_in(client, user: str, browser_session) -> str:
    browser_session(client, user)
    page = client.get("/").get_data(as_text=True)
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page)[1]


def notify(work, jobs, users, message, **about) -> None:
    with work("admin") as ctx:
        notifications.send(ctx.conn, users, now=ctx.now, message=message, **about)
    jobs()


def bell(page: str) -> str:
    return re.search(r'data-unread="(\d+)"', page)[1]


def test_the_header_counts_unread_notifications_and_the_page_lists_them(
        client, browser_session, work, jobs):
    with work("alice") as ctx:
        lead = records.create(ctx, "lead", {"name": "Cold lead", "score": 10, "region": "south"})
    notify(work, jobs, ["alice"], "Follow up on Cold lead", subject="Reminder",
           object_name="lead", record_id=lead["id"])
    notify(work, jobs, ["alice", "eve"], "Quarter closes Friday")
    notify(work, jobs, ["eve"], "Only for eve")
    token = signed_in(client, "alice", browser_session)
    home = client.get("/").get_data(as_text=True)
    assert bell(home) == "2" and 'href="/notifications"' in home
    page = unescape(client.get("/notifications").get_data(as_text=True))
    assert "Follow up on Cold lead" in page and "Quarter closes Friday" in page
    assert "Only for eve" not in page
    assert f'href="/o/lead/{lead["id"]}">Cold lead</a>' in page
    assert "2 unread" in page
    # "Open" marks it read and goes to the record
    first = re.search(r'data-notification="(\d+)">(?:(?!</li>).)*Follow up', page, re.S)[1]
    opened = client.post(f"/notifications/{first}/read", data={"open": "1",
                                                               "csrf_token": token})
    assert opened.status_code == 302 and opened.headers["Location"] == f"/o/lead/{lead['id']}"
    assert bell(client.get("/").get_data(as_text=True)) == "1"
    unread = unescape(client.get("/notifications?show=unread").get_data(as_text=True))
    assert "Follow up on Cold lead" not in unread and "Quarter closes Friday" in unread
    done = client.post("/notifications/read", data={"csrf_token": token},
                       follow_redirects=True)
    assert "1 notifications marked read." in unescape(done.get_data(as_text=True))
    assert bell(client.get("/").get_data(as_text=True)) == "0"
    zh = unescape(client.get("/notifications?lang=zh").get_data(as_text=True))
    assert "所有通知均已读。" in zh


def test_nobody_reads_anothers_notification(client, browser_session, work, jobs):
    notify(work, jobs, ["eve"], "Private to eve")
    token = signed_in(client, "alice", browser_session)
    with work("eve") as ctx:
        theirs = notifications.for_user(ctx.conn, "eve")[0]["id"]
    assert client.post(f"/notifications/{theirs}/read",
                       data={"csrf_token": token}).status_code == 404
    assert client.post("/notifications/abc/read", data={"csrf_token": token}).status_code == 404
    with work("eve") as ctx:
        assert notifications.unread_count(ctx.conn, "eve") == 1


def test_notifications_api_lists_and_marks_read(client, work, jobs):
    notify(work, jobs, ["alice"], "Hello")
    auth = {"Authorization": f"Bearer {client.tokens['alice']}"}
    listed = client.get("/api/v1/notifications?unread=1", headers=auth).get_json()
    assert listed["unread"] == 1 and [i["message"] for i in listed["items"]] == ["Hello"]
    item = listed["items"][0]["id"]
    read = client.post(f"/api/v1/notifications/{item}/read", headers=auth)
    assert read.status_code == 200 and read.get_json()["read"] is True
    assert client.get("/api/v1/notifications?unread=1", headers=auth).get_json()["items"] == []
    other = {"Authorization": f"Bearer {client.tokens['eve']}"}
    assert client.post(f"/api/v1/notifications/{item}/read", headers=other).status_code == 404
