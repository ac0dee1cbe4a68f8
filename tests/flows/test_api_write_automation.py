"""Automation runs the same for an API write whose caller is found inside the write's own
transaction (`platform.api.writing_actor`) as for one found the general way, on SQLite and
PostgreSQL: created, updated, field-changed and deleted triggers, the records, notifications
and jobs they make, an action's failure rolling the write back, and the round robin."""

from __future__ import annotations

import json
from typing import Any

from flow_api import call
from sqlalchemy import delete, select

from metabiz.flows import notifications, store
from metabiz.platform import api as platform_api


def _rows(flowapp: Any, table: str, *columns: str) -> list[tuple[Any, ...]]:
    with flowapp.connect() as conn:
        rows = conn.exec_driver_sql(f"SELECT {', '.join(columns)} FROM obj_{table} "
                                    "ORDER BY id").all()
    return [tuple(row) for row in rows]


def _writes(client: Any, flowapp: Any, jobs: Any, tag: str) -> list[Any]:
    """One run of API writes that trigger rules; what they left (ids and times left out)."""
    seen: list[Any] = []
    urgent = call(client, "POST", "/records/ticket", "sam",
                  {"subject": f"Down {tag}", "priority": "urgent"})
    seen.append((urgent.status_code, urgent.get_json()["owner"]))
    ticket = call(client, "POST", "/records/ticket", "admin", {"subject": f"Slow {tag}"})
    ticket_id = ticket.get_json()["id"]
    escalated = call(client, "PATCH", f"/records/ticket/{ticket_id}", "admin",
                     {"priority": "high"})
    seen.append((escalated.status_code, escalated.get_json()["note"]))
    broken = call(client, "PATCH", f"/records/ticket/{ticket_id}", "admin",
                  {"note": "make a task"})
    seen.append((broken.status_code, broken.get_json()["error"]["fields"]))
    opp = call(client, "POST", "/records/opportunity", "alice",
               {"name": f"Acme {tag}", "close_date": "2031-01-10"})
    won = call(client, "PATCH", f"/records/opportunity/{opp.get_json()['id']}", "alice",
               {"stage": "closed_won"})
    seen.append((won.status_code, won.get_json()["stage"]))
    seen.append(call(client, "DELETE", f"/records/ticket/{ticket_id}", "admin").status_code)
    seen.append(_rows(flowapp, "ticket", "subject", "priority", "note", "closed_on",
                      "owner", "version"))
    seen.append(_rows(flowapp, "task", "subject", "due_date", "owner", "created_by"))
    seen.append(jobs())
    with flowapp.connect() as conn:
        seen.append({user: sorted(n["subject"] for n in notifications.for_user(conn, user))
                     for user in ("sam", "tina", "uma", "alice", "bob")})
        seen.append(conn.execute(select(store.jobs.c.kind, store.jobs.c.status)
                                 .order_by(store.jobs.c.id)).all())
    return seen


def test_rules_run_alike_whichever_way_the_caller_is_found(client, flowapp, jobs,
                                                          monkeypatch):
    for user in ("sam", "admin", "alice"):  # first uses are recorded the general way
        assert call(client, "GET", "/me", user).status_code == 200
    found: list[bool] = []
    real = platform_api.token_actor

    def spy(*args: Any, **kwargs: Any) -> Any:
        actor = real(*args, **kwargs)
        found.append(actor is not None)
        return actor

    monkeypatch.setattr(platform_api, "token_actor", spy)
    fast = _writes(client, flowapp, jobs, "Run1")
    assert len(found) == 7 and all(found)  # every write found its caller in its transaction
    monkeypatch.setattr(platform_api, "token_actor", lambda *_a, **_k: None)
    with flowapp.begin() as conn:  # the second run starts from what the first found
        for table in ("obj_ticket", "obj_task"):
            conn.exec_driver_sql(f"DELETE FROM {table}")
        for stored in (store.webhook_attempts, store.jobs, store.notifications):
            conn.execute(delete(stored))
    general = _writes(client, flowapp, jobs, "Run2")
    assert json.dumps(fast, default=str).replace("Run1", "TAG") == \
        json.dumps(general, default=str).replace("Run2", "TAG")
    # what a user expects of these rules
    assert fast[0] == (201, "sam")
    assert fast[1] == (200, "escalated from low")
    assert fast[2] == (422, {"subject": ["required"]})
    assert fast[3] == (200, "closed_won") and fast[4] == 204
    assert fast[5] == [("Down Run1", "urgent", None, None, "sam", 1)]
    assert [(t[0], str(t[1])) for t in fast[6]] == [("Kick-off with Acme Run1", "2031-01-17"),
                                                    ("Deleted ticket: Slow Run1", "None")]
    assert fast[8]["tina"] == ["Urgent: Down Run1"] and fast[8]["bob"] == ["Won: Acme Run1"]
