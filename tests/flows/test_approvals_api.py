"""The contract's approval example end to end through the REST API, on both databases.

或签 and 会签 steps, a step skipped by its condition, reject, recall, reassign, the record
lock, bad input, several requests over a record's life, and a failing action rolling back.
"""

from __future__ import annotations

import threading

import pytest
from flow_api import call

from metabiz.flows import approvals
from metabiz.platform.auth import load_actor
from metabiz.platform.db import writer


def opportunity(client, user="alice", **values):
    body = {"name": "Deal", "amount": 5000, "discount": 15, **values}
    created = call(client, "POST", "/records/opportunity", user, body)
    assert created.status_code == 201, created.get_json()
    return created.get_json()


def submit(client, record, user="alice", **body):
    return call(client, "POST", f"/records/opportunity/{record['id']}/approvals", user, body)


def act(client, request_id, action, user, **body):
    return call(client, "POST", f"/approvals/{request_id}/{action}", user, body)


def record(client, record_id, user="admin"):
    return call(client, "GET", f"/records/opportunity/{record_id}", user).get_json()


def pending_items(client, user):
    response = call(client, "GET", "/approvals?status=pending", user)
    assert response.status_code == 200
    return response.get_json()["items"]


def test_manager_step_only_when_finance_condition_is_false(client):
    opp = opportunity(client, discount=15)
    created = submit(client, opp, comment="please")
    assert created.status_code == 201, created.get_json()
    request = created.get_json()
    assert created.headers["Location"].endswith(f"/approvals/{request['id']}")
    assert request["status"] == "pending" and request["flow"] == "discount_approval"
    assert request["step"] == "manager" and request["pending_approvers"] == ["bob"]
    assert request["actions"] == ["recall"]
    current = record(client, opp["id"])
    assert current["approval_status"] == "pending"
    assert current["probability"] == 50  # on_submit ran

    [item] = pending_items(client, "bob")
    assert item["request"] == request["id"] and item["object"] == "opportunity"
    assert item["record_id"] == opp["id"] and item["record_name"] == "Deal"
    assert item["step"] == "manager" and item["flow"] == "discount_approval"
    assert item["submitted_by"] == "alice" and item["submitted_at"] and item["comment"] == "please"

    done = act(client, request["id"], "approve", "bob", comment="ok")
    assert done.status_code == 200, done.get_json()
    result = done.get_json()
    assert result["status"] == "approved" and result["actions"] == []
    assert [(h["step"], h["actor"], h["action"], h["comment"]) for h in result["history"]] == [
        (None, "alice", "submitted", "please"),
        ("manager", "system", "started", None),
        ("manager", "bob", "approved", "ok"),
        ("finance", "system", "skipped", None),
    ]
    assert all(h["at"].endswith("Z") for h in result["history"])
    current = record(client, opp["id"])
    assert current["approval_status"] == "approved" and current["stage"] == "negotiation"
    assert pending_items(client, "bob") == []
    # unlocked again: the owner may edit
    assert call(client, "PATCH", f"/records/opportunity/{opp['id']}", "alice",
                {"amount": 10}).status_code == 200


def test_all_mode_needs_every_finance_approver(client):
    opp = opportunity(client, discount=25)
    request = submit(client, opp).get_json()
    assert act(client, request["id"], "approve", "bob").status_code == 200
    after_manager = call(client, "GET", f"/approvals/{request['id']}", "alice").get_json()
    assert after_manager["step"] == "finance" and after_manager["mode"] == "all"
    # the role's members and the named user, each once
    assert sorted(after_manager["pending_approvers"]) == ["carol", "fred"]
    carol = act(client, request["id"], "approve", "carol").get_json()
    assert carol["status"] == "pending" and carol["pending_approvers"] == ["fred"]
    # carol cannot approve twice
    again = act(client, request["id"], "approve", "carol")
    assert again.status_code == 403 and again.get_json()["error"]["code"] == "forbidden"
    fred = act(client, request["id"], "approve", "fred").get_json()
    assert fred["status"] == "approved"
    assert record(client, opp["id"])["stage"] == "negotiation"


