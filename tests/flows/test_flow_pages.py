"""The flows' effects as seen on the pages: a new record that assignment gives to someone
else, the approvals panel and inbox (more in tests/objects/test_web.py)."""

from __future__ import annotations

import re
from html import unescape


def signed_in(client, user: str, browser_session) -> str:
    browser_session(client, user)
    page = client.get("/").get_data(as_text=True)
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page)[1]


def test_a_new_record_assigned_to_someone_else_does_not_end_on_a_404(client, browser_session):
    token = signed_in(client, "alice", browser_session)
    # a score of 90 or more routes the lead to bob, whose records alice cannot open
    made = client.post("/o/lead/new", data={"name": "Hot lead", "score": "95",
                                            "csrf_token": token})
    assert made.status_code == 302 and made.headers["Location"] == "/o/lead"
    page = unescape(client.get(made.headers["Location"]).get_data(as_text=True))
    assert "Lead “Hot lead” was created and assigned to bob." in page
    # one she keeps still opens on its own page
    kept = client.post("/o/lead/new", data={"name": "Cold lead", "score": "10",
                                            "region": "south", "csrf_token": token})
    assert re.fullmatch(r"/o/lead/\d+", kept.headers["Location"])
    assert client.get(kept.headers["Location"]).status_code == 200
