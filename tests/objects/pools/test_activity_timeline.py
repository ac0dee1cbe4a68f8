"""The activity timeline and "log a follow-up" on SQLite and PostgreSQL: field changes,
claims, returns and transfers, related records and notes in one stream, newest first; a
follow-up creates the object's follow-up record (a task) or keeps a note."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient

from metabiz.objects.evolution import apply_path
from metabiz.platform.db import users, writer

Call = Callable[..., Any]


def timeline(call: Call, record_id: int, user: str = "admin") -> list[dict[str, Any]]:
    response = call("GET", f"/records/lead/{record_id}/timeline", user=user)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["entries"]


def test_one_stream_newest_first(call: Call, pooled) -> None:
    lead = pooled("Acme")
    call("POST", f"/records/lead/{lead}/claim", user="rita")
    call("PATCH", f"/records/lead/{lead}", user="rita", body={"company": "Acme Ltd"})
    task = call("POST", "/records/task", user="rita", body={"subject": "Call back", "lead": lead,
                                                            "due": "2026-12-01"})
    assert task.status_code == 201, task.get_json()
    call("POST", f"/records/lead/{lead}/transfer", user="rita", body={"owner": "ron"})
    entries = timeline(call, lead, user="mia")  # their manager: the lead and rita's task
    kinds = [e["kind"] for e in entries]
    assert kinds[-1] == "created"
    history = [k for k in kinds if k in ("return", "claim", "change", "transfer")]
    assert history == ["transfer", "change", "claim", "return"]
    assert set(kinds) >= {"created", "return", "claim", "change", "related", "transfer"}
    assert [e["at"] for e in entries] == sorted((e["at"] for e in entries), reverse=True)
    by_kind = {e["kind"]: e for e in entries}
    assert by_kind["claim"]["title"] == "Claimed from Lead pool" and by_kind["claim"]["by"] == "rita"
    assert by_kind["return"]["detail"] == "No answer"  # the reason, by its label
    assert by_kind["transfer"]["title"] == "Transferred from rita to ron"
    assert by_kind["change"]["detail"] == "Company: — → Acme Ltd"
    assert by_kind["related"]["title"] == "Task: Call back"
    assert by_kind["related"]["href"].startswith("/o/task/")
    assert "2026-12-01" in (by_kind["related"]["detail"] or "")


def test_the_timeline_follows_read_access(call: Call) -> None:
    lead = call("POST", "/records/lead", user="rita", body={"name": "Mine"}).get_json()["id"]
    assert call("GET", f"/records/lead/{lead}/timeline", user="ron").status_code == 404
    assert call("GET", f"/records/lead/{lead}/timeline", user="mia").status_code == 200


def test_without_a_follow_up_object_a_note_is_kept(call: Call) -> None:
    lead = call("POST", "/records/lead", user="rita", body={"name": "Mine"}).get_json()["id"]
    done = call("POST", f"/records/lead/{lead}/follow-ups", user="rita",
                body={"text": "Called, asked for a quote"})
    assert done.status_code == 201 and done.get_json()["kind"] == "note"
    first = timeline(call, lead, user="rita")[0]
    assert (first["kind"], first["detail"], first["by"]) == \
        ("note", "Called, asked for a quote", "rita")
    for bad in ({}, {"text": "  "}, {"text": 5}, {"text": "x" * 5001}):
        refused = call("POST", f"/records/lead/{lead}/follow-ups", user="rita", body=bad)
        assert refused.status_code == 422 and "text" in refused.get_json()["error"]["fields"]
    assert call("POST", f"/records/lead/{lead}/follow-ups", user="ron",
                body={"text": "hi"}).status_code == 404


def test_a_follow_up_creates_the_task_and_stamps_the_record(
        pool_app, call: Call, tmp_path, extensions, lead_doc, app_writer) -> None:
    lead_doc["follow_up"] = {"object": "task", "link": "lead", "subject": "subject",
                             "values": {"due": "2026-12-24"}, "stamp": "last_follow_up"}
    apply_path(pool_app.extensions["metabiz"].engine, app_writer(tmp_path / "app", lead_doc),
               extensions=extensions)
    lead = call("POST", "/records/lead", user="rita", body={"name": "Mine"}).get_json()["id"]
    done = call("POST", f"/records/lead/{lead}/follow-ups", user="rita",
                body={"text": "Visited the plant\nThey want a demo in January"})
    assert done.status_code == 201, done.get_json()
    task = done.get_json()["record"]
    assert (task["subject"], task["lead"], task["due"], task["owner"]) == \
        ("Visited the plant", lead, "2026-12-24", "rita")
    record = call("GET", f"/records/lead/{lead}", user="rita").get_json()
    assert record["last_follow_up"] is not None
    entries = timeline(call, lead, user="rita")
    assert any(e["kind"] == "related" and e["title"] == "Task: Visited the plant"
               for e in entries)


def test_the_detail_page_shows_the_timeline_and_logs_a_follow_up(
        client: FlaskClient, browser_session, call: Call) -> None:
    lead = call("POST", "/records/lead", user="rita", body={"name": "Mine"}).get_json()["id"]
    call("PATCH", f"/records/lead/{lead}", user="rita", body={"company": "Acme"})
    browser_session(client, "rita")
    html = client.get(f"/o/lead/{lead}").get_data(as_text=True)
    assert 'id="activity"' in html and "Log a follow-up" in html
    assert re.search(r"Company: —\s*→\s*Acme", html)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)[1]  # type: ignore[index]
    done = client.post(f"/o/lead/{lead}/follow-up", data={"text": "Sent the brochure",
                                                          "csrf_token": token},
                       follow_redirects=True)
    page = done.get_data(as_text=True)
    assert "Follow-up logged." in page and "Sent the brochure" in page
    zh = client.get(f"/o/lead/{lead}?lang=zh").get_data(as_text=True)
    assert "历史与动态" in zh and "记录跟进" in zh


def test_the_timeline_names_people_as_the_rest_of_the_page_does(
        client: FlaskClient, browser_session, call: Call, pool_app) -> None:
    with writer(pool_app.extensions["metabiz"].engine).begin() as conn:
        conn.execute(users.update().where(users.c.name == "rita")
                     .values(display_name="Rita Lin"))
    lead = call("POST", "/records/lead", user="rita", body={"name": "Mine"}).get_json()["id"]
    browser_session(client, "rita")
    html = client.get(f"/o/lead/{lead}").get_data(as_text=True)
    timeline = html[html.index('id="activity"'):]
    assert re.search(r'<span class="muted small">Rita Lin · ', timeline)
    assert "rita · " not in timeline