def test_one_rejection_rejects_and_runs_on_reject(client):
    opp = opportunity(client, discount=30)
    request = submit(client, opp).get_json()
    act(client, request["id"], "approve", "bob")
    act(client, request["id"], "approve", "carol")
    rejected = act(client, request["id"], "reject", "fred", comment="too much")
    assert rejected.status_code == 200
    body = rejected.get_json()
    assert body["status"] == "rejected"
    assert {a["user"]: a["status"] for a in body["approvers"] if a["step"] == "finance"} == {
        "carol": "approved", "fred": "rejected"}
    current = record(client, opp["id"])
    assert current["approval_status"] == "rejected" and current["discount"] == 0
    late = act(client, request["id"], "approve", "fred")
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "conflict"


def test_any_mode_first_decides_and_cancels_the_others(client, flowapp):
    # a pending request in an "any" step with two approvers: reassigning keeps one item each
    opp = opportunity(client, discount=15)
    request = submit(client, opp).get_json()
    assert act(client, request["id"], "reassign", "bob", to="dan").status_code == 200
    assert pending_items(client, "bob") == []
    [item] = pending_items(client, "dan")
    assert item["reassigned_from"] == "bob"
    done = act(client, request["id"], "approve", "dan").get_json()
    assert done["status"] == "approved"
    assert ("manager", "bob", "reassigned") in [(h["step"], h["actor"], h["action"])
                                                for h in done["history"]]
    assert [h["details"] for h in done["history"] if h["action"] == "reassigned"] == [
        {"to": "dan"}]


def test_lock_while_pending(client):
    opp = opportunity(client)
    submit(client, opp)
    locked = call(client, "PATCH", f"/records/opportunity/{opp['id']}", "alice", {"amount": 1})
    assert locked.status_code == 409
    assert locked.get_json()["error"]["code"] == "record_locked"
    gone = call(client, "DELETE", f"/records/opportunity/{opp['id']}", "bob")
    assert gone.status_code == 409 and gone.get_json()["error"]["code"] == "record_locked"
    # administrators may still edit, and delete: the request ends as cancelled
    assert call(client, "PATCH", f"/records/opportunity/{opp['id']}", "admin",
                {"amount": 2}).status_code == 200
    [item] = pending_items(client, "bob")
    assert call(client, "DELETE", f"/records/opportunity/{opp['id']}", "admin").status_code == 204
    assert pending_items(client, "bob") == []
    cancelled = call(client, "GET", f"/approvals/{item['request']}", "alice").get_json()
    assert cancelled["status"] == "cancelled" and cancelled["record_name"].endswith(
        f"#{opp['id']}")
    assert act(client, item["request"], "approve", "bob").status_code == 409


def test_recall_by_the_submitter_only(client):
    opp = opportunity(client)
    request = submit(client, opp).get_json()
    not_mine = act(client, request["id"], "recall", "bob")
    assert not_mine.status_code == 403
    recalled = act(client, request["id"], "recall", "alice", comment="oops")
    assert recalled.status_code == 200
    assert recalled.get_json()["status"] == "recalled"
    current = record(client, opp["id"])
    assert current["approval_status"] == "recalled" and current["probability"] == 0
    assert pending_items(client, "bob") == []
    assert act(client, request["id"], "approve", "bob").status_code == 409
    assert call(client, "PATCH", f"/records/opportunity/{opp['id']}", "alice",
                {"amount": 3}).status_code == 200


