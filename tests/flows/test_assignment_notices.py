"""An assignment rule that gives a record to someone tells the new owner, in their language,
naming the rule; nobody is told when the owner stays or is the one whose write ran the rule
(SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from flow_api import call
from sqlalchemy import update

from metabiz.objects import records
from metabiz.platform.db import users, writer


def inbox(client: Any, jobs: Any, user: str) -> list[dict[str, Any]]:
    jobs()
    response = call(client, "GET", "/notifications", user)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def create(work: Any, user: str, *leads: dict[str, Any]) -> list[int]:
    with work(user) as ctx:  # one unit of work
        return [records.create(ctx, "lead", lead)["id"] for lead in leads]


def test_a_new_lead_the_rule_gives_to_a_rep_tells_her(client, work, jobs, flowapp) -> None:
    with writer(flowapp).begin() as conn:
        conn.execute(update(users).where(users.c.name == "dan").values(language="zh"))
    [acme] = create(work, "admin", {"name": "Acme", "region": "east"})
    [globex] = create(work, "admin", {"name": "Globex", "region": "east"})
    [told] = inbox(client, jobs, "alice")
    assert (told["subject"], told["message"]) == (
        "Lead assigned to you", "The assignment rule Lead routing assigned you Lead Acme.")
    assert (told["object"], told["record_id"], told["read"]) == ("lead", acme, False)
    [zh] = inbox(client, jobs, "dan")
    assert (zh["subject"], zh["message"], zh["record_id"]) == (
        "线索已分配给你", "分配规则“线索分配”把线索“Globex”分配给了你。", globex)
    assert inbox(client, jobs, "admin") == []
    # the history says which rule moved it
    with work() as ctx:
        [owner] = [h for h in records.history(ctx, "lead", acme) if h["field"] == "owner"]
    assert (owner["old"], owner["new"], owner["kind"], owner["note"]) == (
        "admin", "alice", "rule", "lead_routing")


def test_several_leads_given_to_one_rep_at_once_make_one_notification(
        client, work, jobs) -> None:
    create(work, "admin", *({"name": name, "score": 95} for name in ("Alpha", "Beta", "Gamma")))
    [told] = inbox(client, jobs, "bob")
    assert told["message"] == (
        "The assignment rule Lead routing assigned you 3 Lead records: Alpha, Beta, Gamma.")
    assert told["record_id"] is None


def test_no_notice_when_the_owner_stays_or_takes_it_himself(client, work, jobs) -> None:
    [kept] = create(work, "bob", {"name": "Kept", "score": 95})  # bob already owns it
    [south] = create(work, "dan", {"name": "Southern", "region": "south"})  # no entry matches
    with work() as ctx:
        assert records.get(ctx, "lead", kept)["owner"] == "bob"
        records.update(ctx, "lead", south, {"score": 99})
    # bob (the manager) runs the rule himself and it gives him dan's lead: nobody is told
    done = call(client, "POST", f"/records/lead/{south}/assignment", "bob",
                {"rule": "lead_routing"})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["owner"] == "bob"
    assert inbox(client, jobs, "bob") == []
    assert inbox(client, jobs, "dan") == []


def test_a_rule_run_on_demand_by_the_owner_tells_the_new_owner(client, work, jobs) -> None:
    [lead] = create(work, "dan", {"name": "Upgraded", "region": "south"})
    with work("dan") as ctx:
        records.update(ctx, "lead", lead, {"score": 91})
    done = call(client, "POST", f"/records/lead/{lead}/assignment", "dan", {})
    assert done.status_code == 200, done.get_json()
    [told] = inbox(client, jobs, "bob")
    assert told["message"] == "The assignment rule Lead routing assigned you Lead Upgraded."
    assert inbox(client, jobs, "dan") == []
