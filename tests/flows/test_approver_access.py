"""Approvers read what they approve (only while it waits on them, never to edit), approved
records that stay locked, and approvals undone by a change of the fields they judged."""

from __future__ import annotations

import json

import pytest
from flow_api import call

CONTRACT_FLOW = {
    "api_name": "contract_approval", "kind": "approval", "object": "opportunity",
    "label": "Contract", "entry_condition": "amount >= 5000000", "lock_record": True,
    "lock_after_approval": True,
    "steps": [{"api_name": "review", "approvers": [{"field": "reviewer"}]}]}


@pytest.fixture
def app_dir(app_dir):
    path = app_dir / "flows" / "big_deal_approval.json"
    flow = json.loads(path.read_text())
    flow["resubmit_on_change"] = ["amount", "discount"]
    path.write_text(json.dumps(flow))
    (app_dir / "flows" / "contract_approval.json").write_text(json.dumps(CONTRACT_FLOW))
    return app_dir


def new_deal(client, **values):
    body = {"name": "Big one", "amount": 2000000, "discount": 0, "reviewer": "gina",
            "close_date": "2031-06-30", **values}
    created = call(client, "POST", "/records/opportunity", "alice", body)
    assert created.status_code == 201, created.get_json()
    return created.get_json()


def submit(client, deal, flow):
    made = call(client, "POST", f"/records/opportunity/{deal['id']}/approvals", "alice",
                {"flow": flow})
    assert made.status_code == 201, made.get_json()
    return made.get_json()


def test_an_approver_reads_the_record_only_while_it_waits_on_them(client):
    deal = new_deal(client)
    path = f"/records/opportunity/{deal['id']}"
    assert call(client, "GET", path, "gina").status_code == 404  # not hers to see
    request = submit(client, deal, "big_deal_approval")
    seen = call(client, "GET", path, "gina")
    assert seen.status_code == 200 and seen.get_json()["amount"] == 2000000
    listed = call(client, "GET", "/records/opportunity", "gina").get_json()
    assert [r["id"] for r in listed["records"]] == [deal["id"]]
    # reading only: she may not edit it, and other reps see nothing
    assert call(client, "PATCH", path, "gina", {"name": "Mine now"}).status_code == 404
    assert call(client, "GET", path, "dan").status_code == 404
    done = call(client, "POST", f"/approvals/{request['id']}/approve", "gina", {})
    assert done.status_code == 200
    assert call(client, "GET", path, "gina").status_code == 404  # decided: access ends


def test_the_inbox_and_the_request_carry_the_records_fields(client):
    deal = new_deal(client, close_date="2031-05-01")
    request = submit(client, deal, "big_deal_approval")
    [item] = call(client, "GET", "/approvals?status=pending", "gina").get_json()["items"]
    assert item["record"]["amount"] == 2000000 and item["record"]["close_date"] == "2031-05-01"
    shown = call(client, "GET", f"/approvals/{request['id']}", "gina").get_json()
    assert shown["record"]["name"] == "Big one"


def test_a_lock_after_approval_keeps_the_record_locked_for_all_but_admins(client):
    deal = new_deal(client, amount=6000000)
    request = submit(client, deal, "contract_approval")
    assert call(client, "POST", f"/approvals/{request['id']}/approve", "gina",
                {}).status_code == 200
    path = f"/records/opportunity/{deal['id']}"
    after = call(client, "GET", path, "alice").get_json()
    assert after["approval_status"] == "approved"
    refused = call(client, "PATCH", path, "alice", {"amount": 1})
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["code"] == "record_locked" and "since its approval" in error["message"]
    assert call(client, "PATCH", path, "admin", {"name": "Fixed"}).status_code == 200


def test_changing_a_judged_field_sends_the_record_back_for_approval(client):
    deal = new_deal(client)
    request = submit(client, deal, "big_deal_approval")
    call(client, "POST", f"/approvals/{request['id']}/approve", "gina", {})
    path = f"/records/opportunity/{deal['id']}"
    approved = call(client, "GET", path, "alice").get_json()
    # the approval's own update (stage) did not undo it
    assert approved["approval_status"] == "approved" and approved["stage"] == "closed_won"
    harmless = call(client, "PATCH", path, "alice", {"name": "Renamed"}).get_json()
    assert harmless["approval_status"] == "approved"
    cut = call(client, "PATCH", path, "alice", {"amount": 1500000}).get_json()
    assert cut["approval_status"] == "none"
    again = call(client, "POST", f"{path}/approvals", "alice", {"flow": "big_deal_approval"})
    assert again.status_code == 201