def test_bad_input(client):
    opp = opportunity(client, discount=5)
    ineligible = submit(client, opp)
    assert ineligible.status_code == 422
    error = ineligible.get_json()["error"]
    assert error["code"] == "validation_failed" and "discount > 10" in error["message"]
    unknown = submit(client, opp, flow="nope")
    assert unknown.status_code == 422 and "nope" in unknown.get_json()["error"]["message"]
    wrong_entry = submit(client, opp, flow="discount_approval")
    assert wrong_entry.status_code == 422
    assert "entry condition" in wrong_entry.get_json()["error"]["message"]
    # nothing was left behind by the refusals
    assert call(client, "GET", f"/records/opportunity/{opp['id']}/approvals",
                "alice").get_json() == {"requests": []}

    call(client, "PATCH", f"/records/opportunity/{opp['id']}", "admin", {"discount": 15})
    request = submit(client, opp).get_json()
    twice = submit(client, opp)
    assert twice.status_code == 409 and twice.get_json()["error"]["code"] == "conflict"
    not_yours = act(client, request["id"], "approve", "eve")
    assert not_yours.status_code == 403
    to_nobody = act(client, request["id"], "reassign", "bob", to="nobody")
    assert to_nobody.status_code == 422 and "to" in to_nobody.get_json()["error"]["fields"]
    to_inactive = act(client, request["id"], "reassign", "bob", to="zed")
    assert to_inactive.status_code == 422
    missing_to = act(client, request["id"], "reassign", "bob")
    assert missing_to.status_code == 422
    by_other = act(client, request["id"], "reassign", "eve", to="dan")
    assert by_other.status_code == 403
    assert call(client, "POST", f"/approvals/{request['id']}/explode", "bob").status_code == 404
    assert act(client, 999999, "approve", "bob").status_code == 404
    malformed = client.open(f"/api/v1/approvals/{request['id']}/approve", method="POST",
                            data="{oops", headers={
                                "Authorization": f"Bearer {client.tokens['bob']}",
                                "Content-Type": "application/json"})
    assert malformed.status_code == 400
    assert call(client, "GET", "/approvals?status=weird", "bob").status_code == 400
    # someone who may not see the record cannot submit it
    assert submit(client, opp, user="eve").status_code == 404


def test_several_requests_over_a_records_life(client):
    opp = opportunity(client)
    first = submit(client, opp).get_json()
    act(client, first["id"], "reject", "bob", comment="no")
    assert record(client, opp["id"])["discount"] == 0
    call(client, "PATCH", f"/records/opportunity/{opp['id']}", "alice", {"discount": 12})
    second = submit(client, opp).get_json()
    act(client, second["id"], "approve", "bob")
    listed = call(client, "GET", f"/records/opportunity/{opp['id']}/approvals", "alice")
    assert listed.status_code == 200
    requests = listed.get_json()["requests"]
    assert [(r["id"], r["status"]) for r in requests] == [
        (second["id"], "approved"), (first["id"], "rejected")]
    assert requests[1]["history"][-1]["comment"] == "no"
    done = call(client, "GET", "/approvals?status=all", "bob").get_json()["items"]
    assert {(i["request"], i["status"]) for i in done} == {
        (first["id"], "rejected"), (second["id"], "approved")}


def test_submitter_who_approves_goes_to_their_manager(client):
    opp = opportunity(client, discount=0, amount=2000000, reviewer="alice",
                      close_date="2030-01-31")
    request = submit(client, opp).get_json()
    assert request["flow"] == "big_deal_approval" and request["locks_record"] is False
    assert request["pending_approvers"] == ["bob"]
    # not locked by this flow
    assert call(client, "PATCH", f"/records/opportunity/{opp['id']}", "alice",
                {"amount": 2000001}).status_code == 200
    done = act(client, request["id"], "approve", "bob").get_json()
    assert done["status"] == "approved"
    assert record(client, opp["id"])["stage"] == "closed_won"
    # the history names steps as people read them (the step's label), beside its api_name
    assert [(h["step"], h["step_label"]) for h in done["history"] if h["step"]] == \
        [("review", "Review")] * (len([h for h in done["history"] if h["step"]]))


