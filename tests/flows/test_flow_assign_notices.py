"""A flow's `assign` action that gives a record to someone tells the new owner, in their
language, naming the automation rule or approval flow; the owner change is kept in the
history as that flow's (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flow_api import call
from sqlalchemy import update

from metabiz.objects import records
from metabiz.platform.db import users, writer


@pytest.fixture
def app_dir(app_dir):
    rule = app_dir / "flows" / "ticket_assign.json"
    rule.write_text(json.dumps({**json.loads(rule.read_text()), "label": {
        "en": "High priority routing", "zh": "高优先级分派"}}))
    flow = app_dir / "flows" / "big_deal_approval.json"
    approval = json.loads(flow.read_text())
    approval["on_approve"].append({"assign": {"user": "bob"}})
    flow.write_text(json.dumps(approval))
    return app_dir


def inbox(client: Any, jobs: Any, user: str) -> list[dict[str, Any]]:
    jobs()
    response = call(client, "GET", "/notifications", user)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def tickets(work: Any, *subjects: str, priority: str = "high") -> list[int]:
    with work("admin") as ctx:  # one unit of work
        return [records.create(ctx, "ticket", {"subject": s, "priority": priority})["id"]
                for s in subjects]


def owner_change(work: Any, object_name: str, record_id: int) -> dict[str, Any]:
    with work() as ctx:
        [change] = [h for h in records.history(ctx, object_name, record_id)
                    if h["field"] == "owner"]
    return change


def test_an_automation_rule_assigning_a_ticket_tells_the_new_owner(
        client, work, jobs, flowapp) -> None:
    with writer(flowapp).begin() as conn:
        conn.execute(update(users).where(users.c.name == "tina").values(language="zh"))
    [printer] = tickets(work, "Printer down")  # round robin over support: sam, then tina
    [vpn] = tickets(work, "VPN")
    [told] = inbox(client, jobs, "sam")
    assert (told["subject"], told["message"]) == (
        "Ticket assigned to you",
        "The automation rule High priority routing assigned you Ticket Printer down.")
    assert (told["object"], told["record_id"], told["source"]) == (
        "ticket", printer, "automation ticket_assign")
    [zh] = inbox(client, jobs, "tina")
    assert (zh["message"], zh["record_id"]) == (
        "自动化规则“高优先级分派”把Ticket“VPN”分配给了你。", vpn)
    assert inbox(client, jobs, "admin") == []
    change = owner_change(work, "ticket", printer)
    assert (change["old"], change["new"], change["kind"], change["note"]) == (
        "admin", "sam", "automation", "ticket_assign")
    # a ticket the rule leaves alone tells no one
    tickets(work, "Mouse", priority="low")
    assert [inbox(client, jobs, u) for u in ("sam", "tina", "uma")] == [[told], [zh], []]


def test_several_tickets_one_write_assigns_make_one_notification_each(
        client, work, jobs) -> None:
    first, *_ = tickets(work, "Alpha", "Beta", "Gamma", "Delta")
    [sam] = inbox(client, jobs, "sam")
    assert sam["message"] == (
        "The automation rule High priority routing assigned you 2 Ticket records: "
        "Alpha, Delta.")
    assert sam["record_id"] is None
    assert [n["message"] for n in inbox(client, jobs, "uma")] == [
        "The automation rule High priority routing assigned you Ticket Gamma."]
    assert owner_change(work, "ticket", first)["kind"] == "automation"


def test_an_approval_flow_assigning_the_record_on_approve_tells_the_new_owner(
        client, work, jobs) -> None:
    created = call(client, "POST", "/records/opportunity", "alice", {
        "name": "Big one", "amount": 2000000, "reviewer": "gina", "close_date": "2031-06-30"})
    assert created.status_code == 201, created.get_json()
    deal = created.get_json()["id"]
    request = call(client, "POST", f"/records/opportunity/{deal}/approvals", "alice",
                   {"flow": "big_deal_approval"})
    assert request.status_code == 201, request.get_json()
    assert inbox(client, jobs, "bob") == []
    done = call(client, "POST", f"/approvals/{request.get_json()['id']}/approve", "gina", {})
    assert done.status_code == 200, done.get_json()
    # (won_followup tells him the deal was won, too)
    told = [n for n in inbox(client, jobs, "bob") if n["subject"].endswith("assigned to you")]
    assert [(n["subject"], n["message"], n["source"]) for n in told] == [(
        "Opportunity assigned to you",
        "The approval flow Big deal assigned you Opportunity Big one.",
        "approval big_deal_approval")]
    change = owner_change(work, "opportunity", deal)
    assert (change["new"], change["kind"], change["note"]) == (
        "bob", "approval", "big_deal_approval")