def test_failing_action_rolls_the_step_back(client):
    opp = opportunity(client, discount=0, amount=2000000, reviewer="dan")
    request = submit(client, opp).get_json()
    assert request["pending_approvers"] == ["dan"]
    # on_approve sets stage closed_won, which needs a close date: refused, nothing done
    failed = act(client, request["id"], "approve", "dan")
    assert failed.status_code == 422
    assert "close_date" in failed.get_json()["error"]["fields"]
    again = call(client, "GET", f"/approvals/{request['id']}", "dan").get_json()
    assert again["status"] == "pending" and again["pending_approvers"] == ["dan"]
    assert record(client, opp["id"])["approval_status"] == "pending"
    call(client, "PATCH", f"/records/opportunity/{opp['id']}", "admin",
         {"close_date": "2030-06-30"})
    assert act(client, request["id"], "approve", "dan").get_json()["status"] == "approved"


def test_a_step_without_approver_refuses_the_submission(client):
    opp = opportunity(client, user="gina")  # gina has no manager
    refused = submit(client, opp, user="gina")
    assert refused.status_code == 422
    assert "manager" in refused.get_json()["error"]["message"]
    current = record(client, opp["id"])
    assert current["approval_status"] == "none" and current["probability"] is None


def test_approvers_and_submitter_are_notified(client, jobs):
    opp = opportunity(client)
    request = submit(client, opp).get_json()
    assert jobs() >= 1
    inbox = call(client, "GET", "/notifications", "bob").get_json()
    assert inbox["unread"] == 1
    assert inbox["items"][0]["record_id"] == opp["id"]
    assert "alice asks for your approval" in inbox["items"][0]["message"]
    act(client, request["id"], "approve", "bob")
    jobs()
    mine = call(client, "GET", "/notifications?unread=1", "alice").get_json()
    assert mine["unread"] == 1 and "approved" in mine["items"][0]["message"]
    note = mine["items"][0]["id"]
    read = call(client, "POST", f"/notifications/{note}/read", "alice")
    assert read.status_code == 200 and read.get_json()["read"] is True
    assert call(client, "GET", "/notifications", "alice").get_json()["unread"] == 0
    assert call(client, "POST", f"/notifications/{note}/read", "bob").status_code == 404


def test_approver_without_record_access_can_act(client):
    opp = opportunity(client)
    request = submit(client, opp).get_json()
    act(client, request["id"], "reassign", "bob", to="sam")  # support: no opportunity rights
    assert call(client, "GET", f"/records/opportunity/{opp['id']}", "sam").status_code == 403
    [item] = pending_items(client, "sam")
    assert item["record_name"] == "Deal" and item["mode"] == "any"
    assert call(client, "GET", f"/approvals/{request['id']}", "sam").status_code == 200
    assert call(client, "GET", f"/approvals/{request['id']}", "tina").status_code == 404
    assert act(client, request["id"], "approve", "sam").get_json()["status"] == "approved"


def test_concurrent_approvals_in_an_all_step(db_url, client, flowapp, runtime):
    if not db_url.startswith("postgresql"):
        pytest.skip("concurrent approvers: PostgreSQL")
    opp = opportunity(client, discount=25)
    request = submit(client, opp).get_json()
    act(client, request["id"], "approve", "bob")
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def approve(user: str) -> None:
        try:
            barrier.wait()
            with writer(flowapp).begin() as conn:
                ctx = runtime.context(conn, load_actor(conn, user))
                approvals.act(ctx, request["id"], "approve")
        except BaseException as err:  # reported by the assertion below
            errors.append(err)

    threads = [threading.Thread(target=approve, args=(u,)) for u in ("carol", "fred")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    final = call(client, "GET", f"/approvals/{request['id']}", "alice").get_json()
    assert final["status"] == "approved"
    history = call(client, "GET", f"/records/opportunity/{opp['id']}/history").get_json()
    assert [h["new"] for h in history["history"] if h["field"] == "stage"] == ["negotiation"]
